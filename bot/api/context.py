"""What every desk route needs: the principal, the app's shared state, the study asked for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Depends, Path, Query, Request

from bot.auth import Desk, api_principal, desk_of, visible_study
from flows.loader import LoadedStudy
from storage.auth import Principal
from storage.database import Database

LIMIT = Query(100, ge=1, le=500, description="Rows per page (at most 500).")
CURSOR = Query(None, max_length=64, description="next_cursor from the previous page.")
ID = Path(ge=1, le=2**31 - 1, description="A row id.")


@dataclass
class Ctx:
    request: Request
    principal: Principal
    desk: Desk

    @property
    def chorus(self) -> Any:
        from bot.app import chorus_of

        return chorus_of(self.request)

    @property
    def database(self) -> Database:
        database: Database = self.chorus.database
        return database

    def now(self) -> datetime:
        return self.desk.clock()

    def audit(self, what: str, study_id: str, **detail: Any) -> None:
        from bot.api.queries import audit_view

        audit_view(self.database, self.principal.actor, what, study_id, self.now(), **detail)


@dataclass
class StudyCtx(Ctx):
    loaded: LoadedStudy

    @property
    def study_id(self) -> str:
        return self.loaded.study.study


def api_context(request: Request, principal: Principal = Depends(api_principal)) -> Ctx:
    return Ctx(request, principal, desk_of(request))


def api_study(study_id: str, ctx: Ctx = Depends(api_context)) -> StudyCtx:
    loaded = visible_study(ctx.request, ctx.principal, study_id)
    return StudyCtx(ctx.request, ctx.principal, ctx.desk, loaded)
