"""``chorus report``: tables (CSV) and charts (PNG and SVG) for each engagement method a
study used, from the item answers in the database. The dashboard can reuse
:func:`write_report` on the same :class:`ReportInput`.

Per many-item step (found in the study's published flows; the latest version of a step
id wins): Delphi summaries per round, item and group with participation, movement between
rounds, reasons (identifiers masked, as in exports), the ratings and rounds sent that
``chorus analyse delphi`` reads, and notes saying what the tables count; rankings (Borda,
Plackett-Luce with intervals, and notes where a group has none or its scores are held by
the prior); statement opinion groups, representative statements and
group-informed consensus; the Evaluate stage's follow-ups (response rates, FFT, SUS and
scale questions per month, or per week for a weekly follow-up, and paired before/after changes); pairwise scores with intervals; choice-model estimates, each
attribute's relative importance and what each feature is worth in the first numeric
attribute (willingness to trade, with delta-method intervals), as the desk shows them.
Every table with participants' groups names each by its id (``group``, "all" for everyone)
and its label as the desk shows it (``group_label``: the study file's, "Everyone" for all).
A rank option added or removed live is counted only over the people shown it (``n_offered``)
and shown by its label as it was offered, as on the desk.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.api.labels import EVERYONE
from bot.comments import COMMENT_COLUMNS, study_comments
from flows.analysis import delphi as delphi_analysis
from flows.analysis.mnl import (
    Z_95,
    AttributeCoding,
    CodedAttribute,
    EstimationError,
    MNLResult,
    attribute_importance,
    estimation_notes,
    fit_mnl,
    trade_off_table,
)
from flows.analysis.pairwise import score_by_group, score_items
from flows.analysis.ranking import INTERVAL_NOTES, analyse_rankings, group_notes
from flows.analysis.records import choice_long_format, comparisons, rankings_table, votes_table
from flows.analysis.rounding import whole
from flows.analysis.scale import ConsensusRule
from flows.analysis.statements import analyse_statements, group_gaps, votes_by_group
from flows.display_text import ChoiceWords, trade_in_words
from flows.loader import load_flow
from flows.model import StepBase, Study
from flows.population import ItemRecord, delphi_ratings
from flows.steps.choice_experiment import ChoiceExperimentStep
from flows.steps.delphi import DelphiStep
from flows.steps.pairwise import PairwiseStep
from flows.steps.rank import RankStep
from flows.steps.statements import StatementsStep
from storage import repository
from storage.database import Database

if TYPE_CHECKING:
    from bot.evaluation import FollowUps

METHODS = (DelphiStep, RankStep, StatementsStep, PairwiseStep, ChoiceExperimentStep)
STATUS_COLOURS = {"in": "#1b9e77", "few": "#bbbbbb"}
"""A Delphi chart's bar colour by consensus status: agreed in, too few scores to call; otherwise purple."""


class UnknownStudy(LookupError):
    pass


@dataclass
class ReportInput:
    study_id: str
    steps: dict[str, StepBase]
    """Many-item steps by id; a Delphi's (one of its rounds' steps) by ``delphi:<its id>``."""
    records: list[ItemRecord]
    group_labels: dict[str, str] = field(default_factory=dict)
    rounds_sent: dict[str, pd.DataFrame] = field(default_factory=dict)
    """Who was sent each round, by Delphi id (:func:`bot.analysis_input.delphi_rounds_sent`)."""
    item_texts: dict[str, str] = field(default_factory=dict)
    """What participants saw for a recorded item id: an approved submission's ('sub-12') text, masked."""
    followups: FollowUps | None = None
    """The Evaluate stage: FFT, SUS and scale follow-ups (:func:`bot.evaluation.followups`)."""
    language: str = "en"
    """The study's default language: what labels beside codes are written in."""
    comments: list[dict[str, str]] = field(default_factory=list)
    """What participants wrote that no question could read as its answer, masked (bot/comments.py)."""
    offered: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    """Rank step id -> participant -> the options their flow version showed them
    (:func:`bot.analysis_input.options_shown`); one not named was shown the step's every option."""
    listed_texts: dict[str, dict[str, str]] = field(default_factory=dict)
    """Step key -> code -> label over every published version (the newest's label where several
    have one): a code a later version removed keeps the words it was offered in."""

    def of(self, step_id: str) -> list[ItemRecord]:
        return [r for r in self.records if r.step == step_id]


def gather(database: Database, study_id: str) -> ReportInput:
    from bot.analysis_input import delphi_rounds_sent, options_shown
    from bot.api.labels import group_names
    from bot.evaluation import followups
    from bot.population import load_population

    with database.transaction() as connection:
        content = repository.study_content(connection, study_id)
        if content is None:
            raise UnknownStudy(f"no study '{study_id}' in the database; publish it first")
        study = Study.model_validate(content)
        steps: dict[str, StepBase] = {}
        listed: dict[tuple[int, str], list[str]] = {}
        texts_listed: dict[str, dict[str, str]] = {}
        for version in repository.flow_versions(connection, study_id):
            flow = load_flow(f"{study_id}/{version.flow_id}@{version.version}", raw=version.content).flow
            steps.update({_key(s): s for s in flow.steps if isinstance(s, METHODS)})
            listed.update({(version.id, s.id): [o.value for o in s.options] for s in flow.steps if isinstance(s, RankStep)})
            for s in flow.steps:
                if isinstance(s, METHODS):
                    texts_listed.setdefault(_key(s), {}).update(_listed_texts(s, study.default_language))
        data = load_population(connection, study_id, study)
        comments = study_comments(connection, study_id)
        offered = options_shown(connection, study_id, listed)
    delphis = {step.delphi_id for step in steps.values() if isinstance(step, DelphiStep)}
    sent = {delphi: delphi_rounds_sent(database, study_id, delphi) for delphi in sorted(delphis)}
    texts = {entry.id: entry.text for entries in data.approved_entries.values() for entry in entries}
    found = followups(database, study_id, over_time_period(study), study.timezone)
    return ReportInput(study_id, steps, list(data.records), group_names(study), sent, texts, found, study.default_language,
                       comments, offered, texts_listed)


def over_time_period(study: Study) -> Literal["week", "month"]:
    """The period the report's evaluation over time is counted in: weeks when the study sends a
    follow-up every week or more often (a weekly FFT charted by month would give two points
    for six weeks), months otherwise."""
    weekly = any(s.every is not None and s.every <= timedelta(days=7) for s in study.schedule)
    return "week" if weekly else "month"


def _key(step: StepBase) -> str:
    """A step's key in :attr:`ReportInput.steps`: its id, or a Delphi step's Delphi
    (``delphi:<id>``). Each Delphi gets its own tables, and two Delphis' steps may share an id
    (``rate``) in different flows: keyed by step id, one Delphi would hide the other."""
    return f"delphi:{step.delphi_id}" if isinstance(step, DelphiStep) else step.id


def _listed_texts(step: StepBase, language: str) -> dict[str, str]:
    """What participants saw for each code the step lists (an item's text, an option's label),
    in the study's default language, as the desk shows it beside the code."""
    from bot.api.labels import listed_labels

    return listed_labels(step.model_dump(mode="json"), language)


# ----------------------------------------------------------------------------- writing


class _Out:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.written: list[Path] = []

    def table(self, name: str, frame: pd.DataFrame) -> None:
        path = self.folder / f"{name}.csv"
        frame.to_csv(path, index=False)
        self.written.append(path)

    def text(self, name: str, content: str) -> None:
        path = self.folder / f"{name}.md"
        path.write_text(content, encoding="utf-8")
        self.written.append(path)

    def chart(self, name: str, draw: Callable[[Axes], None], size: tuple[float, float] = (7.0, 4.5)) -> None:
        fig = Figure(figsize=size, dpi=100)
        FigureCanvasAgg(fig)
        draw(fig.add_subplot())
        fig.tight_layout()
        for suffix in ("png", "svg"):
            path = self.folder / f"{name}.{suffix}"
            fig.savefig(path, format=suffix)
            self.written.append(path)


def write_report(data: ReportInput, out_dir: Path) -> list[Path]:
    """Write every table and chart; the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    out = _Out(out_dir)
    for step_id, step in sorted(data.steps.items()):
        records = data.of(step_id)
        if not records and not isinstance(step, DelphiStep):
            continue
        name = f"{step.type}-{step_id}"
        texts = {**data.listed_texts.get(step_id, {}), **_listed_texts(step, data.language), **data.item_texts}
        if isinstance(step, DelphiStep):
            _delphi(out, step, data.records, data.group_labels, data.rounds_sent.get(step.delphi_id), texts)
        elif isinstance(step, RankStep):
            _ranking(out, name, step, records, data.group_labels, texts, data.offered.get(step_id))
        elif isinstance(step, StatementsStep):
            _statements(out, name, records, texts, data.group_labels)
        elif isinstance(step, PairwiseStep):
            _pairwise(out, name, records, data.group_labels, texts)
        elif isinstance(step, ChoiceExperimentStep):
            _choice(out, name, step, records, data.group_labels, data.language)
    if data.followups:
        _evaluation(out, data.followups, data.group_labels)
    if data.comments:
        out.table("comments", pd.DataFrame(data.comments, columns=COMMENT_COLUMNS))
    return out.written


def _evaluation(out: _Out, found: FollowUps, labels: dict[str, str]) -> None:
    """The Evaluate stage: who answered each follow-up (per send), each measure per group per
    month or week (:func:`over_time_period`; a chart of everyone's), and the same people's baseline against their later answers."""
    if found.responses:
        out.table("evaluation-responses", _titled(_labelled(pd.DataFrame(found.responses), labels), found.titles))
    if found.weeks:
        out.table("evaluation-weeks", _titled(_labelled(pd.DataFrame(found.weeks), labels), found.titles))
    over_time = pd.DataFrame(found.over_time)
    if not over_time.empty:
        out.table("evaluation-over-time", _titled(_labelled(over_time, labels), found.titles))
        for (flow, step), part in over_time[over_time["group"] == "all"].groupby(["flow", "step"], sort=True):
            title = found.titles.get(str(flow), str(flow)) + ("" if step == "sus" else f" / {step}")

            def draw(ax: Axes, part: pd.DataFrame = part, title: str = title) -> None:
                _over_time_chart(ax, part, title)

            out.chart(f"evaluation-{flow}-{step}", draw)
    paired = pd.DataFrame(found.paired)
    if not paired.empty:
        out.table("evaluation-paired", _labelled(paired, labels))
        everyone = paired[(paired["group"] == "all") & paired["ci_low"].notna()]
        if not everyone.empty:
            names = [f"{m}: {b} to {a} (n={n})" for m, b, a, n in
                     zip(everyone["measure"], everyone["before"], everyone["after"], everyone["n_paired"], strict=True)]
            out.chart("evaluation-paired", lambda ax: _intervals(ax, names, list(everyone["mean_change"]), list(everyone["ci_low"]),
                                                                 list(everyone["ci_high"]), "mean change, later minus baseline (95% interval)"))
    out.text("evaluation-notes", EVALUATION_NOTES)


def _titled(frame: pd.DataFrame, titles: dict[str, str]) -> pd.DataFrame:
    """The table with a ``flow_title`` column beside its ``flow``."""
    titled = frame.copy()
    titled.insert(titled.columns.get_loc("flow") + 1, "flow_title", [titles.get(f, f) for f in titled["flow"]])
    return titled


def _over_time_chart(ax: Axes, part: pd.DataFrame, title: str) -> None:
    """Everyone's measure per period with the answers behind each point (n) beside it."""
    x = list(range(len(part)))
    ax.plot(x, list(part["value"]), marker="o", color="#1b9e77")
    for at, value, n in zip(x, part["value"], part["n"], strict=True):
        if value is not None and not pd.isna(value):
            ax.annotate(f"n={int(n)}", (at, float(value)), xytext=(0, 6), textcoords="offset points", ha="center", fontsize=8)
    measure = str(part["measure"].iloc[0])
    if measure != "mean":
        ax.set_ylim(0, 105)
    ax.set_xticks(x, list(part["period"]), rotation=45, ha="right")
    ax.set_ylabel(measure)
    ax.set_title(title)


EVALUATION_NOTES = """# Evaluation (follow-ups)

Follow-ups are the flows the study's `schedule:` sends (a study that schedules nothing: every
flow but the one people join by). The flow people join by is not one: everyone who joined
answered it, and its questions serve only as a baseline below.

- evaluation-responses: per follow-up flow and group, counted per send: `asked` is the times
  it was sent (a session of it started; a weekly pulse sent to 6 people for 6 weeks is 36),
  `people` how many it was sent to, `answered` the sends with any answer in them, the response
  rate (% of sends), and how the unanswered sends stand (still open, closed by the schedule,
  replaced by a later follow-up, stopped, ended otherwise); beside them, the sends planned
  but not made, which the rate leaves out: `to_come` (not due yet), `not_sent_stopped` (the
  person had opted out when it fell due, or a weekly one skipped while they had), `not_sent_missed`
  (past the schedule's grace), `not_sent_closed` (closed before it could go) and
  `not_sent_closed_before_due` (never planned for them: its fixed close or end date came first).
  Someone who declined consent is in no count: follow-ups go only to those who said yes.
- evaluation-weeks: per repeating (`every:`) follow-up, group and week (Monday to Sunday, named by
  its Monday), the sends made that week (`asked`), those answered and the response rate, and the
  sends not made that week: `skipped` (opted out or paused when due), `missed` and `closed`.
- evaluation-over-time: per month on the study's clock (per week, Monday to Sunday and named by
  its Monday, when the study sends a follow-up every week or more often), the FFT's % positive (Don't know counted;
  % negative beside it) and the SUS score (0-100, Brooke 1996; complete responses only), wherever
  they are asked, and each follow-up's scale questions' mean, with n, the answers behind each figure.
- evaluation-paired: the same people's first answer on the baseline occasion (the flow answered
  soonest after joining) against their latest to each later follow-up; and for a follow-up sent
  again and again (a weekly pulse), each person's first answer against their latest ("pulse
  (first)" to "pulse (latest)", `repeated` true), for those who answered it more than once. Given:
  n paired, means, the mean change with a 95% t interval, the median change and the Wilcoxon
  signed-rank p (two-sided; for ordinal 0-10 or 1-5 answers read this rather than the mean). A
  scale question is one measure wherever it has the same step id; `chorus analyse evaluation
  --same FLOW/STEP=NAME` pairs differently named ones.
"""


def _intervals(ax: Axes, labels: Sequence[str], centre: Sequence[float], low: Sequence[float], high: Sequence[float], xlabel: str) -> None:
    """Estimates as points, each with its interval where it has one (a missing end draws no bar)."""
    y = list(range(len(labels)))[::-1]
    ax.plot(centre, y, "o", color="#1b9e77")
    known = [i for i, (lo, hi) in enumerate(zip(low, high, strict=True)) if _finite(lo) and _finite(hi)]
    if known:
        errors = [[centre[i] - low[i] for i in known], [high[i] - centre[i] for i in known]]
        ax.errorbar([centre[i] for i in known], [y[i] for i in known], xerr=errors, fmt="none", ecolor="#7570b3", capsize=3)
    ax.set_yticks(y, [_wrapped(str(label)) for label in labels])
    ax.set_xlabel(xlabel)


def _finite(value: Any) -> bool:
    return value is not None and bool(np.isfinite(value))


def _wrapped(label: str, width: int = 32, lines: int = 3) -> str:
    """A long axis label on up to ``lines`` lines (cut short with an ellipsis past them), not cut off."""
    wrapped = textwrap.wrap(label, width, break_on_hyphens=False) or [""]
    if len(wrapped) > lines:
        wrapped = [*wrapped[: lines - 1], textwrap.shorten(" ".join(wrapped[lines - 1:]), width, placeholder="…")]
    return "\n".join(wrapped)


def _labelled(frame: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """The table with a ``group_label`` column beside its ``group`` (the id, "all" for everyone):
    one convention in every table that has groups, the desk's names ("Everyone" for all:
    bot.api.labels.EVERYONE). A table without groups is left as it is."""
    if "group" not in frame.columns or "group_label" in frame.columns:
        return frame
    names = {**EVERYONE, **labels}
    labelled = frame.copy()
    labelled.insert(labelled.columns.get_loc("group") + 1, "group_label", [names.get(g, g) for g in labelled["group"]])
    return labelled


def _whole_numbers(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """The columns written as integers ("10", not "10.0") when every value in them is whole."""
    fixed = frame.copy()
    for column in columns:
        values = pd.to_numeric(fixed[column], errors="coerce")
        given = values.dropna()
        if len(given) == fixed[column].notna().sum() and (given == given.round()).all():
            fixed[column] = values.astype("Int64")
    return fixed


def _delphi(out: _Out, step: DelphiStep, records: list[ItemRecord], labels: dict[str, str], sent: pd.DataFrame | None,
            texts: dict[str, str] | None = None) -> None:
    ratings = delphi_analysis.latest_ratings(delphi_ratings(records, step.delphi_id))
    if ratings.empty or f"delphi-{step.delphi_id}-summary.csv" in {p.name for p in out.written}:
        return
    rule = step.rule()
    summary = delphi_analysis.summarise(ratings, rule)
    summary["counts"] = summary["counts"].map(lambda c: " ".join(map(str, c)))
    name = f"delphi-{step.delphi_id}"
    participation = delphi_analysis.participation(ratings, sent)
    summary = _with_text(summary, "item", texts or {})
    out.table(f"{name}-summary", _labelled(summary, labels))
    out.table(f"{name}-participation", _labelled(participation, labels))
    out.table(f"{name}-movement", _labelled(_with_text(delphi_analysis.movement(ratings, rule.scale), "item", texts or {}), labels))
    reasons = _scrubbed(ratings.dropna(subset=["reason"])[["participant", "group", "round", "item", "score", "reason"]])
    reasons = reasons.assign(in_these_words=delphi_analysis.in_these_words(reasons, rule.scale))
    out.table(f"{name}-reasons", _labelled(_with_text(_whole_numbers(reasons, "score"), "item", texts or {}), labels))
    _delphi_inputs(out, name, ratings, sent, labels)
    _delphi_charts(out, name, rule, summary)
    out.text(f"{name}-notes", _delphi_notes(step, participation))


def _scrubbed(reasons: pd.DataFrame) -> pd.DataFrame:
    """The reasons, participants' own words, with identifiers masked as the export masks free text."""
    from bot.export import scrub

    return reasons.assign(reason=reasons["reason"].map(lambda text: scrub(str(text))))


def _delphi_inputs(out: _Out, name: str, ratings: pd.DataFrame, sent: pd.DataFrame | None, labels: dict[str, str]) -> None:
    """The ratings (one row per participant, round and item, with the reason where one was
    given, masked) and who was sent each round, as ``chorus analyse delphi --ratings ... --sent
    ...`` reads them: run on these it counts attrition as this report and the desk do."""
    columns = ["participant", "group", "round", "item", "score", "reason"]
    table = _whole_numbers(_scrubbed(ratings[columns].assign(reason=ratings["reason"].fillna(""))), "score")
    out.table(f"{name}-ratings", _labelled(table, labels))
    if sent is not None:
        out.table(f"{name}-rounds-sent", delphi_analysis.rounds_reached(sent)[["participant", "round", "open"]])


def _delphi_notes(step: DelphiStep, participation: pd.DataFrame) -> str:
    """What the Delphi's tables count, in words, for whoever opens them without the desk."""
    bases = [delphi_analysis.ATTRITION_BASES[b] for b in dict.fromkeys(participation["attrition_basis"])]
    lines = [f"# Delphi '{step.delphi_id}'", "", f"- Consensus: {step.rule().describe()}.",
             f"- Unsure answers: {delphi_analysis.UNSURE_LEFT_OUT}.",
             "- Attrition (participation): " + "; ".join(bases) + " ('open' in rounds-sent: could still answer when this "
             "report was written).",
             f"- Responders (participation): {delphi_analysis.RESPONDERS_NOTE}.",
             "- Reasons: every standing reason, one row each; in_these_words counts the reasons of its round, item and "
             "score band in the same words (case and punctuation aside), itself included, as the desk quotes such words "
             "once with that count.",
             "- The ratings and rounds-sent tables are what `chorus analyse delphi --ratings ... --sent ...` reads."]
    return "\n".join(lines) + "\n"


def _delphi_charts(out: _Out, name: str, rule: ConsensusRule, summary: pd.DataFrame) -> None:
    """One bar chart per round: everyone's share scoring high on each item (of those who gave a
    score, how many and how many were unsure beside each bar), against the rule's threshold."""
    band = f"{rule.scale.high_band[0]}-{rule.scale.high_band[1]}"
    for round_number, part in summary[summary["group"] == "all"].groupby("round"):

        def draw(ax: Axes, part: pd.DataFrame = part, r: int = int(round_number)) -> None:
            y = list(range(len(part)))[::-1]
            ax.barh(y, part["pct_high"], color=[STATUS_COLOURS.get(c, "#7570b3") for c in part["consensus"]])
            ax.axvline(rule.agree_pct, color="#d95f02", linestyle="--")
            ax.set_yticks(y, [_wrapped(str(i)) for i in part["text"]])
            for at, pct, n, unsure, status in zip(y, part["pct_high"], part["n"], part["n_unsure"], part["consensus"], strict=True):
                ax.annotate(_bar_note(pct, int(n), int(unsure), status == "few"), (min(float(np.nan_to_num(pct)), 100.0), at),
                            xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
            ax.set_xlim(0, 125)  # room for the notes beside full bars
            ax.set_xticks(range(0, 101, 20))
            ax.set_xlabel(f"% of those who gave a score who scored {band} (round {r}; unsure answers left out)")

        out.chart(f"{name}-round{int(round_number)}", draw)


def _bar_note(pct: float, n: int, unsure: int, few: bool = False) -> str:
    """'80% of 10, 2 unsure': the share, its denominator and who it leaves out ('too few
    scores' after it when the rule calls no consensus on so few)."""
    shown = "-" if np.isnan(pct) else f"{whole(pct)}%"
    return f"{shown} of {n}" + (f", {unsure} unsure" if unsure else "") + (": too few scores" if few else "")


def _ranking(out: _Out, name: str, step: RankStep, records: list[ItemRecord], labels: dict[str, str],
             texts: dict[str, str] | None = None, offered: dict[str, list[str]] | None = None) -> None:
    """Borda and Plackett-Luce per option and group, each option over the people shown it
    (``offered``: participant -> the options their flow version listed)."""
    table = rankings_table(records)
    if table.empty:
        return
    result = _with_text(analyse_rankings(table, [o.value for o in step.options], n_boot=100, offered=offered), "option", texts or {})
    out.table(name, _labelled(result, labels))
    notes = group_notes(result, {**EVERYONE, **labels})
    if notes:
        out.text(f"{name}-notes", "# Intervals and the prior\n\n" + "".join(f"- {note}.\n" for note in notes))
    overall = result[(result["group"] == "all") & result["score"].notna()]
    reason = overall["interval_note"].iloc[0] if len(overall) else None
    axis = "Plackett-Luce log-strength (95% interval)" if not isinstance(reason, str) else f"Plackett-Luce log-strength (no interval: {INTERVAL_NOTES[reason]})"
    out.chart(name, lambda ax: _intervals(ax, list(overall["text"]), list(overall["score"]), list(overall["low"]), list(overall["high"]), _wrapped(axis, 90)))


def _with_text(frame: pd.DataFrame, column: str, texts: dict[str, str]) -> pd.DataFrame:
    """The table with a ``text`` column beside ``column``: what participants saw (the step's
    own words for a listed code, an approved submission's masked words for its 'sub-N' id; the
    item itself otherwise)."""
    if column not in frame.columns or frame.empty:
        return frame
    shown = frame.copy()
    shown.insert(shown.columns.get_loc(column) + 1, "text", [texts.get(str(v), str(v)) for v in shown[column]])
    return shown


def _statements(out: _Out, name: str, records: list[ItemRecord], texts: dict[str, str] | None = None,
                labels: dict[str, str] | None = None) -> None:
    """Opinion groups, consensus for and against (``common_ground``), representative statements,
    and how each study group voted on each statement with the gap between them (``-by-group``), as the desk."""
    texts = texts or {}
    votes = votes_table(records)
    if votes["participant"].nunique() < 4:
        return
    analysis = analyse_statements(votes.drop(columns="group"))
    by_group = votes_by_group(votes)
    by_group = by_group.merge(group_gaps(by_group), on="statement", how="left")
    out.table(f"{name}-by-group", _labelled(_with_text(by_group, "statement", texts), labels or {}))
    members = [(group.id, p) for group in analysis.groups for p in group.members]
    out.table(f"{name}-groups", pd.DataFrame(members, columns=["opinion_group", "participant"]))
    out.table(f"{name}-consensus", _with_text(analysis.consensus, "statement", texts))
    representative = [reps.assign(opinion_group=g) for g, reps in analysis.representative.items()]
    out.table(f"{name}-representative",
              _with_text(pd.concat(representative, ignore_index=True), "statement", texts) if representative else pd.DataFrame())
    projection = analysis.projection

    def draw(ax: Axes) -> None:
        for group, part in projection.groupby("group"):
            ax.scatter(part["x"], part["y"], label=f"group {group}", s=18)
        ax.legend()
        ax.set_xlabel("first component")
        ax.set_ylabel("second component")

    out.chart(f"{name}-groups", draw, (5.5, 5.0))


def _pairwise(out: _Out, name: str, records: list[ItemRecord], labels: dict[str, str], texts: dict[str, str] | None = None) -> None:
    texts = texts or {}
    found = comparisons(records)
    items = sorted({n for _, c in found for n in (c.winner, c.loser)})
    if len(items) < 2:
        return
    scores = [{"group": "all", **s.__dict__} for s in score_items([c for _, c in found], items)]
    by_group: dict[str, list[Any]] = {}
    for group, comparison in found:
        by_group.setdefault(group, []).append(comparison)
    if len(by_group) > 1:
        for group, result in score_by_group(by_group).items():  # each over the ideas it compared, as the desk
            scores += [{"group": group, **s.__dict__} for s in result]
    table = _with_text(pd.DataFrame(scores), "item", texts)
    out.table(name, _labelled(table, labels))
    overall = table[table["group"] == "all"]
    out.chart(name, lambda ax: _intervals(ax, list(overall["text"]), list(overall["score"]), list(overall["low"]), list(overall["high"]), "chance of beating a random other idea (0-100)"))


def _choice(out: _Out, name: str, step: ChoiceExperimentStep, records: list[ItemRecord], labels: dict[str, str],
            language: str = "en") -> None:
    """The model's estimates, importance and trade-offs, each code with its words beside it
    (``label``: "Who: any nurse"), and a chart of the estimates by those words."""
    attributes = [(n, a.levels) for n, a in step.attributes.items()]
    long, features = choice_long_format(records, attributes)
    if long.empty:
        return
    out.table(f"{name}-data", _labelled(long, labels))
    try:
        result = fit_mnl(long, choice_set="choice_set", chosen="chosen", features=features)
    except (EstimationError, ValueError, ArithmeticError, np.linalg.LinAlgError) as error:  # too few answers to fit
        out.table(f"{name}-estimates", pd.DataFrame([{"error": str(error)}]))
        return
    words = _choice_words(step, language)
    table = _estimates(result)
    table.insert(1, "label", [words.feature(str(f)) for f in table["feature"]])
    out.table(f"{name}-estimates", table)
    estimated = table.dropna(subset=["estimate"])
    out.chart(f"{name}-estimates", lambda ax: _intervals(ax, list(estimated["label"]), list(estimated["estimate"]), list(estimated["low"]), list(estimated["high"]), "coefficient (95% interval)"))
    coding = _step_coding(step, long, features)
    _choice_summaries(out, name, result, coding, words)
    notes = estimation_notes(result, coding)
    if notes:
        out.text(f"{name}-notes", "# Not estimated\n\n" + "".join(f"- {note}.\n" for note in notes)
                 + "\nThe other estimates are fitted without them, as the choices made imply (the limit of the "
                 "maximum-likelihood fit); the estimates table gives each left out with its reason.\n")


def _choice_words(step: ChoiceExperimentStep, language: str) -> ChoiceWords:
    attributes = {n: {"levels": a.levels, "labels": a.labels or {}, "label": a.label} for n, a in step.attributes.items()}
    return ChoiceWords.of([{"attributes": attributes, "neither_label": step.neither_label}], language)


def _estimates(result: MNLResult) -> pd.DataFrame:
    """One row per feature: the estimate with its 95% interval, or, for one the choices
    cannot estimate (nobody chose Neither), empty figures and the reason in ``note``."""
    rows = [{"feature": f, **v, "low": v["estimate"] - Z_95 * v["se"], "high": v["estimate"] + Z_95 * v["se"], "note": ""}
            for f, v in result.coefficients().items()]
    rows += [{"feature": u.feature, "estimate": np.nan, "se": np.nan, "low": np.nan, "high": np.nan, "note": u.reason}
             for u in result.unidentified]
    table = pd.DataFrame(rows, columns=["feature", "estimate", "se", "low", "high", "note"])
    table["log_likelihood"], table["n_choice_sets"] = result.log_likelihood, result.n_choice_sets
    return table


def _step_coding(step: ChoiceExperimentStep, long: pd.DataFrame, features: list[str]) -> AttributeCoding:
    """The coding :func:`choice_long_format` made: a numeric attribute is its own feature
    (spanning the values shown), any other is coded against its first level in the flow."""
    shown = long[long["alternative"] != 0]
    numeric: dict[str, tuple[float, float]] = {}
    categorical: list[CodedAttribute] = []
    for attribute, spec in step.attributes.items():
        if attribute in features:
            numeric[attribute] = (float(shown[attribute].min()), float(shown[attribute].max()))
        else:
            levels = tuple(str(level) for level in spec.levels)
            categorical.append(CodedAttribute(attribute, levels, levels[0], "dummy"))
    return AttributeCoding(tuple(features), tuple(categorical), numeric)


def _choice_summaries(out: _Out, name: str, result: MNLResult, coding: AttributeCoding, words: ChoiceWords | None = None) -> None:
    """Relative importance (shares of 1, largest first) and willingness to trade, as on the desk,
    with the words for each code beside it."""
    words = words or ChoiceWords()
    importance = attribute_importance(result, coding)
    if importance:
        ranked = sorted(importance.items(), key=lambda pair: pair[1], reverse=True)
        table = pd.DataFrame(ranked, columns=["attribute", "importance"])
        table.insert(1, "attribute_label", [words.attribute(str(a)) for a in table["attribute"]])
        out.table(f"{name}-importance", table)
    against = coding.default_against(result)
    trades = trade_off_table(result, against) if against else []
    if trades:
        out.table(f"{name}-trade-offs", pd.DataFrame(
            [{"feature": t["feature"], "label": words.feature(str(t["feature"])), "against": t["against"],
              "against_label": words.amount(str(t["against"])), **{k: v for k, v in t.items() if k not in ("feature", "against")},
              "in_words": trade_in_words(words, str(t["against"]), float(t["estimate"]), t.get("low"), t.get("high"))}
             for t in trades]))
