"""``GET /media/{id}``: the images the bot sends, for providers that fetch them by URL.

Twilio fetches a WhatsApp message's ``MediaUrl`` itself, with no credentials of ours, so
the link is signed and expires instead (:mod:`channels.media_links`): a forged, altered or
expired link gets 403, and the URL names nothing but a row id and a time.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from channels.media_links import PATH, MediaLinks, derive_key
from storage import media

log = logging.getLogger("chorus.media")
router = APIRouter(tags=["media"])


def media_links(app: FastAPI, public_url: str | None = None) -> MediaLinks:
    """The app's link signer (made once), keyed from the server's secret; ``public_url``
    (CHORUS_PUBLIC_URL) is where Twilio reaches us."""
    found: MediaLinks | None = getattr(app.state, "media_links", None)
    if found is None or (public_url and not found.public_url):
        settings = app.state.chorus.settings
        found = MediaLinks(derive_key(settings.address_key()), public_url or settings.public_url or "")
        app.state.media_links = found
    return found


@router.get(PATH + "/{media_id}", include_in_schema=False)
async def get_media(media_id: int, request: Request) -> Response:
    links = media_links(request.app)
    if not links.valid(media_id, request.query_params.get("exp"), request.query_params.get("sig")):
        log.warning("media %s refused: link forged or expired", media_id)
        raise HTTPException(403, "this link is not valid")
    database = request.app.state.chorus.database

    def load() -> media.StoredMedia | None:
        with database.transaction() as connection:
            return media.load(connection, media_id)

    found = await run_in_threadpool(load)
    if found is None:
        raise HTTPException(404, "no such media")
    return Response(found.data, media_type=found.content_type, headers={"Cache-Control": "private, max-age=3600"})


def install(app: FastAPI) -> None:
    app.include_router(router)
