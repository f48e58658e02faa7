"""The population view the conversation service hands the engine, read from the database,
and the moderation of participants' own statements and ideas.

A submission keeps the words its author wrote, as answers do; wherever it is shown to anyone
else (other participants, the moderation list, the desk, reports) it is :func:`shown_text`,
with phone numbers, e-mail addresses, NHS numbers, postcodes and dates of birth masked as
exports mask them, and the moderation list and alert say what it held, and what of its wording
may be abusive or a personal attack (name-calling, a slur, a threat: nlp/abuse.py). Nothing is
shown to other participants before a coordinator approves it.

The service asks :class:`PopulationSource` for a view per sprint; the study's item answers
are loaded only if a step asks (most sprints never do) and kept for ``ttl`` seconds, so a
Delphi round's summary is computed once per study and minute, not once per message. A
pairwise or statements step also reads its own answers recorded since (a short index range),
so the next pair is drawn from up-to-date counts and no one is shown again what they answered
a moment ago; ideas compared about as often are drawn in a different order per participant
(flows/population.py, ``spread_counts``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, and_, func, insert, select, update

from flows.events import RecordAnswer
from flows.loader import LoadedStudy
from flows.model import Study, resolve_text
from flows.population import (
    SUBMISSION_ITEM,
    ItemRecord,
    PoolEntry,
    PopulationData,
    RecordedPopulation,
)
from storage.tables import ANSWERS, ENROLMENTS, FLAGS, SUBMISSIONS

if TYPE_CHECKING:  # the analysis (pandas) loads when a chart is first drawn, not at startup
    from flows.analysis.delphi import ItemFeedback

SUBMISSION_PREFIX = "sub-"
"""An approved submission is shown (and its answers recorded) as ``sub-<row id>``."""

log = logging.getLogger("chorus.population")


def group_names(study: Study | None) -> dict[str, dict[str, str]]:
    """Each study language -> group code -> the group's label in that language."""
    if study is None:
        return {}
    return {
        language: {g.id: resolve_text(g.label, language, study.default_language) for g in study.groups if g.label is not None}
        for language in study.languages
    }


def group_labels(study: Study | None) -> dict[str, str]:
    if study is None:
        return {}
    return {g.id: resolve_text(g.label, study.default_language) if g.label is not None else g.id for g in study.groups}


def load_population(connection: Connection, study_id: str, study: Study | None = None) -> PopulationData:
    """Every item answer of the study (oldest first) and its approved submissions."""
    groups = dict(
        connection.execute(
            select(ENROLMENTS.c.participant_id, ENROLMENTS.c.group).where(ENROLMENTS.c.study_id == study_id)
        ).all()
    )
    last = connection.execute(select(func.max(ANSWERS.c.id))).scalar() or 0  # first: what is read below is through it
    rows = connection.execute(
        select(ANSWERS.c.participant_id, ANSWERS.c.step_id, ANSWERS.c.item, ANSWERS.c.value)
        .where(and_(_item_answers(study_id), ANSWERS.c.id <= last))
        .order_by(ANSWERS.c.id)
    ).all()
    records = [ItemRecord(pid, groups.get(pid), step, item, value) for pid, step, item, value in rows if item != SUBMISSION_ITEM]
    approved: dict[str, list[PoolEntry]] = {}
    for row_id, step, text, author in connection.execute(
        select(SUBMISSIONS.c.id, SUBMISSIONS.c.step_id, SUBMISSIONS.c.text, SUBMISSIONS.c.participant_id)
        .where(and_(SUBMISSIONS.c.study_id == study_id, SUBMISSIONS.c.status == "approved"))
        .order_by(SUBMISSIONS.c.id)
    ).all():
        approved.setdefault(step, []).append(PoolEntry(f"{SUBMISSION_PREFIX}{row_id}", shown_text(text), author))
    return PopulationData(records, approved, group_labels(study), group_names(study), last_answer_id=int(last))


def _item_answers(study_id: str) -> Any:
    return and_(ANSWERS.c.study_id == study_id, ANSWERS.c.item.is_not(None), ANSWERS.c.item != SUBMISSION_ITEM,
                ANSWERS.c.skipped.is_(False), ANSWERS.c.withdrawn_at.is_(None))


def recent_answers(connection: Connection, study_id: str, step: str, after: int) -> list[ItemRecord]:
    """A step's item answers recorded after answer ``after``, oldest first (an index range: the
    last minute's answers at most)."""
    rows = connection.execute(
        select(ANSWERS.c.participant_id, ANSWERS.c.item, ANSWERS.c.value)
        .where(and_(_item_answers(study_id), ANSWERS.c.step_id == step, ANSWERS.c.id > after))
        .order_by(ANSWERS.c.id)
    ).all()
    return [ItemRecord(pid, None, step, item, value) for pid, item, value in rows]


class PopulationSource:
    """Hands out population views, keeping each study's data for ``ttl`` seconds."""

    def __init__(self, ttl: float = 60.0) -> None:
        self.ttl = ttl
        self._cache: dict[str, tuple[float, PopulationData]] = {}
        self._lock = threading.Lock()

    def view(self, connection: Connection, study_id: str, participant_id: str, study: Study | None = None) -> RecordedPopulation:
        def data() -> PopulationData:
            with self._lock:
                cached = self._cache.get(study_id)
                if cached is not None and time.monotonic() - cached[0] < self.ttl:
                    return cached[1]
            loaded = load_population(connection, study_id, study)
            with self._lock:
                self._cache[study_id] = (time.monotonic(), loaded)
            return loaded

        return RecordedPopulation(data, participant_id, lambda step, after: recent_answers(connection, study_id, step, after))

    def forget(self, study_id: str) -> None:
        """Drop a study's cached data (after moderation, say)."""
        with self._lock:
            self._cache.pop(study_id, None)


# ----------------------------------------------------------------------------- submissions


@dataclass(frozen=True)
class Submission:
    id: int
    participant_id: str
    study_id: str
    flow_id: str
    step_id: str
    kind: str
    text: str
    status: str
    created_at: datetime

    @property
    def shown(self) -> str:
        """What others see of it (:func:`shown_text`)."""
        return shown_text(self.text)

    @property
    def personal_details(self) -> list[str]:
        """What it holds that identifies someone, in words ("a phone number"); masked in :attr:`shown`."""
        return personal_details(self.text)

    @property
    def abuse(self) -> str:
        """What of it may be abusive or a personal attack, in words (:func:`abuse_note`; empty for none)."""
        return abuse_note(self.text)


def shown_text(text: str) -> str:
    """A submission as it is shown to anyone but its author: to the other participants a
    pairwise comparison or statement vote puts it before, and to moderators (the desk, the
    moderation list, reports). Its identifiers are masked as exports and the API mask answers
    (nlp/redact.py): a participant who writes "call me on 07700 900555" into an idea must not
    have the number sent to everyone who compares ideas."""
    from nlp.redact import redact

    return redact(text)


def personal_details(text: str) -> list[str]:
    """The kinds of identifier a submission holds, in words, each once: ``["a phone number"]``."""
    from nlp.redact import describe_identifiers

    return describe_identifiers(text)


def details_note(details: list[str]) -> str:
    """"contains a phone number and a postcode" (empty for none)."""
    if not details:
        return ""
    listed = details[0] if len(details) == 1 else f"{', '.join(details[:-1])} and {details[-1]}"
    return f"contains {listed}"


def abuse_note(text: str) -> str:
    """'may be abusive: name-calling ("useless cow")' for a submission with abusive or personally
    attacking wording (nlp/abuse.py), empty for none; the words quoted are masked as the
    submission is (a name called, never whom it was called)."""
    from nlp.abuse import abuse_note as note
    from nlp.abuse import abusive_wording

    return shown_text(note(abusive_wording(text)))


def store_submissions(
    connection: Connection, events: Iterable[object], participant_id: str, study_id: str, flow_id: str, now: datetime
) -> list[int]:
    """Hold each statement or idea a sprint recorded (``RecordAnswer.item == SUBMISSION_ITEM``)
    for moderation, and raise a 'moderation' flag for each so coordinators see it."""
    ids = []
    for event in events:
        if not (isinstance(event, RecordAnswer) and event.item == SUBMISSION_ITEM and isinstance(event.value, dict)):
            continue
        text = str(event.value.get("text", "")).strip()
        kind = str(event.value.get("kind", "idea"))
        if not text:
            continue
        values = {"participant_id": participant_id, "study_id": study_id, "flow_id": flow_id, "step_id": event.step_id,
                  "kind": kind, "text": text, "status": "pending", "created_at": now}
        row_id = connection.execute(insert(SUBMISSIONS).values(**values).returning(SUBMISSIONS.c.id)).scalar_one()
        ids.append(int(row_id))
        connection.execute(insert(FLAGS).values(
            kind="moderation", message=_alert(kind, int(row_id), text), participant_id=participant_id,
            study_id=study_id, flow_id=flow_id, step_id=event.step_id, acknowledged=False, created_at=now,
        ))
    return ids


def _alert(kind: str, row_id: int, text: str) -> str:
    """The desk's "to check" alert: the submission as others will see it, a note of any wording
    that may be abusive (:func:`abuse_note`), and, when it held
    personal details, a note saying so (the desk masks every alert, so without the note a
    moderator could not tell a masked number from one the participant never gave).
    bot/commands/moderate.py finds the alert again by its start, "new <kind> #<id> to check:"."""
    note, abuse = details_note(personal_details(text)), abuse_note(text)
    return (f"new {kind} #{row_id} to check: {shown_text(text)[:200]}" + (f" ({note}: others see it masked, as here)" if note else "")
            + (f" ({abuse}: shown to no one unless approved)" if abuse else ""))


def submissions(connection: Connection, study_id: str, status: str | None = None) -> list[Submission]:
    query = select(*SUBMISSIONS.c).where(SUBMISSIONS.c.study_id == study_id).order_by(SUBMISSIONS.c.id)
    if status is not None:
        query = query.where(SUBMISSIONS.c.status == status)
    return [
        Submission(r.id, r.participant_id, r.study_id, r.flow_id, r.step_id, r.kind, r.text, r.status, r.created_at)
        for r in connection.execute(query).all()
    ]


def moderate(connection: Connection, submission_id: int, approve: bool, by: str, now: datetime) -> bool:
    """Approve (shown to others from now on) or reject a submission. False if there is none."""
    result = connection.execute(
        update(SUBMISSIONS).where(SUBMISSIONS.c.id == submission_id)
        .values(status="approved" if approve else "rejected", moderated_at=now, moderated_by=by)
    )
    return bool(result.rowcount)


# ----------------------------------------------------------------------------- attachments


CHART_TEXTS = ("delphi.everyone", "delphi.chart_title", "delphi.chart_people", "delphi.chart_score", "delphi.chart_you")


def delphi_chart(
    population: RecordedPopulation, attachment: dict[str, Any], rule: Any, words: Callable[[str], str] | None = None,
) -> bytes | None:
    """The PNG a ``{"kind": "delphi_chart", ...}`` attachment names, for channels with images.

    ``rule`` is the Delphi step's :meth:`~flows.steps.delphi.DelphiStep.rule`; ``words`` gives
    the chart's texts in the participant's language. Only the groups with at least the
    attachment's ``min_n`` scores are drawn, as in the text (None when everyone's are fewer).
    Charts are remembered (the same item, results, own score and texts draw the same image),
    so a round's charts are drawn once per distinct own score rather than once per participant."""
    if attachment.get("kind") != "delphi_chart":
        return None
    language = str(attachment["language"]) if attachment.get("language") else None
    feedback = population.delphi_feedback(str(attachment["delphi"]), int(attachment["round"]), str(attachment["item"]), rule, language)
    if feedback is None:
        return None
    from flows.analysis.delphi import shown_feedback
    from flows.steps.delphi import FEEDBACK_MIN_N

    feedback = shown_feedback(feedback, int(attachment.get("min_n") or FEEDBACK_MIN_N))
    if feedback.everyone is None:
        return None
    texts = tuple((key, words(key)) for key in CHART_TEXTS) if words is not None else ()
    return _chart(feedback, texts)


@lru_cache(maxsize=512)
def _chart(feedback: ItemFeedback, texts: tuple[tuple[str, str], ...]) -> bytes:
    from flows.analysis.delphi import feedback_chart

    lookup = dict(texts)
    return feedback_chart(feedback, (lambda key: lookup.get(key, key)) if lookup else None)


def shows_delphi_feedback(studies: Iterable[LoadedStudy], flow_id: str | None = None) -> bool:
    """Whether a study (or its flow ``flow_id``) has a Delphi round after the first: its prompts
    show the round before's results, drawn as charts for channels with images."""
    from flows.steps.delphi import DelphiStep

    return any(isinstance(step, DelphiStep) and step.round > 1
               for loaded in studies for name, flow in loaded.flows.items() if flow_id is None or name == flow_id
               for step in flow.flow.steps)


_warmed = threading.Event()
_warming = threading.Lock()


def warm_up_charts() -> None:
    """Load the analysis and drawing libraries and draw one throwaway feedback chart, once per
    process. A round's first feedback is drawn while its participants' conversations start, in a
    transaction that holds the database (SQLite: every webhook waits); drawn cold it took seconds:
    pandas and matplotlib load, and on a machine's first chart matplotlib builds its font cache.
    So whatever starts a later round calls this first, outside its transaction (bot/starting.py);
    serving alone loads none of it (tests/test_startup.py). A failure is logged and harmless: the
    chart is then drawn when first needed, as before."""
    if _warmed.is_set():
        return
    with _warming:
        if _warmed.is_set():
            return
        started = time.monotonic()
        try:
            _draw_a_throwaway_chart()
        except Exception:
            log.warning("could not warm up the Delphi feedback charts; the first is drawn when needed", exc_info=True)
        else:
            log.debug("Delphi feedback charts warmed up in %.1f s", time.monotonic() - started)
        _warmed.set()


def _draw_a_throwaway_chart() -> None:
    import pandas as pd

    from flows.analysis.delphi import feedback_chart, feedback_for, summarise

    scores = [(f"p{i}", "patient", 1, "warm-up", score) for i, score in enumerate((2, 5, 7, 8, 9))]
    ratings = pd.DataFrame(scores, columns=["participant", "group", "round", "item", "score"])
    feedback_chart(feedback_for(summarise(ratings), "warm-up", 1, 7))
