"""Scoring free-to-use evaluation instruments, and tracking them per group over time.

- **NHS Friends and Family Test (FFT)**: "Thinking about [service], overall how was your
  experience of our service?" with six answers. NHS England's *percentage positive* is
  (Very good + Good) / all responses, and "Don't know" counts in that total; likewise
  *percentage negative* (Poor + Very poor). A skipped question is not a response.
- **System Usability Scale (SUS)** (Brooke, 1996): ten statements answered 1-5. Odd
  items score ``answer - 1``, even items ``5 - answer``; the sum times 2.5 gives 0-100.

``track`` takes answer rows (as the answers table holds them, with the participant's
group) and gives the FFT figures and the mean SUS per group per week (ISO, Monday to Sunday,
named by its Monday), month or quarter, on the study's clock (:mod:`flows.analysis.periods`).

Which questions are these instruments? An FFT question is any choice step whose options are
the six FFT answers, by value (``very_good`` ... ``dont_know``) or by English label ("Very
good" ... "Don't know"), whatever the flow and step are called (:func:`fft_codes`). The SUS
is any flow with steps ``sus_1`` to ``sus_10``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from flows.analysis.periods import period_of

FFT_ANSWERS = ("very_good", "good", "neither", "poor", "very_poor", "dont_know")
FFT_LABELS = {
    "very_good": "Very good", "good": "Good", "neither": "Neither good nor poor",
    "poor": "Poor", "very_poor": "Very poor", "dont_know": "Don't know",
}
FFT_POSITIVE = frozenset({"very_good", "good"})
FFT_NEGATIVE = frozenset({"poor", "very_poor"})
SUS_ITEMS = 10
ALL_GROUPS = "all"
NO_GROUP = "(none)"
Period = Literal["week", "month", "quarter"]


@dataclass(frozen=True)
class FftSummary:
    responses: int
    counts: dict[str, int]
    percent_positive: float | None
    """(Very good + Good) / responses x 100, with Don't know in the responses; None if no responses."""
    percent_negative: float | None


def fft_code(value: Any) -> str | None:
    """An FFT answer as its code: 'very_good', 'Very good', "Don't know" and 'dont know' all work."""
    if not isinstance(value, str):
        return None
    clean = re.sub(r"[\s\-]+", "_", value.strip().lower().replace("'", "").replace("’", ""))
    if clean in FFT_ANSWERS:
        return clean
    aliases = {"neither_good_nor_poor": "neither", "dont_know": "dont_know", "don_t_know": "dont_know"}
    return aliases.get(clean)


def fft_codes(options: Any) -> dict[str, str] | None:
    """{value recorded: FFT code} when a choice step's ``options`` (as its flow lists them:
    bare labels, or ``{value, label}`` with a label in one or several languages) are the six
    FFT answers, each once; None for any other question."""
    if not isinstance(options, list) or len(options) != len(FFT_ANSWERS):
        return None
    found: dict[str, str] = {}
    for option in options:
        value = option.get("value") if isinstance(option, dict) else option
        label = option.get("label") if isinstance(option, dict) else None
        said = [value, *(label.values() if isinstance(label, dict) else [label])]
        code = next((c for c in map(fft_code, said) if c is not None), None)
        if value is None or code is None:
            return None
        found[str(value)] = code
    return found if set(found.values()) == set(FFT_ANSWERS) else None


def fft_summary(answers: Iterable[Any]) -> FftSummary:
    """FFT figures for a set of answers; anything that is not one of the six answers is ignored."""
    counts = dict.fromkeys(FFT_ANSWERS, 0)
    for answer in answers:
        code = fft_code(answer)
        if code is not None:
            counts[code] += 1
    total = sum(counts.values())
    if total == 0:
        return FftSummary(0, counts, None, None)
    positive = sum(counts[code] for code in FFT_POSITIVE)
    negative = sum(counts[code] for code in FFT_NEGATIVE)
    return FftSummary(total, counts, 100 * positive / total, 100 * negative / total)


def sus_score(responses: Sequence[int] | Mapping[int, int]) -> float:
    """The SUS score (0-100) of one complete response: ten answers 1-5, in item order (a list)
    or by item number 1-10 (a mapping)."""
    items = [responses[n] for n in range(1, SUS_ITEMS + 1)] if isinstance(responses, Mapping) else list(responses)
    if len(items) != SUS_ITEMS:
        raise ValueError(f"SUS needs {SUS_ITEMS} answers, got {len(items)}")
    total = 0
    for number, answer in enumerate(items, start=1):
        if isinstance(answer, bool) or not isinstance(answer, int) or not 1 <= answer <= 5:
            raise ValueError(f"SUS item {number} must be a whole number from 1 to 5, got {answer!r}")
        total += answer - 1 if number % 2 == 1 else 5 - answer
    return total * 2.5


# ----------------------------------------------------------------------------- over time


@dataclass(frozen=True)
class AnswerRecord:
    """One stored answer, with the participant's group."""

    participant_id: str
    group: str | None
    flow_id: str
    step_id: str
    value: Any
    answered_at: datetime
    session_id: int | None = None


@dataclass(frozen=True)
class PeriodSummary:
    group: str
    period: str
    fft: FftSummary
    sus_responses: int
    sus_mean: float | None


def _latest_per_step(records: Iterable[AnswerRecord]) -> dict[tuple[Any, str, str], AnswerRecord]:
    """The last answer to each step of each response (a session; or a participant when no session)."""
    latest: dict[tuple[Any, str, str], AnswerRecord] = {}
    for record in sorted(records, key=lambda r: r.answered_at):
        latest[(record.session_id or record.participant_id, record.flow_id, record.step_id)] = record
    return latest


def _sus_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and float(value).is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


FftSteps = Mapping[tuple[str, str], Mapping[str, str]]
"""(flow, step) of each FFT question -> its {value recorded: FFT code} (:func:`fft_codes`)."""
CONVENTIONAL_FFT: FftSteps = {("fft", "fft"): {}}


def track(
    records: Iterable[AnswerRecord], period: Period = "month", zone: str = "Europe/London",
    fft_steps: FftSteps = CONVENTIONAL_FFT, sus_flows: Collection[str] = ("sus",), sus_prefix: str = "sus_",
) -> list[PeriodSummary]:
    """FFT percentage positive and mean SUS per group (and for everyone, as 'all') per period.

    One response per session: the last answer to each question counts (BACK may change one).
    A SUS response counts only when all ten items have a 1-5 answer; it falls in the period
    of its last answer."""
    tz = ZoneInfo(zone)
    wanted = [r for r in records if (r.flow_id, r.step_id) in fft_steps or
              (r.flow_id in sus_flows and r.step_id.startswith(sus_prefix))]
    latest = _latest_per_step(wanted)
    fft: dict[tuple[str, str], list[Any]] = defaultdict(list)
    sus_items: dict[Any, dict[int, AnswerRecord]] = defaultdict(dict)
    for (response, flow_id, step_id), record in latest.items():
        if (flow_id, step_id) in fft_steps:
            answer = fft_steps[(flow_id, step_id)].get(str(record.value), record.value)
            for group in (record.group or NO_GROUP, ALL_GROUPS):
                fft[(group, period_of(record.answered_at, period, tz))].append(answer)
        elif step_id[len(sus_prefix):].isdigit():
            sus_items[(response, flow_id)][int(step_id[len(sus_prefix):])] = record
    sus: dict[tuple[str, str], list[float]] = defaultdict(list)
    for items in sus_items.values():
        answers = [_sus_number(items[n].value) if n in items else None for n in range(1, SUS_ITEMS + 1)]
        if any(answer is None or not 1 <= answer <= 5 for answer in answers):
            continue
        last = max(items.values(), key=lambda r: r.answered_at)
        score = sus_score([answer for answer in answers if answer is not None])
        for group in (last.group or NO_GROUP, ALL_GROUPS):
            sus[(group, period_of(last.answered_at, period, tz))].append(score)
    keys = sorted(set(fft) | set(sus), key=lambda k: (k[0] == ALL_GROUPS, k[0], k[1]))
    return [
        PeriodSummary(group, when, fft_summary(fft.get((group, when), [])), len(sus.get((group, when), [])),
                      sum(sus[(group, when)]) / len(sus[(group, when)]) if sus.get((group, when)) else None)
        for group, when in keys
    ]
