"""Charts keep to their frame: a long title wraps onto lines of its own (the chart grows to
fit them), a control chart's week labels do not run into each other, a chart too thin to judge
says so to a screen reader, and the desk's header wraps on a phone instead of scrolling sideways."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from bot.api.figures import spc_chart
from bot.charts import (
    TICK_CHAR_WIDTH,
    TITLE_CHARS,
    TITLE_LEADING,
    WIDTH,
    Bars,
    Control,
    figure,
    svg,
)
from bot.commands.schedule import _followup_tables
from tests.browser import chromium_page
from tests.desk_helpers import desk_app

TITLE_CHAR_PX = 8.5
"""A 14px bold character's width, a little over (px)."""
LONG = ("pulse / how-was-this-week-at-work: mean per week (too few answers to judge: a typical point "
        "has 2 answers (fewer than 5))")
WEEKS = [f"2026-W{w:02d} (week of the {w}th)" for w in range(1, 31)]


def _title_lines(drawn: str) -> list[tuple[float, str]]:
    return [(float(y), unescape(text)) for y, text in
            re.findall(r'<text x="[\d.]+" y="([\d.]+)" text-anchor="middle" font-size="14"[^>]*>(.*?)</text>', drawn)]


def _height(drawn: str) -> float:
    return float(re.search(r'<svg [^>]*height="([\d.]+)"', drawn).group(1))  # type: ignore[union-attr]


def _control(title: str, labels: list[str] | None = None, **fields: Any) -> Control:
    labels = labels or ["w1", "w2", "w3"]
    return Control(title, labels, [float(i % 4) for i in range(len(labels))], 1.5, 4.0, 0.0, **fields)


@pytest.mark.parametrize("kind", ["control", "bars"])
def test_a_long_title_wraps_within_the_chart_and_the_chart_grows_to_fit_it(kind: str) -> None:
    def draw(title: str) -> str:
        return svg(_control(title) if kind == "control" else Bars(title, ["Yes", "No"], [("all", [3.0, 1.0])]))

    short, long = draw("pulse: mean per week"), draw(LONG)
    lines = _title_lines(long)
    assert len(lines) == 2, lines
    assert all(len(text) <= TITLE_CHARS and len(text) * TITLE_CHAR_PX <= WIDTH - 16 for _, text in lines), lines
    assert " ".join(text for _, text in lines) == LONG, "wrapped at spaces, nothing lost"
    assert lines[1][0] - lines[0][0] == TITLE_LEADING
    assert re.search(r'<title id="c\d+t">(.*?)</title>', long).group(1) == LONG, "named in full"  # type: ignore[union-attr]
    assert _height(long) == _height(short) + TITLE_LEADING, "the chart grows by the extra line"
    assert f'<g transform="translate(0 {TITLE_LEADING})">' in long, "the drawing moves down below the title"
    assert len(_title_lines(short)) == 1 and "transform=\"translate" not in short


def test_a_title_too_long_for_three_lines_is_cut_short_but_named_in_full() -> None:
    title = " ".join(["a very long chart title"] * 20)
    drawn = svg(_control(title))
    lines = _title_lines(drawn)
    assert len(lines) == 3 and lines[-1][1].endswith("…") and all(len(t) <= TITLE_CHARS for _, t in lines)
    assert f">{title}</title>" in drawn


def test_a_downloaded_png_keeps_its_long_title_inside_the_picture() -> None:
    fig = figure(_control(LONG))
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    fig.canvas.draw()
    title = fig.axes[0].title
    box = title.get_window_extent(renderer)
    assert title.get_text().count("\n") == 1
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width and box.y1 <= fig.bbox.height


def test_many_week_labels_do_not_overlap_and_each_point_keeps_its_label() -> None:
    drawn = svg(_control("Waits", WEEKS))
    shown = [(float(x), unescape(text)) for x, text in re.findall(r'<text x="([\d.]+)" y="268" text-anchor="middle" font-size="10">(.*?)</text>', drawn)]
    assert 1 < len(shown) < len(WEEKS) and shown[0][1] == WEEKS[0]
    for (x0, a), (x1, b) in zip(shown, shown[1:], strict=False):
        assert x1 - x0 >= (len(a) + len(b)) / 2 * TICK_CHAR_WIDTH, (a, b)
    assert all(x - len(t) * TICK_CHAR_WIDTH / 2 >= 0 and x + len(t) * TICK_CHAR_WIDTH / 2 <= WIDTH for x, t in shown)
    assert all(f"<title>{week}: " in drawn for week in WEEKS), "every point's tooltip names its week"


def test_a_downloaded_control_chart_names_weeks_without_overlap() -> None:
    fig = figure(_control("Waits", [f"2026-{m:02d}-{d:02d}" for m in (9, 10, 11) for d in (1, 8, 15, 22)]))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    boxes = sorted((label.get_window_extent(renderer) for label in fig.axes[0].get_xticklabels() if label.get_text()),
                   key=lambda box: box.x0)
    assert len(boxes) > 1
    assert all(left.x1 < right.x0 for left, right in zip(boxes, boxes[1:], strict=False)), [(b.x0, b.x1) for b in boxes]


def test_a_control_chart_too_thin_to_judge_says_so_in_its_description() -> None:
    measure = {"flow": "wk2", "step": "score", "measure": "mean", "period": "week", "periods": ["2030-01-07", "2030-01-14"],
               "values": [3.0, 9.0], "mean": 6.0, "upper": 10.0, "lower": 0.0, "direction": ["", "high"],
               "too_few": "only 2 points (fewer than 8)"}
    described = re.search(r"<desc [^>]*>(.*?)</desc>", svg(spc_chart(measure, fit=True))).group(1)  # type: ignore[union-attr]
    assert described.endswith("Too few answers to judge: only 2 points (fewer than 8); no point is marked as special cause.")
    judged = re.search(r"<desc [^>]*>(.*?)</desc>", svg(spc_chart({**measure, "too_few": None}))).group(1)  # type: ignore[union-attr]
    assert "Too few" not in judged and judged.endswith("Special cause: 2030-01-14 (high).")


def test_analyse_evaluation_says_it_counts_per_send(capsys: pytest.CaptureFixture[str]) -> None:
    row = {"flow": "pulse", "group": "all", "asked": 36, "people": 6, "answered": 30, "response_rate": 100 * 30 / 36,
           **{f"not_answered_{k}": 0 for k in ("open", "closed", "replaced", "stopped", "ended")}}
    _followup_tables([row], [], [])
    printed = capsys.readouterr().out
    assert "counted per send" in printed and "sent: the times it was sent" in printed
    assert "asked: a session" not in printed
    header = next(line.split() for line in printed.splitlines() if line.startswith("flow "))
    assert header[:5] == ["flow", "group", "sent", "answered", "rate"]


@pytest.mark.browser
def test_the_desk_header_wraps_on_a_phone_instead_of_scrolling_sideways(tmp_path: Path) -> None:
    css = (Path(__file__).resolve().parent.parent / "bot" / "dashboard" / "static" / "desk.css").read_text()
    with desk_app(tmp_path) as desk:
        desk.client.post("/login", data={"token": desk.token(name="coordinator of the evaluation")})
        html = desk.client.get("/dashboard/studies/ae-waiting/evaluation").text
    html = html.replace('<link rel="stylesheet" href="/desk-static/desk.css">', f"<style>{css}</style>")
    html = html.replace('<script src="/desk-static/desk.js" defer></script>', "")
    with chromium_page() as page:
        page.set_viewport_size({"width": 380, "height": 800})
        page.set_content(html)
        widths = page.evaluate("[document.documentElement.scrollWidth, document.querySelector('header.top').scrollWidth,"
                               " document.querySelector('.who button').getBoundingClientRect().right]")
    assert max(widths) <= 380, widths
