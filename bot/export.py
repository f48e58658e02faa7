"""Export a study's answers for analysis: a long CSV (one row per answer), the comments told at
questions that take no free text (``<study>-comments.csv``, bot/comments.py) and a data
dictionary (CSV and Markdown) describing every column of both and every step with its codes: for
many-item steps also what each item is (a Delphi item and its rating scale, a statement and
its vote codes, a choice task and the options it showed) and how their values are laid out.

No addresses or names leave the database: participants appear only by pseudonymous id,
answers to steps that save identifying fields (``save_to: participant.name`` ...) are
withheld, and anything in free text that looks like a phone number is removed.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, case, func, select

from bot.comments import COMMENT_COLUMN_MEANINGS, COMMENT_COLUMNS, study_comments
from bot.population import SUBMISSION_PREFIX
from flows.display_text import display_text
from flows.loader import load_flow
from flows.model import Flow, StepBase, Study, Text, resolve_text
from flows.population import SUBMISSION_ITEM
from flows.steps.choice import ChoiceStep
from flows.steps.choice_experiment import LETTERS, AttributeSpec, ChoiceExperimentStep
from flows.steps.delphi import DelphiScale, DelphiStep
from flows.steps.items import ListedItem
from flows.steps.number import NumberStep
from flows.steps.pairwise import PairwiseStep
from flows.steps.rank import RankStep
from flows.steps.scale import ScaleStep
from flows.steps.statements import DISPLAY, StatementsStep
from flows.steps.yesno import YesNoStep
from flows.words import Words
from storage import repository
from storage.database import Database
from storage.tables import ANSWERS, ENROLMENTS, TRANSCRIPTS

ANSWER_COLUMNS: list[tuple[str, str]] = [
    ("participant", "Pseudonymous participant id (p- and hex). Never a phone number, chat id or name."),
    ("group", "The participant's group in the study (from the join route or a step saving participant.group)."),
    ("channel", "How the participant joined: sms, whatsapp, telegram, web or cli."),
    ("language", "The language the answer was given in (a study language's code, e.g. en or cy): the conversation's "
                 "language then, which raw and display are in. A participant who changed language with CYMRAEG, "
                 "ENGLISH or LANGUAGE part way through has answers in each. Answers stored before Chorus kept this "
                 "carry the participant's language at the upgrade."),
    ("study", "Study id."),
    ("flow", "Flow id."),
    ("flow_version", "Content hash of the flow version the participant answered (see the data dictionary per version)."),
    ("step", "Step id within the flow."),
    ("item", "For many-item steps (Delphi, rank, pairwise, statements, choice tasks): the item answered; empty otherwise."),
    ("step_type", "Step type: choice, scale, yesno, consent, number, open, ..."),
    ("question", "The step's text in the study's default language (on a Delphi item's rows, the item's text, as "
                 "the data dictionary lists it), as a coordinator reads it: words only some "
                 "participants get (inside {% if %}) in [brackets], alternatives split by ' / ', and a value filled "
                 "in per participant by its name, e.g. [participant.name]."),
    ("raw", "What the participant sent: typed text, a tapped button's value, or a voice transcript."),
    ("value", "The coded answer (see codes in the data dictionary); lists as JSON; empty when skipped."),
    ("display", "The answer's human-readable label."),
    ("source", "text, button, voice, or timeout."),
    ("skipped", "true when the step was skipped, timed out or got no clear answer."),
    ("answered_at", "When the answer was recorded, ISO 8601 in UTC."),
    ("withdrawn_at", "When the participant went BACK past this answer (to change it, or onto another branch), "
                     "ISO 8601 in UTC; empty while it stands. Results and analyses leave withdrawn answers out."),
    ("voice_confidence", "For an answer given by voice note: how sure the speech recogniser was of its transcript, "
                         "0 to 1; empty otherwise."),
    ("voice_low_confidence", "For an answer given by voice note: true when the recogniser was unsure (the transcript "
                             "was read back to the participant to confirm or correct); empty otherwise."),
]
DICTIONARY_COLUMNS = ["section", "name", "item", "flow", "flow_version", "step_type", "description", "codes"]
"""A ``column`` of the answers file, a ``comments_column`` of the comments file
(``<study>-comments.csv``, bot/comments.py), a ``step`` (name = step id), or an ``item`` of a
many-item step (name = step id, item = the answers' item column; for pairwise, an idea's id)."""
IDENTIFYING_WORDS = {
    "name", "names", "surname", "forename", "firstname", "lastname", "fullname", "phone", "mobile", "telephone",
    "tel", "email", "address", "postcode", "zip", "nhs", "dob", "birth", "birthday", "birthdate",
}
"""A participant field named with any of these words (``baby_birth_date``, ``mothers_name``,
``nhs_no``) holds something that identifies someone: its answers are withheld from exports."""
WITHHELD = "[withheld]"


@dataclass(frozen=True)
class ExportResult:
    answers: Path
    dictionary_csv: Path
    dictionary_md: Path
    rows: int
    comments: Path | None = None
    """``<study>-comments.csv``: what participants wrote that no question could read as its answer (bot/comments.py)."""


class UnknownStudy(LookupError):
    pass


@dataclass(frozen=True)
class _Version:
    flow: Flow
    version: str


def export_study(database: Database, study_id: str, out_dir: Path, now: datetime | None = None) -> ExportResult:
    out_dir.mkdir(parents=True, exist_ok=True)
    with database.transaction() as connection:
        content = repository.study_content(connection, study_id)
        if content is None:
            raise UnknownStudy(f"no study '{study_id}' in the database; publish it first (chorus db publish)")
        study = Study.model_validate(content)
        versions = {
            v.id: _Version(load_flow(f"{study_id}/{v.flow_id}@{v.version}", raw=v.content).flow, v.version)
            for v in repository.flow_versions(connection, study_id)
        }
        rows = [_answer_row(row, versions, study) for row in _standing(_answers(connection, study_id))]
        comments = study_comments(connection, study_id)
        repository.audit(connection, "operator", "exported", now or datetime.now(UTC), study_id, rows=len(rows))
    result = ExportResult(
        out_dir / f"{study_id}-answers.csv", out_dir / f"{study_id}-data-dictionary.csv",
        out_dir / f"{study_id}-data-dictionary.md", len(rows), out_dir / f"{study_id}-comments.csv",
    )
    _write_csv(out_dir / f"{study_id}-comments.csv", COMMENT_COLUMNS, comments)
    _write_csv(result.answers, [name for name, _ in ANSWER_COLUMNS], rows)
    entries = _dictionary(versions, study)
    _write_csv(result.dictionary_csv, DICTIONARY_COLUMNS, entries)
    result.dictionary_md.write_text(_markdown(study, entries), encoding="utf-8")
    return result


def _answers(connection: Connection, study_id: str) -> list[Any]:
    a, e, t = ANSWERS.c, ENROLMENTS.c, TRANSCRIPTS.c
    heard = (select(t.answer_id, func.max(t.confidence).label("confidence"),
                    func.max(case((t.low_confidence, 1), else_=0)).label("low"))
             .where(t.study_id == study_id, t.answer_id.is_not(None), t.status == "heard").group_by(t.answer_id).subquery())
    query = (
        select(a.participant_id, e.group, e.channel, func.coalesce(a.language, e.language), a.flow_id, a.flow_version_id, a.flow_version, a.step_id, a.item, a.raw,
               a.value, a.display, a.source, a.skipped, a.answered_at, a.withdrawn_at, heard.c.confidence, heard.c.low)
        .select_from(ANSWERS.outerjoin(ENROLMENTS, and_(e.participant_id == a.participant_id, e.study_id == a.study_id))
                     .outerjoin(heard, heard.c.answer_id == a.id))
        .where(a.study_id == study_id)
        .order_by(a.answered_at, a.id)
    )
    return list(connection.execute(query))


def _standing(answers: list[Any]) -> list[Any]:
    """The answers less each Delphi rating a later one of the same participant, round and item
    replaces (the score alone, recorded before its reason; a round done again): one row per
    rating, the one that counts, so a count of rows outside Chorus is a count of ratings.
    Answers withdrawn by BACK stay, marked by ``withdrawn_at``."""
    last: dict[tuple[Any, ...], int] = {}
    for index, row in enumerate(answers):
        key = _rating_key(row)
        if key is not None:
            last[key] = index
    return [row for index, row in enumerate(answers) if (key := _rating_key(row)) is None or last[key] == index]


def _rating_key(row: Any) -> tuple[Any, ...] | None:
    """(participant, Delphi, round, item) of a standing Delphi rating; None for any other answer."""
    value = row.value
    if row.item is None or row.withdrawn_at is not None or not isinstance(value, dict):
        return None
    if "delphi" not in value or "round" not in value:
        return None
    return (row.participant_id, value["delphi"], value["round"], row.item)


def _answer_row(row: Any, versions: dict[int, _Version], study: Study) -> dict[str, str]:
    (participant, group, channel, language, flow_id, version_id, version, step_id, item, raw, value, display, source, skipped, at, withdrawn,
     confidence, low) = row
    step = _step(versions.get(version_id), step_id)
    identifying = step is not None and saves_identifying(step.save_to)
    return {
        "participant": participant, "group": group or "", "channel": channel or "", "language": language or "",
        "study": study.study,
        "flow": flow_id, "flow_version": version, "step": step_id, "item": item or "", "step_type": step.type if step else "",
        "question": _question(step, item, study) if step else "",
        "raw": WITHHELD if identifying else scrub(raw),
        "value": WITHHELD if identifying else scrub(_encode(value)),
        "display": WITHHELD if identifying else scrub(display),
        "source": source, "skipped": "true" if skipped else "false",
        "answered_at": _utc(at),
        "withdrawn_at": _utc(withdrawn) if withdrawn is not None else "",
        "voice_confidence": f"{confidence:.2f}" if confidence is not None else "",
        "voice_low_confidence": "" if low is None else "true" if low else "false",
    }


def _question(step: StepBase, item: str | None, study: Study) -> str:
    """What the row answered, in the study's default language: a Delphi item's text on its
    rating and reason rows (a Delphi step's own text, when it has one, only introduces its
    items), else the step's text."""
    language = study.default_language
    if isinstance(step, DelphiStep) and item:
        listed = next((found for found in step.items if found.id == item), None)
        if listed is not None:
            return _text(listed, language)
    return display_text(step.text, language, resolve_text(study.title, language))


def identifying_field(name: str) -> bool:
    """Whether a participant field's name says it identifies someone (:data:`IDENTIFYING_WORDS`)."""
    return bool(set(re.split(r"[^a-z]+", name.lower())) & IDENTIFYING_WORDS)


def saves_identifying(save_to: str | None) -> bool:
    """Whether a step's ``save_to`` names an identifying participant field: its answers are withheld."""
    return identifying_field((save_to or "").removeprefix("participant."))


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _step(version: _Version | None, step_id: str) -> StepBase | None:
    if version is None:
        return None
    return next((s for s in version.flow.steps if s.id == step_id), None)


def _encode(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def scrub(text: str | None) -> str:
    """Mask identifiers in what a participant typed or said: phone numbers, email addresses,
    NHS numbers, postcodes and dates of birth (see nlp/redact.py)."""
    from nlp.redact import redact

    return redact(text) if text else ""


def scrub_value(value: Any) -> Any:
    """An answer's value as stored (text, number, list or JSON object) masked as the export's
    ``value`` column is: every text in it scrubbed, and a number that reads as an identifier
    (a valid NHS number, a phone number typed as digits) replaced by its mask."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [scrub_value(v) for v in value]
    if isinstance(value, dict):
        return {key: scrub_value(v) for key, v in value.items()}
    if isinstance(value, int | float) and not isinstance(value, bool):
        masked = scrub(_encode(value))
        return value if masked == _encode(value) else masked
    return value


def masked_answer(value: Any, display: str | None, identifying: bool) -> tuple[Any, str]:
    """(value, display) of an answer as anyone outside the database may see them: withheld
    for a step saving an identifying field (:func:`saves_identifying`), otherwise scrubbed."""
    if identifying:
        return WITHHELD, WITHHELD
    return scrub_value(value), scrub(display)


# ----------------------------------------------------------------------------- the data dictionary


def _dictionary(versions: dict[int, _Version], study: Study) -> list[dict[str, str]]:
    entries = [
        {"section": "column", "name": name, "item": "", "flow": "", "flow_version": "", "step_type": "",
         "description": text, "codes": ""}
        for name, text in ANSWER_COLUMNS
    ]
    entries += [
        {"section": "comments_column", "name": name, "item": "", "flow": "", "flow_version": "", "step_type": "",
         "description": text, "codes": ""}
        for name, text in COMMENT_COLUMN_MEANINGS
    ]
    words = Words(study)
    language = study.default_language
    title = resolve_text(study.title, language)
    for version in versions.values():
        for step in version.flow.steps:
            where = {"flow": version.flow.flow, "flow_version": version.version, "step_type": step.type}
            entries.append({
                "section": "step", "name": step.id, "item": "", **where,
                "description": display_text(step.text, language, title), "codes": "; ".join(codes(step, language, words)),
            })
            entries += [
                {"section": "item", "name": step.id, "item": item, **where, "description": text, "codes": "; ".join(found)}
                for item, text, found in item_codes(step, language, words)
            ]
    return entries


def codes(step: StepBase, language: str, words: Words | None = None) -> list[str]:
    """What each coded value of a step means, e.g. ['patient = Patient', 'carer = Carer or family']."""
    words = words or Words()
    if isinstance(step, ChoiceStep):
        found = [f"{o.value} = {o.text(language, language)}" for o in step.options]
        return found + (["(several may be picked: value is a JSON list)"] if step.multiple else [])
    if isinstance(step, YesNoStep):
        yes = resolve_text(step.yes_label, language) if step.yes_label else words.text("yes", language)
        no = resolve_text(step.no_label, language) if step.no_label else words.text("no", language)
        return [f"yes = {yes}", f"no = {no}"]
    if isinstance(step, ScaleStep):
        return _scale_codes(step, language)
    if isinstance(step, NumberStep):
        low = "" if step.min is None else f"{step.min:g}"
        high = "" if step.max is None else f"{step.max:g}"
        return [f"number from {low or 'any'} to {high or 'any'}" + (" (whole numbers)" if step.integer else "")] + (
            [f"unit: {step.unit_in(language)}"] if step.unit else []
        )
    many_item = _many_item_codes(step, language, words)
    if many_item is not None:
        return many_item
    options = getattr(step, "options", None)
    if isinstance(options, list):
        return [f"{getattr(o, 'value', o)} = {resolve_text(getattr(o, 'label', None), language) or getattr(o, 'value', o)}" for o in options]
    if step.type == "open":
        return ["free text"]
    return []


def _scale_codes(step: ScaleStep, language: str) -> list[str]:
    found = [f"min = {step.low}", f"max = {step.high}"]
    if isinstance(step.labels, list):
        found += [f"{step.low + i} = {resolve_text(label, language)}" for i, label in enumerate(step.labels)]
    elif isinstance(step.labels, dict):
        found += [f"{k} = {resolve_text(label, language)}" for k, label in sorted(step.labels.items())]
    if step.unsure:
        found.append("empty value = unsure / don't know")
    return found


# ----------------------------------------------------------------------------- many-item steps

OWN_ANSWER = "the step's own answer (item empty)"
UNSURE_LEFT_OUT = ("the percentages (and so consensus), median and IQR count only those who gave a score: "
                   "unsure answers are left out of the denominator (the desk and chorus report show how many beside them)")


def _many_item_codes(step: StepBase, language: str, words: Words) -> list[str] | None:
    """The value layout and codes of a many-item step; None for any other step."""
    if isinstance(step, DelphiStep):
        return _delphi_codes(step, language, words)
    if isinstance(step, StatementsStep):
        return _statements_codes(step, language, words)
    if isinstance(step, PairwiseStep):
        return _pairwise_codes(step)
    if isinstance(step, ChoiceExperimentStep):
        return _choice_experiment_codes(step, language)
    if isinstance(step, RankStep):
        return _rank_codes(step, language)
    return None


def item_codes(step: StepBase, language: str, words: Words | None = None) -> list[tuple[str, str, list[str]]]:
    """(item id, its text, what its values mean) for each item a many-item step lists in its
    flow: Delphi items, statements, pairwise ideas, and choice tasks (with the options shown)."""
    words = words or Words()
    if isinstance(step, DelphiStep):
        scale = _delphi_scale(step.scale, step.unsure, language, words)
        return [(item.id, _text(item, language), [f"round {step.round}", *scale]) for item in step.items]
    if isinstance(step, StatementsStep):
        votes = _vote_codes(language, words)
        return [(item.id, _text(item, language), votes) for item in step.statements]
    if isinstance(step, PairwiseStep):
        idea = ["an idea: its id appears in the item '<A> vs <B>' and as winner or loser"]
        return [(item.id, _text(item, language), idea) for item in step.ideas]
    if isinstance(step, ChoiceExperimentStep):
        return _choice_tasks(step, language)
    return []


def _text(item: ListedItem, language: str) -> str:
    return display_text(item.text, language)


def _delphi_codes(step: DelphiStep, language: str, words: Words) -> list[str]:
    reason = ", plus reason where one was given" if step.ask_reason else ""
    found = [f"Delphi '{step.delphi_id}', round {step.round}",
             f"one answer per item (item = the item's id), valued as JSON {{delphi, round, score}}{reason}",
             "one row per participant, round and item: an item answered again (the round done again) has only its "
             "last answer, the one that counts",
             *_delphi_scale(step.scale, step.unsure, language, words)]
    if step.ask_reason:
        when = f"a score of {step.scale.min} or {step.scale.max}" if step.ask_reason == "extreme" else "every score"
        found.append(f"reason = why, in the participant's words (asked after {when})")
        found.append("an item given a reason has one row, its value carrying the score and the reason "
                     "(the score alone, recorded before the reason was asked, is left out)")
    found.append(_consensus(step))
    if step.unsure:
        found.append(UNSURE_LEFT_OUT)
    if step.drop_consensus:
        found.append("items that reached consensus in an earlier round are not asked")
    return [*found, f"{OWN_ANSWER}: JSON {{item id: score}}"]


def _delphi_scale(scale: DelphiScale, unsure: bool, language: str, words: Words) -> list[str]:
    """The scale's points by band, e.g. 'score 1-3 = not important', and unsure."""
    middle = (scale.low[1] + 1, scale.high[0] - 1)
    bands = [(scale.low, "low_label"), (middle, "middle_label"), (scale.high, "high_label")]
    found = [f"score {scale.min} to {scale.max}"]
    found += [f"score {_span(a, b)} = {_band_label(scale, name, language, words)}" for (a, b), name in bands if a <= b]
    return found + (["score empty (null) = unsure"] if unsure else [])


def _span(low: int, high: int) -> str:
    return f"{low}-{high}" if low != high else str(low)


def _band_label(scale: DelphiScale, name: str, language: str, words: Words) -> str:
    """The flow's label, or the built-in one in the study's language where the flow kept the default."""
    label: Text = getattr(scale, name)
    if label == DelphiScale.model_fields[name].default:
        return words.text(f"delphi.{name}", language)
    return resolve_text(label, language)


def _consensus(step: DelphiStep) -> str:
    rule, scale = step.consensus, step.scale
    groups = f" in every group of {rule.min_group_n} or more" if rule.per_group else ""
    return (f"consensus in = at least {rule.agree_pct:g}% score {_span(*scale.high)} and under "
            f"{rule.max_opposite_pct:g}% score {_span(*scale.low)}{groups} (out: the mirror image), called only on "
            f"{rule.min_scores} or more scores (fewer: too few to call either way)")


def _vote_codes(language: str, words: Words) -> list[str]:
    found = []
    for vote, meaning in DISPLAY.items():
        button = words.text(f"statements.{meaning}", language)
        found.append(f"{vote} = {meaning}" + (f" (button '{button}')" if button.lower() != meaning else ""))
    return found


def _submission_codes(kind: str) -> list[str]:
    return [f"item {SUBMISSION_ITEM} = the participant's own {kind}, valued as JSON {{kind, text}}, held for moderation",
            f"item {SUBMISSION_PREFIX}<n> = a participant's {kind} that a coordinator approved"]


def _statements_codes(step: StatementsStep, language: str, words: Words) -> list[str]:
    found = ["one vote per statement (item = the statement's id)", *_vote_codes(language, words)]
    found += _submission_codes("statement") if step.submissions else []
    return [*found, f"{OWN_ANSWER}: JSON {{statement id: vote}}"]


def _pairwise_codes(step: PairwiseStep) -> list[str]:
    found = ["one answer per pair (item = '<A> vs <B>', the ideas' ids in the order shown)",
             "value = JSON {winner, loser, tie}: winner and loser are idea ids, tie true = can't decide (winner is then A)",
             "a pair passed (PASS, SKIP, PASIO) is skipped, its value empty: no comparison and no tie"]
    found += _submission_codes("idea") if step.submissions else []
    return [*found, f"{OWN_ANSWER}: JSON list of the pairs' values"]


def _rank_codes(step: RankStep, language: str) -> list[str]:
    found = [f"{o.value} = {o.text(language, language)}" for o in step.options]
    return [*found, f"{OWN_ANSWER}: JSON list of option values, first place first",
            "item answers: item = the place (1 = first), value = the option placed there"]


def _choice_experiment_codes(step: ChoiceExperimentStep, language: str) -> list[str]:
    letters = LETTERS[: step.alternatives]
    picks = [f"{n} for {letter}" for n, letter in enumerate(letters, start=1)] + (["0 for neither"] if step.opt_out else [])
    found = [
        "one answer per task (item = task<N>), valued as JSON {block, task, choice, chosen, alternatives, opt_out}",
        f"block = the participant's block of tasks, 1 to {step.blocks}",
        f"task = the design task N, 1 to {step.tasks * step.blocks}",
        "choice = " + ", ".join([*letters, *(["none"] if step.opt_out else [])]),
        "chosen = " + ", ".join(picks),
        f"alternatives = the options shown, {letters[0]} first, each {{attribute: level}}",
        f"opt_out = {'true: Neither was offered' if step.opt_out else 'false: no Neither option'}",
    ]
    found += [_attribute_codes(name, spec, language) for name, spec in step.attributes.items()]
    found.append(f"{OWN_ANSWER}: JSON list of the choices, in the order asked")
    found.append("chorus report's choice data: one row per option shown (alternative 1 = "
                 f"{letters[0]}, 0 = neither), a number attribute as one column, any other as a 0/1 column "
                 "attribute[level] for each level after its first")
    return found


def _attribute_codes(name: str, spec: AttributeSpec, language: str) -> str:
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in spec.levels)
    kind = "number" + (f", {spec.better} is better" if spec.better else "") if numeric else "levels"
    levels = ", ".join(_level(spec, level, language, with_value=True) for level in spec.levels)
    return f"attribute {name} ({kind}): {levels}"


def _level(spec: AttributeSpec, level: object, language: str, with_value: bool = False) -> str:
    """A level as participants read it: its label, else the level itself."""
    label = (spec.labels or {}).get(str(level))
    if label is None:
        return str(level)
    shown = display_text(label, language)
    return f"{level} = {shown}" if with_value else shown


def _choice_tasks(step: ChoiceExperimentStep, language: str) -> list[tuple[str, str, list[str]]]:
    """One entry per design task: the block it belongs to and each option it shows."""
    neither = resolve_text(step.neither_label, language) if step.neither_label is not None else "Neither"
    blocks = step.design().blocks
    found = []
    for task, block in enumerate(blocks):
        options = [
            f"{LETTERS[j]} = " + ", ".join(f"{name} {_level(step.attributes[name], level, language)}" for name, level in profile.items())
            for j, profile in enumerate(step.profiles(task))
        ]
        found.append((f"task{task + 1}", f"choice task {task + 1} (block {int(block) + 1})",
                      options + ([f"none = {neither}"] if step.opt_out else [])))
    return found


def _write_csv(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def _markdown(study: Study, entries: list[dict[str, str]]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [f"# Data dictionary: {resolve_text(study.title, study.default_language)} ({study.study})", "",
             "## Columns of the answers file", "", "| column | meaning |", "|---|---|"]
    lines += [f"| {e['name']} | {cell(e['description'])} |" for e in entries if e["section"] == "column"]
    lines += ["", f"## Columns of the comments file ({study.study}-comments.csv)", "",
              "What participants wrote at a question that takes no free text (a choice, a scale, yes or no, a number) "
              "when the question could not read it as an answer: kept as a comment on the step, never counted as an answer.",
              "", "| column | meaning |", "|---|---|"]
    lines += [f"| {e['name']} | {cell(e['description'])} |" for e in entries if e["section"] == "comments_column"]
    lines += ["", "## Steps", "", "| flow | version | step | type | question | codes |", "|---|---|---|---|---|---|"]
    lines += [
        f"| {e['flow']} | {e['flow_version']} | {e['name']} | {e['step_type']} | {cell(e['description'])} | {cell(e['codes'])} |"
        for e in entries if e["section"] == "step"
    ]
    items = [e for e in entries if e["section"] == "item"]
    if items:
        lines += ["", "## Items of many-item steps", "",
                  "| flow | version | step | item | text | codes |", "|---|---|---|---|---|---|"]
        lines += [f"| {e['flow']} | {e['flow_version']} | {e['name']} | {cell(e['item'])} | {cell(e['description'])} | {cell(e['codes'])} |"
                  for e in items]
    return "\n".join(lines) + "\n"
