"""Erasing a participant from the desk's API: ``POST /api/v1/participants/{id}/erase``.

A coordinator (or admin) token may erase a participant enrolled in a study it can see; an
admin token may erase anyone. The participant is named by their pseudonymous id only. With
``same_number=true`` (a person's request: all Chorus knows of them) the participant of the same
phone number on the other channel (SMS and WhatsApp, bot/same_number.py) is erased too, where
the token may see every study they are in; one it may not see is left alone, unnamed, and
counted (``same_number_left``) so that the coordinator knows to ask an admin to finish the
person's request.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from sqlalchemy import select

from bot.api.context import Ctx, api_context
from bot.auth import require_change
from storage.tables import ENROLMENTS, PARTICIPANTS

router = APIRouter(prefix="/api/v1")
PARTICIPANT = Path(pattern=r"^p-[0-9a-f]{1,38}$", description="A pseudonymous participant id, e.g. p-3f9c0a1b2c3d4e5f.")


@router.post("/participants/{participant_id}/erase", tags=["privacy"])
def erase_participant(participant_id: str = PARTICIPANT, ctx: Ctx = Depends(api_context),
                      same_number: bool = Query(False, description="Also erase the same phone number on the other "
                                                                   "channel (SMS/WhatsApp), in studies this token may see."),
                      ) -> dict[str, Any]:
    """Delete everything about one participant (contact details, fields, answers, voice notes,
    transcripts, messages) at once and for good. An audit record keeps who asked and when."""
    require_change(ctx.principal)
    with ctx.database.transaction() as connection:
        exists = connection.execute(select(PARTICIPANTS.c.id).where(PARTICIPANTS.c.id == participant_id)).first() is not None
        studies = list(connection.execute(select(ENROLMENTS.c.study_id).where(ENROLMENTS.c.participant_id == participant_id)).scalars())
    allowed = ctx.principal.is_admin or (studies and all(ctx.principal.can_see(s) for s in studies))
    if not exists or not allowed:
        raise HTTPException(404, f"no participant '{participant_id}'")
    service = ctx.chorus.service
    left: list[str] = []
    if same_number:
        principal = ctx.principal
        people = service.erase_person(participant_id, principal.actor, "coordinator", left=left,
                                      may_erase=lambda held: principal.is_admin or bool(held) and all(map(principal.can_see, held)))
    else:
        one = service.erase(participant_id, ctx.principal.actor, "coordinator")
        people = [one] if one is not None else []
    if not people:
        raise HTTPException(404, f"no participant '{participant_id}'")
    erased, *others = people
    answer: dict[str, Any] = {"participant": participant_id, "erased": True,
                              "removed": {k: v for k, v in erased.counts.items() if v}}
    if same_number:
        answer["same_number_erased"] = [other.participant_id for other in others]
        answer["same_number_left"] = len(left)  # in studies this token cannot see: an admin token erases them
    return answer
