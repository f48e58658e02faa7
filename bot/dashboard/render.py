"""Rendering pages: the Jinja2 templates, the study being viewed, inline charts, and the
helpers every template has (``chart_url``; ``group_label``, a group's name as the study gives it)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from bot import charts
from bot.api.context import Ctx, StudyCtx
from bot.api.labels import EVERYONE, group_names
from bot.auth import csrf_token, desk_of, page_principal, visible_study
from flows.analysis import rounding
from flows.model import Study, resolve_text
from storage.auth import Principal

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))


def half_up(value: float, fmt: str = "%.0f") -> float:
    """``value`` rounded half up to the decimals of ``fmt`` ('%.1f': one), for printf-style
    formats, which round halves to even: 62.5% would show as 62% beside 87.5% as 88%."""
    match = re.search(r"\.(\d+)f", fmt)
    return rounding.half_up(value, int(match.group(1)) if match else 0)


def counted(number: int, singular: str, plural: str | None = None) -> str:
    """A count with its noun agreeing: '1 person', '3 people', '1 choice set', '0 answers'."""
    return f"{number} {singular if number == 1 else plural or singular + 's'}"


def fixed(value: float, places: int = 2, signed: bool = False) -> str:
    """``value`` to ``places`` decimals ('%.2f'), with a sign when ``signed`` ('+0.25', '-1.50'),
    never a sign on a zero: a score or change that rounds to nothing is '0.00', not '-0.00'
    (nor '+0.00', which reads as a rise)."""
    shown = f"{value:{'+' if signed else ''}.{places}f}"
    return f"{0:.{places}f}" if float(shown) == 0 else shown


def signed(value: float, places: int = 2) -> str:
    """A change with its sign ('+0.25', '-1.50'), zero shown as '0.00': :func:`fixed`, signed."""
    return fixed(value, places, signed=True)


TEMPLATES.env.filters["half_up"] = half_up
TEMPLATES.env.filters["counted"] = counted
TEMPLATES.env.filters["fixed"] = fixed
TEMPLATES.env.filters["signed"] = signed
TABS = [
    ("overview", "Overview", ""), ("participants", "Participants", "/participants"), ("flows", "Flows", "/flows"),
    ("results", "Results", "/results"), ("delphi", "Delphi", "/delphi"), ("ranking", "Rankings", "/ranking"),
    ("pairwise", "Pairwise", "/pairwise"),
    ("choice", "Choice", "/choice"), ("statements", "Statements", "/statements"), ("themes", "Themes", "/themes"),
    ("evaluation", "Evaluation", "/evaluation"), ("alerts", "Alerts", "/alerts"), ("held", "Held", "/held"),
    ("exports", "Exports", "/exports"),
]


def page_context(request: Request, principal: Principal = Depends(page_principal)) -> Ctx:
    return Ctx(request, principal, desk_of(request))


def page_study(study_id: str, ctx: Ctx = Depends(page_context)) -> StudyCtx:
    loaded = visible_study(ctx.request, ctx.principal, study_id)
    return StudyCtx(ctx.request, ctx.principal, ctx.desk, loaded)


def inline(chart: charts.Chart) -> Markup:
    """An SVG chart to put straight into a page (every text in it is escaped)."""
    return Markup(charts.svg(chart))  # noqa: S704


def chart_url(study_id: str, kind: str, fmt: str, **params: Any) -> str:
    query = urlencode({k: v for k, v in {**params, "format": fmt}.items() if v is not None})
    return f"/api/v1/studies/{study_id}/charts/{kind}?{query}"


def in_study_order(rows: list[dict[str, Any]], study: Study) -> list[dict[str, Any]]:
    """Everyone's row, then each group's in the order the study lists its groups (others after,
    alphabetically), so every table on a page lists the groups alike."""
    order = {g.id: n for n, g in enumerate(study.groups)}
    return sorted(rows, key=lambda r: (r["group"] != "all", order.get(r["group"], len(order)), r["group"]))


def in_study_order_within(rows: list[dict[str, Any]], study: Study, *keys: str) -> list[dict[str, Any]]:
    """Rows of several tables in one (a follow-up's, a measure's: alike in ``keys``), each table
    kept where it first appears and its groups' rows in :func:`in_study_order`."""
    first: dict[tuple[Any, ...], int] = {}
    for row in rows:
        first.setdefault(tuple(row.get(k) for k in keys), len(first))
    order = {g.id: n for n, g in enumerate(study.groups)}
    return sorted(rows, key=lambda r: (first[tuple(r.get(k) for k in keys)], r["group"] != "all",
                                       order.get(r["group"], len(order)), r["group"]))


def groups_in_study_order(codes: list[str], study: Study) -> list[str]:
    """Group codes as :func:`in_study_order` lists their rows."""
    return [row["group"] for row in in_study_order([{"group": code} for code in codes], study)]


def group_namer(study: Study) -> Callable[[str], str]:
    """A study's group code -> its label ('all' -> 'Everyone'; a code the study does not label stays as it is)."""
    labels = group_names(study)
    return lambda group: labels.get(group, group)


def render(ctx: Ctx, template: str, tab: str | None = None, **data: Any) -> HTMLResponse:
    context: dict[str, Any] = {"principal": ctx.principal, "csrf": csrf_token(ctx.request), "tab": tab, "tabs": TABS,
                               "chart_url": chart_url, "group_label": lambda group: EVERYONE.get(group, group),
                               **data}
    if isinstance(ctx, StudyCtx):
        study = ctx.loaded.study
        context.update(study=study, study_id=study.study, title=resolve_text(study.title, study.default_language),
                       group_label=group_namer(study))
    return TEMPLATES.TemplateResponse(ctx.request, template, context)
