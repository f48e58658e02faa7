"""Charts for the dashboard: one description, drawn as inline SVG (by hand: small, fast,
accessible, no scripts) or as PNG (matplotlib's Agg backend) for downloading.

Three kinds cover the desk: grouped bars (distributions, funnels), estimates with
intervals (rankings, pairwise scores, choice models) and XmR control charts.
Colours are the Okabe-Ito palette, which colour-blind readers can tell apart.

Row labels are the words participants saw, which can be long: the label column widens to fit
them (up to a limit, past which a label wraps onto a second line, and only past that is cut
short with an ellipsis) and each label's tooltip gives it in full, with its code when that
differs; a PNG wraps its labels too, and centres its title on the picture. A title too long
for one line is wrapped onto two or three (the chart grows to fit them); a control chart's
x-axis names every k-th point when all of them would overlap (each point's tooltip names it).

A screen reader reads a chart as one image: its title and its ``<desc>``, a sentence per bar,
row or summary ("consent: reached 3."), each label said once. The drawing itself is hidden from
it, and a bar's or a point's tooltip names only what its row does not already show.
"""

from __future__ import annotations

import io
import itertools
import math
import textwrap
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
SPECIAL_HIGH, SPECIAL_LOW, COMMON = "#E69F00", "#0072B2", "#7f7f7f"
WIDTH, LEFT, RIGHT, TOP = 640, 150, 20, 40
MAX_LEFT = 300
"""The widest the label column grows (px); longer labels wrap onto a second line."""
CHAR_WIDTH = 6.5
"""A 12px system-ui character's width, near enough (px)."""
PNG_LABEL = 36
"""Characters of a line of a PNG's row label (two lines at most, then cut short)."""
LABEL_LINES, LABEL_LEADING = 2, 13
"""At most this many lines of a row label, this far apart (px)."""
TITLE_CHARS = 72
"""Characters of a 14px bold title that fit on one line across the chart (and of an 11pt PNG title)."""
TITLE_LINES, TITLE_LEADING = 3, 18
"""At most this many lines of title, this far apart (px); past them the title is cut short."""
TICK_CHAR_WIDTH = 6.4
"""A 10px character's width (a digit's, the widest of a date), near enough (px)."""
_IDS = itertools.count(1)


@dataclass(frozen=True)
class Bars:
    title: str
    categories: list[str]
    series: list[tuple[str, list[float]]]
    horizontal: bool = True
    axis: str = "people"
    codes: list[str] = field(default_factory=list)
    """Per category: the code behind its label, for the tooltip (none: the label is the code)."""


@dataclass(frozen=True)
class Intervals:
    title: str
    rows: list[tuple[str, float, float | None, float | None]]
    """(label, estimate, low, high), drawn top to bottom; low and high None: no interval (a point alone)."""
    axis: str = "score"
    reference: float | None = None
    codes: list[str] = field(default_factory=list)
    """Per row: the code behind its label, for the tooltip (none: the label is the code)."""
    note: str = ""
    """Why some rows have no interval, said in the description; '' when every row has one."""


@dataclass(frozen=True)
class Control:
    title: str
    labels: list[str]
    values: list[float]
    mean: float
    upper: float
    lower: float
    direction: list[str] = field(default_factory=list)
    """Per point: 'high', 'low' (special cause) or ''."""
    axis: str = "value"
    note: str = ""
    """Why no point is judged (too few points or answers), said in the description; '' when judged."""


Chart = Bars | Intervals | Control


def _fmt(value: float) -> str:
    """A number as a chart's words say it: "1.5", "-0.27", "3"; never "-0." or "2." for a value
    within half a hundredth of a whole number, nor "-0"."""
    shown = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if shown == "-0" else shown


def title_lines(title: str) -> list[str]:
    """``title`` wrapped at its spaces into lines of :data:`TITLE_CHARS` at most, no more than
    :data:`TITLE_LINES` of them (the last cut short with an ellipsis when even they are too few)."""
    lines = textwrap.wrap(title, TITLE_CHARS, break_on_hyphens=False) or [""]
    if len(lines) > TITLE_LINES:
        lines = [*lines[: TITLE_LINES - 1], shorten(" ".join(lines[TITLE_LINES - 1 :]), TITLE_CHARS)]
    return lines


def _frame(title: str, height: int, body: list[str], description: str) -> str:
    """The chart's SVG: named by its title and described by ``description`` (what a screen
    reader says); the drawing, whose labels and tooltips repeat both, is hidden from it. A
    title of several lines moves the drawing down and makes the chart that much taller."""
    uid = f"c{next(_IDS)}"  # unique ids: many charts share a page
    lines = title_lines(title)
    extra = TITLE_LEADING * (len(lines) - 1)
    heading = "".join(f'<text x="{WIDTH / 2}" y="{20 + TITLE_LEADING * i}" text-anchor="middle" font-size="14" font-weight="600">'
                      f"{escape(line)}</text>" for i, line in enumerate(lines))
    drawing = "".join(body) if not extra else f'<g transform="translate(0 {extra})">{"".join(body)}</g>'
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height + extra}" width="{WIDTH}" height="{height + extra}" '
            f'role="img" aria-labelledby="{uid}t {uid}d" class="chart" font-family="system-ui, sans-serif" font-size="12">'
            f'<title id="{uid}t">{escape(title)}</title><desc id="{uid}d">{escape(description)}</desc>'
            f'<g aria-hidden="true"><rect width="100%" height="100%" fill="#fff"/>{heading}{drawing}</g></svg>')


def bars_description(chart: Bars) -> str:
    """A sentence per category, its label said once: "consent: reached 3." with one series,
    "Yes: all 3, patient 2, staff 1." with several."""
    sentences = []
    for c, category in enumerate(chart.categories):
        values = ", ".join(f"{name} {_fmt(values[c] if c < len(values) else 0.0)}" for name, values in chart.series)
        sentences.append(f"{category}: {values or 'nothing'}.")
    return " ".join(sentences)


def _spread(estimate: float, lo: float | None, hi: float | None) -> str:
    """"1.2 (0.5 to 1.9)", or "1.2 (no interval)"."""
    return f"{_fmt(estimate)} ({'no interval' if lo is None or hi is None else f'{_fmt(lo)} to {_fmt(hi)}'})"


def intervals_description(chart: Intervals) -> str:
    """A sentence per row: "Waiting for a visit: 1.2 (0.5 to 1.9)."; then why any has no interval."""
    rows = " ".join(f"{label}: {_spread(estimate, lo, hi)}." for label, estimate, lo, hi in chart.rows)
    return f"{rows} No interval: {chart.note}." if chart.note else rows


def control_description(chart: Control) -> str:
    """The limits, then the points of special cause by their labels (a chart of 50 weeks
    read out point by point would say little), or why none is judged."""
    n = len(chart.values)
    special = [(chart.labels[i] if i < len(chart.labels) else str(i + 1), kind) for i, kind in enumerate(chart.direction) if kind]
    summary = (f"{n} point{'' if n == 1 else 's'}, mean {_fmt(chart.mean)}, "
               f"process limits {_fmt(chart.lower)} to {_fmt(chart.upper)}.")
    if chart.note:
        return f"{summary} Too few answers to judge: {chart.note}; no point is marked as special cause."
    if not special:
        return f"{summary} No point is marked as special cause."
    named = ", ".join(f"{label} ({kind})" for label, kind in special)
    return f"{summary} Special cause: {named}."


def label_step(labels: list[str], spacing: float, char_width: float = TICK_CHAR_WIDTH) -> int:
    """Name every k-th point along an axis: the smallest k that keeps the widest of ``labels``
    (``char_width`` px a character) from running into the next named one, ``spacing`` px apart."""
    widest = max((len(label) for label in labels), default=0) * char_width + 8
    return max(1, math.ceil(widest / spacing)) if spacing > 0 else 1


def _label_column(labels: list[str]) -> float:
    """How wide the label column must be (px) for ``labels``: LEFT at least, MAX_LEFT at most."""
    longest = max((len(label) for label in labels), default=0)
    return min(MAX_LEFT, max(LEFT, longest * CHAR_WIDTH + 12))


def shorten(label: str, limit: int) -> str:
    """``label``, cut to ``limit`` characters with an ellipsis when it is longer."""
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def label_lines(label: str, limit: int) -> list[str]:
    """``label`` as it fits lines of ``limit`` characters: one, or wrapped at its spaces onto
    :data:`LABEL_LINES`, the last cut short with an ellipsis when even they are too few."""
    if len(label) <= limit:
        return [label]
    lines = textwrap.wrap(label, limit, break_on_hyphens=False) or [shorten(label, limit)]
    if len(lines) > LABEL_LINES:
        lines = [*lines[: LABEL_LINES - 1], shorten(" ".join(lines[LABEL_LINES - 1 :]), limit)]
    return lines


def _row_label(label: str, code: str | None, x: float, y: float, width: float) -> str:
    """A right-aligned row label ending at ``x``, wrapped to fit ``width`` px (:func:`label_lines`),
    centred on ``y``; the full label and its code in the tooltip."""
    limit = max(4, int((width - 12) / CHAR_WIDTH))
    tip = label if code is None or code == label else f"{label} (code: {code})"
    lines = label_lines(label, limit)
    if len(lines) == 1:
        shown = escape(lines[0])
    else:
        first = y - LABEL_LEADING * (len(lines) - 1) / 2
        shown = "".join(f'<tspan x="{x}" y="{first + LABEL_LEADING * i:.1f}">{escape(line)}</tspan>' for i, line in enumerate(lines))
    return f'<text x="{x}" y="{y}" text-anchor="end">{shown}<title>{escape(tip)}</title></text>'


def _code(codes: list[str], index: int) -> str | None:
    return codes[index] if index < len(codes) else None


def _scale(low: float, high: float, start: float, end: float) -> tuple[float, float]:
    """Slope and offset mapping [low, high] onto [start, end]."""
    span = (high - low) or 1.0
    slope = (end - start) / span
    return slope, start - low * slope


def _legend(series: list[tuple[str, list[float]]], y: float) -> list[str]:
    if len(series) < 2:
        return []
    items, x = [], LEFT
    for i, (name, _) in enumerate(series):
        items.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>'
                     f'<text x="{x + 14}" y="{y}">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    return items


def columns_svg(chart: Bars) -> str:
    """Upright bars: categories along the bottom (a rating scale reads best this way)."""
    height, bottom, left = 280, 220, 50
    n_series = max(1, len(chart.series))
    band = (WIDTH - left - RIGHT) / max(1, len(chart.categories))
    width = max(4.0, (band - 8) / n_series)
    top = max([v for _, values in chart.series for v in values] + [1.0])
    slope, offset = _scale(0, top, bottom, TOP + 10)
    body = [f'<line x1="{left}" x2="{WIDTH - RIGHT}" y1="{bottom}" y2="{bottom}" stroke="#999"/>']
    for c, category in enumerate(chart.categories):
        x0 = left + c * band + 4
        body.append(f'<text x="{x0 + band / 2 - 4:.1f}" y="{bottom + 16}" text-anchor="middle">{escape(category)}</text>')
        for s, (name, values) in enumerate(chart.series):
            value = values[c] if c < len(values) else 0.0
            y = value * slope + offset
            x = x0 + s * width
            body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{width - 1:.1f}" height="{bottom - y:.1f}" fill="{PALETTE[s % len(PALETTE)]}">'
                        f'<title>{escape(name)}: {_fmt(value)}</title></rect>')
            if value:
                body.append(f'<text x="{x + width / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" font-size="10">{_fmt(value)}</text>')
    body.append(f'<text x="{(left + WIDTH) / 2}" y="{bottom + 36}" text-anchor="middle" fill="#444">{escape(chart.axis)}</text>')
    body += _legend(chart.series, bottom + 54)
    return _frame(chart.title, height, body, bars_description(chart))


def bars_svg(chart: Bars) -> str:
    if not chart.horizontal:
        return columns_svg(chart)
    n_series = max(1, len(chart.series))
    band = 8 + 14 * n_series
    height = TOP + band * len(chart.categories) + 50
    top = max([v for _, values in chart.series for v in values] + [1.0])
    left = _label_column(chart.categories)
    slope, offset = _scale(0, top, left, WIDTH - RIGHT - 30)
    body = []
    for c, category in enumerate(chart.categories):
        y0 = TOP + c * band
        body.append(_row_label(category, _code(chart.codes, c), left - 6, y0 + band / 2 + 4, left))
        for s, (name, values) in enumerate(chart.series):
            value = values[c] if c < len(values) else 0.0
            y = y0 + 4 + s * 14
            width = max(0.0, value * slope + offset - left)
            body.append(f'<rect x="{left}" y="{y}" width="{width:.1f}" height="12" fill="{PALETTE[s % len(PALETTE)]}">'
                        f'<title>{escape(name)}: {_fmt(value)}</title></rect>'
                        f'<text x="{left + width + 4:.1f}" y="{y + 10}" font-size="11">{_fmt(value)}</text>')
    axis_y = TOP + band * len(chart.categories) + 16
    body.append(f'<text x="{(left + WIDTH) / 2}" y="{axis_y}" text-anchor="middle" fill="#444">{escape(chart.axis)}</text>')
    body += _legend(chart.series, axis_y + 20)
    return _frame(chart.title, height, body, bars_description(chart))


def intervals_svg(chart: Intervals) -> str:
    band = 26
    height = TOP + band * len(chart.rows) + 40
    values = [v for _, e, lo, hi in chart.rows for v in (e, lo, hi) if v is not None] + ([chart.reference] if chart.reference is not None else [])
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    pad = (high - low) * 0.05 or 1.0
    left = _label_column([r[0] for r in chart.rows])
    slope, offset = _scale(low - pad, high + pad, left, WIDTH - RIGHT)
    body = []
    if chart.reference is not None:
        x = chart.reference * slope + offset
        body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP - 6}" y2="{height - 30}" stroke="#bbb" stroke-dasharray="4 3"/>')
    for r, (label, estimate, lo, hi) in enumerate(chart.rows):
        y = TOP + r * band + band / 2
        bar = ("" if lo is None or hi is None else
               f'<line x1="{lo * slope + offset:.1f}" x2="{hi * slope + offset:.1f}" y1="{y}" y2="{y}" stroke="{PALETTE[0]}" stroke-width="2"/>')
        body.append(_row_label(label, _code(chart.codes, r), left - 6, y + 4, left) + bar +
                    f'<circle cx="{estimate * slope + offset:.1f}" cy="{y}" r="5" fill="{PALETTE[0]}">'
                    f'<title>{_spread(estimate, lo, hi)}</title></circle>')
    body.append(f'<text x="{(left + WIDTH) / 2}" y="{height - 12}" text-anchor="middle" fill="#444">{escape(chart.axis)}</text>')
    return _frame(chart.title, height, body, intervals_description(chart))


def control_svg(chart: Control) -> str:
    height, bottom, left = 300, 250, 60
    values = [*chart.values, chart.upper, chart.lower, chart.mean]
    low, high = min(values), max(values)
    pad = (high - low) * 0.08 or 1.0
    ys, yo = _scale(low - pad, high + pad, bottom, TOP)
    n = len(chart.values)
    xs, xo = _scale(0, max(1, n - 1), left + 10, WIDTH - RIGHT - 10)
    body = []
    for value, name, dash in ((chart.upper, "upper limit", "6 4"), (chart.mean, "mean", ""), (chart.lower, "lower limit", "6 4")):
        y = value * ys + yo
        body.append(f'<line x1="{left}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#555" stroke-dasharray="{dash}"/>'
                    f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{_fmt(value)}</text>'
                    f'<text x="{WIDTH - RIGHT}" y="{y - 3:.1f}" text-anchor="end" font-size="10" fill="#555">{name}</text>')
    points = " ".join(f"{i * xs + xo:.1f},{v * ys + yo:.1f}" for i, v in enumerate(chart.values))
    body.append(f'<polyline points="{points}" fill="none" stroke="{COMMON}" stroke-width="1.5"/>')
    for i, v in enumerate(chart.values):
        kind = chart.direction[i] if i < len(chart.direction) else ""
        colour = SPECIAL_HIGH if kind == "high" else SPECIAL_LOW if kind == "low" else COMMON
        label = chart.labels[i] if i < len(chart.labels) else str(i + 1)
        body.append(f'<circle cx="{i * xs + xo:.1f}" cy="{v * ys + yo:.1f}" r="4" fill="{colour}" class="{kind or "common"}">'
                    f'<title>{escape(label)}: {_fmt(v)}{" (special cause, " + kind + ")" if kind else ""}</title></circle>')
    for x, label in _x_labels(chart.labels[:n], xs, xo):
        body.append(f'<text x="{x:.1f}" y="{bottom + 18}" text-anchor="middle" font-size="10">{escape(label)}</text>')
    body.append(f'<text x="14" y="{(TOP + bottom) / 2}" transform="rotate(-90 14 {(TOP + bottom) / 2})" text-anchor="middle" fill="#444">{escape(chart.axis)}</text>')
    return _frame(chart.title, height, body, control_description(chart))


def _x_labels(labels: list[str], slope: float, offset: float) -> list[tuple[float, str]]:
    """(x, label) of the points named along the x-axis: every k-th (:func:`label_step`), each
    kept inside the chart, and one the first or last would then touch left out."""
    shown: list[tuple[float, str]] = []
    right = -math.inf
    for i in range(0, len(labels), label_step(labels, slope)):
        half = len(labels[i]) * TICK_CHAR_WIDTH / 2
        x = min(max(i * slope + offset, half + 2), WIDTH - 2 - half)
        if x - half >= right + 8:
            shown.append((x, labels[i]))
            right = x + half
    return shown


def svg(chart: Chart) -> str:
    if isinstance(chart, Bars):
        return bars_svg(chart)
    if isinstance(chart, Intervals):
        return intervals_svg(chart)
    return control_svg(chart)


def png(chart: Chart) -> bytes:
    """The same chart drawn by matplotlib (Agg), for a download."""
    buffer = io.BytesIO()
    figure(chart).savefig(buffer, format="png")
    return buffer.getvalue()


def figure(chart: Chart) -> Figure:
    """The matplotlib figure :func:`png` saves: its title wrapped as the SVG's is, the figure
    taller by a line for each line more (of the title, or half a row for a row label's)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    labels = chart.categories if isinstance(chart, Bars) and chart.horizontal else [r[0] for r in chart.rows] if isinstance(chart, Intervals) else None
    rows = 6.0 if labels is None else len(labels) + sum(len(label_lines(label, PNG_LABEL)) - 1 for label in labels) / 2
    lines = title_lines(chart.title)
    fig = Figure(figsize=(7.0, max(3.0, 0.9 + 0.35 * rows) + 0.2 * (len(lines) - 1)), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    if isinstance(chart, Bars):
        _bars_png(ax, chart)
    elif isinstance(chart, Intervals):
        _intervals_png(ax, chart)
    else:
        _control_png(ax, chart)
    ax.set_title("\n".join(lines), fontsize=11)
    fig.tight_layout()
    box = ax.get_position()  # long row labels push the axes right: centre the title on the picture instead
    ax.title.set_x((0.5 - box.x0) / box.width if box.width else 0.5)
    return fig


def _png_label(label: str) -> str:
    return "\n".join(label_lines(label, PNG_LABEL))


def _bars_png(ax: Axes, chart: Bars) -> None:
    n = max(1, len(chart.series))
    height = 0.8 / n
    if all(float(v).is_integer() for _, values in chart.series for v in values):  # counts: no 0.2 of a person
        from matplotlib.ticker import MaxNLocator

        (ax.xaxis if chart.horizontal else ax.yaxis).set_major_locator(MaxNLocator(integer=True))
    if not chart.horizontal:
        for s, (name, values) in enumerate(chart.series):
            xs = [c + s * height for c in range(len(chart.categories))]
            ax.bar(xs, values, width=height, color=PALETTE[s % len(PALETTE)], label=name)
        ax.set_xticks([c + 0.4 - height / 2 for c in range(len(chart.categories))], chart.categories)
        ax.set_xlabel(chart.axis)
        if n > 1:
            ax.legend(fontsize=8)
        return
    for s, (name, values) in enumerate(chart.series):
        ys = [c + s * height for c in range(len(chart.categories))]
        ax.barh(ys, values, height=height, color=PALETTE[s % len(PALETTE)], label=name)
    ax.set_yticks([c + 0.4 - height / 2 for c in range(len(chart.categories))], [_png_label(c) for c in chart.categories])
    ax.invert_yaxis()
    ax.set_xlabel(chart.axis)
    if n > 1:
        ax.legend(fontsize=8)


def _intervals_png(ax: Axes, chart: Intervals) -> None:
    for r, (_, estimate, low, high) in enumerate(chart.rows):
        if low is not None and high is not None:
            ax.plot([low, high], [r, r], color=PALETTE[0])
        ax.plot([estimate], [r], "o", color=PALETTE[0])
    if chart.reference is not None:
        ax.axvline(chart.reference, color="#bbb", linestyle="--")
    ax.set_yticks(range(len(chart.rows)), [_png_label(r[0]) for r in chart.rows])
    ax.invert_yaxis()
    ax.set_xlabel(chart.axis)


def _control_png(ax: Axes, chart: Control) -> None:
    x = list(range(len(chart.values)))
    ax.plot(x, chart.values, color=COMMON, marker="o", markersize=4)
    for i, kind in enumerate(chart.direction):
        if kind:
            ax.plot([i], [chart.values[i]], "o", color=SPECIAL_HIGH if kind == "high" else SPECIAL_LOW)
    ax.axhline(chart.mean, color="#555")
    for limit in (chart.upper, chart.lower):
        ax.axhline(limit, color="#555", linestyle="--")
    # 8pt at 100 dpi is about 7px a digit; the axes span about 560px of the 700px figure
    step = label_step(chart.labels, 560 / max(1, len(x) - 1), char_width=7.0)
    ax.set_xticks(x[::step], chart.labels[::step], fontsize=8)
    ax.set_ylabel(chart.axis)
