"""Dashboard pages for running a study: evaluation over time (XmR), alerts to
acknowledge, held messages and exports."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import HTMLResponse, RedirectResponse

from bot.api import figures, queries, reports
from bot.api.context import CURSOR, ID, StudyCtx
from bot.auth import require_change
from bot.commands.outbox import retry_failed
from bot.dashboard.render import (
    groups_in_study_order,
    in_study_order_within,
    inline,
    page_study,
    render,
)
from flows.model import Study

router = APIRouter(include_in_schema=False)
BASE = "/dashboard/studies/{study_id}"
FAILED_WITHIN = timedelta(days=7)
"""How far back the held page offers to send failed messages again (``chorus outbox retry --since``)."""
ALERT_KINDS = {"safeguarding": "Safeguarding", "after_end": "Message after the end", "planning": "Follow-up not planned",
               "moderation": "To moderate", "max_tries": "No clear answer", "loop": "Runaway flow",
               "template_error": "Error in a flow's text", "voice_failed": "Voice note not heard",
               "voice_skipped": "Voice note skipped"}
"""The kinds of alert in words; the internal name stays on the page (class, ``data-kind``, tooltip)."""
RULES = {"outside": "a point outside the process limits", "shift": "7 or more points in a row on one side of the mean",
         "trend": "6 or more points in a row rising or falling", "two_of_three": "2 of 3 points beyond two sigma"}


@router.get(BASE + "/evaluation", response_class=HTMLResponse)
def evaluation_page(s: StudyCtx = Depends(page_study), period: Literal["day", "week", "month"] = "week") -> HTMLResponse:
    from bot.evaluation import followups  # on first use, as the reports load their analyses

    # who answered each follow-up, and the same people before and after (not per period)
    found = followups(s.database, s.study_id, "month", s.loaded.study.timezone)
    measures = reports.report(s.database, s.loaded, "spc", period)
    study = s.loaded.study
    # the follow-ups' questions and the FFT and SUS: a joining flow's questions are no result (listed, not charted)
    shown = [(_groups_in_order(m, study), inline(figures.spc_chart(m, fit=True))) for m in measures if found.flows.charted(m)]
    others = [m for m in measures if not found.flows.charted(m)]
    # Everyone first, then the study's groups in its order, as on every other tab
    responses = in_study_order_within(found.responses, study, "flow")
    paired = in_study_order_within(found.paired, study, "measure", "before_flow", "after_flow", "repeated")
    return render(s, "evaluation.html", "evaluation", measures=shown, period=period, rules=RULES, others=others,
                  responses=responses, paired=paired, titles=found.titles, weeks=week_tables(found.weeks, study),
                  follow_ups=[f for f in found.titles if f in found.flows])


def week_tables(weeks: list[dict[str, Any]], study: Study) -> list[tuple[str, list[tuple[str, list[dict[str, Any]]]]]]:
    """A repeating follow-up's weeks (bot.evaluation.FollowUps.weeks) as the page's tables: per
    flow, each group's weeks (Everyone first, then the study's groups in its order), earliest first."""
    tables: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for row in in_study_order_within(weeks, study, "flow"):
        tables.setdefault(row["flow"], {}).setdefault(row["group"], []).append(row)
    return [(flow, [(group, sorted(rows, key=lambda r: r["week"])) for group, rows in groups.items()])
            for flow, groups in tables.items()]


def _groups_in_order(measure: dict[str, Any], study: Study) -> dict[str, Any]:
    """A measure over time with its per-group columns in the study's order of groups."""
    groups = measure.get("groups") or {}
    return {**measure, "groups": {g: groups[g] for g in groups_in_study_order(list(groups), study)}}


@router.get(BASE + "/alerts", response_class=HTMLResponse)
def alerts_page(s: StudyCtx = Depends(page_study), cursor: str | None = CURSOR, open_only: bool = False,
                kind: str | None = Query(None, max_length=40, pattern=r"^[a-z_]+$")) -> HTMLResponse:
    """Alerts, newest first; ``kind`` shows one kind only (``after_end``: what people wrote
    after their conversation ended, a correction or the rest of an answer)."""
    page = queries.flags_page(s.database, s.study_id, 100, cursor, open_only, kind)
    s.audit("flags", s.study_id, rows=len(page.items))
    return render(s, "alerts.html", "alerts", page=page, open_only=open_only, kind=kind, kind_words=kind_words,
                  may_be_abusive=may_be_abusive)


def may_be_abusive(alert: dict[str, Any]) -> bool:
    """Whether a "to moderate" alert is of a statement or idea whose wording may be abusive
    (bot/population.py notes it in the alert; the page marks it so it stands out in the list)."""
    from nlp.abuse import ABUSE_MARK

    return alert.get("kind") == "moderation" and f"({ABUSE_MARK}:" in str(alert.get("message") or "")


def kind_words(kind: str) -> str:
    """A kind of alert as the Alerts page names it: 'Message after the end' for ``after_end``; a kind
    not listed in ALERT_KINDS reads as its name in words ('delivery_failed': 'Delivery failed')."""
    return ALERT_KINDS.get(kind) or kind.replace("_", " ").capitalize()


@router.post(BASE + "/alerts/{flag_id}/acknowledge")
def acknowledge_page(flag_id: int = ID, s: StudyCtx = Depends(page_study)) -> RedirectResponse:
    require_change(s.principal)
    if not queries.acknowledge_flag(s.database, s.study_id, flag_id, s.principal.actor, s.now()):
        raise HTTPException(404, f"no alert {flag_id} in this study")
    return RedirectResponse(f"/dashboard/studies/{s.study_id}/alerts", status_code=303)


@router.get(BASE + "/held", response_class=HTMLResponse)
def held_page(s: StudyCtx = Depends(page_study), cursor: str | None = CURSOR, retried: int | None = None) -> HTMLResponse:
    page = queries.held_page(s.database, s.study_id, 100, cursor)
    with s.database.read_transaction() as connection:
        failed = retry_failed(connection, s.now(), s.principal.actor, FAILED_WITHIN, s.study_id, dry_run=True)
    s.audit("held_messages", s.study_id, rows=len(page.items))
    return render(s, "held.html", "held", page=page, failed=failed, retried=retried)


@router.post(BASE + "/held/retry-failed")
def retry_failed_page(s: StudyCtx = Depends(page_study)) -> RedirectResponse:
    """Send again the failed messages that may go (as ``chorus outbox retry --since 7d --study``)."""
    require_change(s.principal)
    with s.database.transaction() as connection:
        report = retry_failed(connection, s.now(), s.principal.actor, FAILED_WITHIN, s.study_id)
    return RedirectResponse(f"/dashboard/studies/{s.study_id}/held?retried={sum(report.queued.values())}", status_code=303)


@router.get(BASE + "/exports", response_class=HTMLResponse)
def exports_page(s: StudyCtx = Depends(page_study)) -> HTMLResponse:
    return render(s, "exports.html", "exports")
