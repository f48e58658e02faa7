"""What the group said, as a read-only view a many-item step may consult.

The engine is pure, so the service hands each sprint a :class:`Population` for the
participant it is talking to (``engine.handle(..., population=...)``). Steps must also
work without one (``population=None``: round 1 of a Delphi, inline idea pools only), as
in ``chorus chat``, golden tests and property tests.

:class:`RecordedPopulation` answers every question from a list of item answers
(:class:`ItemRecord`, the rows recorded with ``RecordAnswer.item``) and the approved
submissions; the service builds one from the database (``bot/population.py``) and tests
build one in memory. The arithmetic is :mod:`flows.analysis`'s.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # numpy and pandas load only when a step asks the population something
    import pandas as pd

    from flows.analysis.delphi import ConsensusRule, ItemFeedback

SUBMISSION_ITEM = "+submission"
"""The ``item`` of an answer that is a participant's own statement or idea, held for
moderation. Its value is ``{"kind": "statement" | "idea", "text": ...}``."""


@dataclass(frozen=True)
class PoolEntry:
    """A statement or idea that can be shown: its id (as recorded), its text and, for a
    participant's own, who wrote it (never asked to vote on or compare their own)."""

    id: str
    text: str
    author: str | None = None


class Population(Protocol):
    """The read-only view of a study's answers, bound to one participant."""

    def delphi_feedback(
        self, delphi: str, round: int, item: str, rule: ConsensusRule, language: str | None = None,
    ) -> ItemFeedback | None:
        """Results of ``item`` in round ``round`` (overall and per group, with the participant's
        own last score: theirs in that round, or in the latest earlier round they took part in
        when they skipped it; groups named in ``language`` where the study names them so), or
        None when nobody rated it then."""
        ...

    def delphi_active_items(
        self, delphi: str, round: int, items: Sequence[str], rule: ConsensusRule, drop: Sequence[str]
    ) -> list[str]:
        """``items`` less those whose consensus status (in ``drop``) was reached before ``round``."""
        ...

    def approved(self, step: str) -> list[PoolEntry]:
        """Participants' submissions to ``step`` that a coordinator approved, oldest first."""
        ...

    def comparison_counts(self, step: str) -> Mapping[str, int]:
        """How often each idea of a pairwise step has been compared, by everyone, as this
        participant's next pair is drawn from: counts within a few comparisons of each other
        are told apart differently for each participant (:func:`spread_counts`), so people
        answering at the same moment are not all shown the same least-compared pair."""
        ...

    def my_answers(self, step: str) -> list[tuple[str, Any]]:
        """This participant's earlier item answers to ``step`` (any session): (item, value)."""
        ...


@dataclass(frozen=True)
class ItemRecord:
    """One recorded item answer."""

    participant: str
    group: str | None
    step: str
    item: str
    value: Any


def delphi_value(delphi: str, round: int, score: int | None, reason: str | None = None) -> dict[str, Any]:
    """The value a Delphi rating is recorded with: self-describing, so the ratings of every
    round can be found whatever flow or step asked them."""
    value: dict[str, Any] = {"delphi": delphi, "round": round, "score": score}
    if reason:
        value["reason"] = reason
    return value


def delphi_ratings(records: Iterable[ItemRecord], delphi: str | None = None) -> pd.DataFrame:
    """The long table of :mod:`flows.analysis.delphi` (participant, group, round, item, score,
    plus delphi and reason) from item answers, in the order given (the last one wins)."""
    import pandas as pd

    rows = [
        {
            "delphi": r.value["delphi"], "participant": r.participant, "group": r.group or "unspecified",
            "round": int(r.value["round"]), "item": r.item, "score": r.value.get("score"), "reason": r.value.get("reason"),
        }
        for r in records
        if isinstance(r.value, dict) and "delphi" in r.value and "round" in r.value and (delphi is None or r.value["delphi"] == delphi)
    ]
    columns = ["delphi", "participant", "group", "round", "item", "score", "reason"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["score"] = pd.to_numeric(frame["score"], errors="coerce").astype(float)
    return frame


@dataclass
class PopulationData:
    """Everyone's item answers for one study, with the Delphi summaries cached."""

    records: Sequence[ItemRecord] = ()
    approved_entries: Mapping[str, Sequence[PoolEntry]] = field(default_factory=dict)
    group_labels: Mapping[str, str] = field(default_factory=dict)
    """Group code -> display name, in display order (e.g. patient -> Patients)."""
    group_names: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Language -> group code -> display name, for studies that name groups in several languages."""
    last_answer_id: int = 0
    """The newest answer row read (0: none, or not read from a database): answers recorded
    after it are :class:`RecordedPopulation`'s ``recent``."""
    _compared: dict[str, Counter[str]] = field(default_factory=dict)
    _summaries: dict[tuple[str, int, ConsensusRule], pd.DataFrame] = field(default_factory=dict)
    _ratings: dict[str, pd.DataFrame] = field(default_factory=dict)
    _feedback: dict[tuple[str, int, str, ConsensusRule], ItemFeedback | None] = field(default_factory=dict)
    _scores: dict[str, dict[tuple[str, int, str], int | None]] = field(default_factory=dict)
    _taken: dict[str, dict[str, set[int]]] = field(default_factory=dict)
    _active: dict[tuple[str, int, tuple[str, ...], ConsensusRule, tuple[str, ...]], list[str]] = field(default_factory=dict)

    def ratings(self, delphi: str) -> pd.DataFrame:
        if delphi not in self._ratings:
            self._ratings[delphi] = delphi_ratings(self.records, delphi)
        return self._ratings[delphi]

    def summary(self, delphi: str, round: int, rule: ConsensusRule) -> pd.DataFrame | None:
        import pandas as pd

        from flows.analysis.delphi import summarise

        key = (delphi, round, rule)
        if key not in self._summaries:
            ratings = self.ratings(delphi)
            ratings = ratings[ratings["round"] == round]
            self._summaries[key] = summarise(ratings, rule) if len(ratings) else pd.DataFrame()
        found = self._summaries[key]
        return None if found.empty else found

    def feedback(self, delphi: str, round: int, item: str, rule: ConsensusRule) -> ItemFeedback | None:
        """The group's results for an item (own score left out: see :meth:`score`), cached."""
        from flows.analysis.delphi import feedback_for

        key = (delphi, round, item, rule)
        if key not in self._feedback:
            summary = self.summary(delphi, round, rule)
            found = summary is not None and bool((summary["item"] == str(item)).any())
            self._feedback[key] = feedback_for(summary, item, round, None, self.group_labels, rule.scale) if found else None  # type: ignore[arg-type]
        return self._feedback[key]

    def score(self, delphi: str, participant: str | None, round: int, item: str) -> int | None:
        """A participant's score for an item in a round (None if unsure or absent)."""
        return self._score_table(delphi).get((str(participant), round, item))

    def last_score(self, delphi: str, participant: str | None, round: int, item: str) -> int | None:
        """A participant's score for an item the last time they took part, up to ``round``: in
        ``round``, or, when they rated nothing in it (they skipped that round), in the latest
        earlier round they rated anything in (None if unsure or absent there). Someone back in
        round 3 after missing round 2 said their last score in round 1, not nothing."""
        rounds = self._rounds_taken(delphi).get(str(participant), set())
        taken = [r for r in rounds if r <= round]
        return self.score(delphi, participant, max(taken), item) if taken else None

    def _score_table(self, delphi: str) -> dict[tuple[str, int, str], int | None]:
        if delphi not in self._scores:
            import pandas as pd

            ratings = self.ratings(delphi)
            self._scores[delphi] = {
                (p, int(r), i): None if pd.isna(s) else int(s)
                for p, r, i, s in ratings[["participant", "round", "item", "score"]].itertuples(index=False)
            }
        return self._scores[delphi]

    def _rounds_taken(self, delphi: str) -> dict[str, set[int]]:
        """Participant -> the rounds of the Delphi they rated anything in (unsure included)."""
        if delphi not in self._taken:
            taken: dict[str, set[int]] = {}
            for participant, round, _ in self._score_table(delphi):
                taken.setdefault(participant, set()).add(round)
            self._taken[delphi] = taken
        return self._taken[delphi]

    def active(self, delphi: str, round: int, items: Sequence[str], rule: ConsensusRule, drop: Sequence[str]) -> list[str]:
        key = (delphi, round, tuple(items), rule, tuple(drop))
        if key not in self._active:
            active = list(items)
            for earlier in range(1, round):
                summary = self.summary(delphi, earlier, rule)
                if summary is None:
                    continue
                overall = summary[summary["group"] == "all"]
                status = dict(zip(overall["item"], overall["consensus"], strict=True))
                active = [item for item in active if status.get(item, "none") not in drop]
            self._active[key] = active
        return list(self._active[key])

    def compared(self, step: str) -> Counter[str]:
        """How often each idea of a pairwise step was compared in these records (counted once)."""
        if step not in self._compared:
            self._compared[step] = comparisons_in(r for r in self.records if r.step == step)
        return self._compared[step]

    def view(self, participant: str | None) -> RecordedPopulation:
        return RecordedPopulation(self, participant)


def comparisons_in(records: Iterable[ItemRecord]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for record in records:
        if isinstance(record.value, dict) and "winner" in record.value:
            counts.update((record.value["winner"], record.value["loser"]))
    return counts


SPREAD = 0.25
"""How close two ideas' comparison counts must be (a share of the average count, at least one
comparison) to be drawn in a different order for each participant."""


def spread_counts(counts: Mapping[str, int], participant: str | None, step: str, seen: int) -> dict[str, int]:
    """``counts`` with each raised by a few (0 to ``SPREAD`` of the average, at least 0 or 1),
    drawn for this participant and how many pairs they have answered: ideas compared about as
    often come in a different order for each participant, while an idea compared far less (a
    newly approved one) still comes first for everyone. Counts read a minute ago, and pairs
    shown to others but not answered yet, are not exact anyway."""
    if not counts:
        return {}
    leeway = max(2, round(SPREAD * sum(counts.values()) / len(counts)))
    rng = random.Random(f"{participant}|{step}|{seen}")
    return {item: count + rng.randint(0, leeway) for item, count in sorted(counts.items())}


Recent = Callable[[str, int], Sequence[ItemRecord]]
"""(step, last answer id read) -> the step's item answers recorded since, oldest first."""


class RecordedPopulation:
    """:class:`Population` over :class:`PopulationData`, for one participant.

    ``recent``, when given, reads the answers a step has had since ``data`` was read (the
    service keeps ``data`` for a minute): pairwise counts and the participant's own answers
    are then up to date, however old ``data`` is."""

    def __init__(self, data: PopulationData | Callable[[], PopulationData], participant: str | None,
                 recent: Recent | None = None) -> None:
        self._data = data
        self.participant = participant
        self._recent = recent
        self._recent_records: dict[str, Sequence[ItemRecord]] = {}

    def recent(self, step: str) -> Sequence[ItemRecord]:
        """The step's item answers recorded since the data was read (read once per view)."""
        if self._recent is None:
            return ()
        if step not in self._recent_records:
            self._recent_records[step] = self._recent(step, self.data.last_answer_id)
        return self._recent_records[step]

    @property
    def data(self) -> PopulationData:
        """Loaded on first use: most sprints never ask the population anything."""
        if not isinstance(self._data, PopulationData):
            self._data = self._data()
        return self._data

    def delphi_feedback(
        self, delphi: str, round: int, item: str, rule: ConsensusRule, language: str | None = None,
    ) -> ItemFeedback | None:
        found = self.data.feedback(delphi, round, item, rule)
        if found is None:
            return None
        names = self.data.group_names.get(language or "", {})
        groups = tuple(replace(g, label=names[g.group]) if g.group in names else g for g in found.groups)
        return replace(found, own_score=self.data.last_score(delphi, self.participant, round, item), groups=groups)

    def delphi_active_items(
        self, delphi: str, round: int, items: Sequence[str], rule: ConsensusRule, drop: Sequence[str]
    ) -> list[str]:
        return self.data.active(delphi, round, items, rule, drop)

    def approved(self, step: str) -> list[PoolEntry]:
        """What others approved for ``step`` that this participant may be shown: not their own
        (a vote on one's own statement or idea would count in the results)."""
        return [entry for entry in self.data.approved_entries.get(step, ()) if entry.author is None or entry.author != self.participant]

    def comparison_counts(self, step: str) -> Mapping[str, int]:
        counts = self.data.compared(step) + comparisons_in(self.recent(step))
        return spread_counts(counts, self.participant, step, len(self.my_answers(step)))

    def my_answers(self, step: str) -> list[tuple[str, Any]]:
        records = [*self.data.records, *self.recent(step)]
        return [(r.item, r.value) for r in records if r.step == step and r.participant == self.participant]
