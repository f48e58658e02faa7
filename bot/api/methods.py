"""From stored answers to each engagement method's analysis (flows/analysis), as plain data.

Answer shapes read (``item`` is the answers table's column when it exists, else a key
of the value):

* Delphi: any item answer valued ``{"delphi", "round", "score"}`` (flows.population's
  ``delphi_value``; score null = unsure). A ``scale`` step from 1 to 9 also counts, as
  an item named by its step id, in round 1.
* ranking: type ``rank``: the step's own answer, a list of options best first.
* pairwise: type ``pairwise``: item answers ``{"winner", "loser", "tie"}``.
* choice experiment: type ``choice_experiment``: item answers ``{"alternatives":
  [{attribute: level}, ...], "chosen": 1-based index, 0 = neither, "opt_out"}``.
* statements: type ``statements``: item answers (the statement) valued 1 / -1 / 0.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bot.analysis_input import rounds_sent_to
from bot.api.catalogue import latest_steps
from flows.analysis import delphi, pairwise, ranking, statements
from flows.analysis.mnl import (
    Z_95,
    EstimationError,
    attribute_importance,
    code_attributes,
    estimation_notes,
    fit_mnl,
    trade_off_table,
)
from flows.analysis.scale import ConsensusRule

if TYPE_CHECKING:
    from storage.database import Database

RANKING = {"rank"}
PAIRWISE = {"pairwise"}
CHOICE = {"choice_experiment"}
STATEMENTS = {"statements"}
VOTES = {"agree": 1, "disagree": -1, "pass": 0, "1": 1, "-1": -1, "0": 0}


def plain(value: Any) -> Any:
    """JSON-friendly: numpy scalars to Python, NaN and infinities to None."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [plain(row) for row in frame.to_dict(orient="records")]


def _of(frame: pd.DataFrame, types: set[str]) -> pd.DataFrame:
    return frame[frame["type"].isin(types)]


def _field(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


# ----------------------------------------------------------------------------- Delphi


def delphi_ratings(frame: pd.DataFrame, steps: dict[tuple[int, str], Any],
                   rules: dict[str, ConsensusRule] | None = None) -> pd.DataFrame:
    """The long ratings table of flows.analysis.delphi from Delphi item answers (and 1-9 scales),
    with each rating's Delphi (``delphi``; "" for a scale step), the reason given for it
    (``reason``, as typed: mask it before it is shown) and its answer's id (``answer``). A score
    off its Delphi's scale (``rules``, by Delphi id; 1-9 where not given) is left out."""
    rows = []
    for r in frame.itertuples(index=False):
        value = r.value
        if isinstance(value, dict) and "round" in value and "score" in value and (r.item or value.get("item")):
            rows.append((r.participant, r.group, value.get("delphi") or "", int(value["round"]), str(r.item or value["item"]),
                         value["score"], value.get("reason") or None, r.id))
        elif r.type == "scale" and r.item is None:
            raw = steps[(r.version_id, r.step)].raw if (r.version_id, r.step) in steps else {}
            if raw.get("min") == 1 and raw.get("max") == 9:
                rows.append((r.participant, r.group, "", 1, r.step, None if r.skipped else r.value, None, r.id))
    ratings = pd.DataFrame(rows, columns=["participant", "group", "delphi", "round", "item", "score", "reason", "answer"])
    if ratings["delphi"].nunique() > 1:  # several Delphis in one study: keep their items apart
        ratings["item"] = ratings["delphi"].where(ratings["delphi"] == "", ratings["delphi"] + ": ") + ratings["item"]
    ratings["score"] = pd.to_numeric(ratings["score"], errors="coerce")
    scales = {delphi: (rule.scale.low, rule.scale.high) for delphi, rule in (rules or {}).items()}
    bounds = ratings["delphi"].map(lambda delphi: scales.get(delphi, (1, 9)))
    lowest, highest = bounds.map(lambda b: b[0]), bounds.map(lambda b: b[1])
    on_scale = (ratings["score"] >= lowest) & (ratings["score"] <= highest)
    return ratings[ratings["score"].isna() | on_scale]


def _summarised(ratings: pd.DataFrame, rule: ConsensusRule) -> pd.DataFrame:
    """:func:`delphi.summarise` with the scale each row was rated on (its lowest point and high band, for charts)."""
    summary = delphi.summarise(ratings, rule)
    scale = rule.scale
    summary["scale_low"], summary["high_band"] = scale.low, f"{scale.high_band[0]}-{scale.high_band[1]}"
    summary["low_band"] = f"{scale.low_band[0]}-{scale.low_band[1]}"
    summary["min_scores"] = rule.min_scores  # below it the status is "few": too few scores to call
    return summary


def delphi_rules(steps: dict[tuple[int, str], Any]) -> dict[str, ConsensusRule]:
    """Each Delphi's scale and consensus rule as its flow declares them (the latest published
    version's), by Delphi id."""
    from flows.steps.delphi import declared_rule

    return {str(info.raw.get("delphi") or info.step): declared_rule(info.raw) for info in latest_steps(steps) if info.type == "delphi"}


def delphi_report(frame: pd.DataFrame, steps: dict[tuple[int, str], Any], sent: pd.DataFrame | None = None,
                  held: Collection[int] = ()) -> dict[str, Any]:
    """Each Delphi summarised on its own scale and consensus rule, and its participation counted
    on its own: round 2 of one Delphi is not round 2 of another. Attrition counts only those who
    were ``sent`` a round (:func:`bot.analysis_input.delphi_rounds_sent`) and did not answer.
    Every row names its Delphi (``delphi``; "" for 1-9 scale steps); ``delphis`` lists each
    with its rounds, and ``rounds`` is every Delphi's. Each item row has the ``reasons`` given
    for its scores by those it counts (:func:`delphi_reasons`); the answers in ``held``
    (:func:`safeguarding_held`) count there but are never quoted."""
    rules = delphi_rules(steps)
    ratings = delphi_ratings(frame, steps, rules)
    if ratings.empty:
        return {"items": [], "movement": [], "participation": [], "rounds": [], "delphis": []}
    summaries, movements, participations, delphis = [], [], [], []
    for name, part in ratings.groupby("delphi", sort=False):
        rated, rule = part.drop(columns="delphi"), rules.get(str(name), ConsensusRule())
        summary = _summarised(rated, rule).assign(delphi=str(name))
        summary["reasons"] = delphi_reasons(summary, rated, rule, held)
        participation = delphi.participation(rated, rounds_sent_to(sent, str(name))).assign(delphi=str(name))
        rounds = {int(r) for r in summary["round"].unique()}
        rounds |= {int(r) for r in participation["round"].unique() if int(r) > max(rounds)}
        summaries.append(summary)
        movements.append(delphi.movement(rated, rule.scale).assign(delphi=str(name)))
        participations.append(participation)
        delphis.append({"delphi": str(name), "rounds": sorted(rounds), "rule": rule.describe()})  # rounds: the next, sent but not rated yet, too
    summary = pd.concat(summaries, ignore_index=True)
    summary["counts"] = summary["counts"].map(list)
    return {
        "rounds": sorted({r for d in delphis for r in d["rounds"]}),
        "delphis": delphis,
        "items": records(summary),
        "movement": records(pd.concat(movements, ignore_index=True)),
        "participation": records(pd.concat(participations, ignore_index=True)),
    }


def delphi_reasons(summary: pd.DataFrame, rated: pd.DataFrame, rule: ConsensusRule, held: Collection[int] = ()) -> list[dict[str, Any]]:
    """For each row of a Delphi's ``summary`` (round, item, group), the reasons those it counts
    gave for the scores that stand (a score changed later takes its reason with it), masked as
    exports and themes mask free text (:func:`nlp.redact.redact`: phone numbers, e-mails, names
    and the like), by score band (:func:`flows.analysis.delphi.reasons_by_band`: at most
    ``REASONS_SHOWN`` quoted per band, every one counted; reasons in the same words quoted once,
    with their ``count`` and ``given_by``). An answer in ``held`` is counted, never quoted."""
    from nlp.redact import redact

    standing = delphi.latest_ratings(rated)
    given = standing[standing["reason"].notna() & standing["score"].notna()]
    given = given.assign(reason=given["reason"].map(lambda text: redact(str(text))), quotable=~given["answer"].isin(list(held)),
                         group=given["group"].fillna("unspecified").astype(str), item=given["item"].astype(str))
    by_item = {(int(r), str(i)): part for (r, i), part in given.groupby(["round", "item"], sort=False)}
    empty = given.iloc[0:0]
    found = []
    for r, i, g in summary[["round", "item", "group"]].itertuples(index=False):
        part = by_item.get((int(r), str(i)), empty)
        found.append(plain(delphi.reasons_by_band(part if g == delphi.ALL else part[part["group"] == g], rule.scale)))
    return found


def safeguarding_held(database: Database, study_id: str) -> set[int]:
    """The study's answers never to be quoted: every answer at a step where its participant
    raised a safeguarding concern (as the themes hold them back: bot.theme_inputs.flagged_answers)."""
    from sqlalchemy import and_, select

    from bot.theme_inputs import SAFEGUARDING
    from storage.tables import ANSWERS, FLAGS

    a, f = ANSWERS.c, FLAGS.c
    same_step = and_(f.participant_id == a.participant_id, f.study_id == a.study_id, f.flow_id == a.flow_id, f.step_id == a.step_id)
    query = (select(a.id).distinct().select_from(ANSWERS.join(FLAGS, same_step))
             .where(a.study_id == study_id, f.kind == SAFEGUARDING))
    with database.reading() as session:
        return {int(answer_id) for answer_id in session.execute(query).scalars()}


# ----------------------------------------------------------------------------- ranking


def ranking_report(frame: pd.DataFrame, steps: Mapping[tuple[int, str], Any] | None = None, n_boot: int = 100) -> dict[str, Any]:
    """Each rank step on its own (its rows name it), with all its options: one nobody put in
    their top places still comes last, as ``chorus report`` has it. ``n_people``: how many of
    the row's group answered the step (``n_offered``: how many of them were shown the option, by
    the flow version they answered: one added or removed live is counted only over those shown
    it; ``n_ranked``: how many placed it).
    A row without ``low``/``high`` has no interval, for the reason ``notes`` gives under its
    ``interval_note`` ("alike": everyone in the group ranked alike; "few": too few rankings);
    ``prior_held``: its group's scores are held finite by the prior (``notes["prior_held"]``)."""
    rows = []
    shown: dict[tuple[str, str], list[str]] = {}
    for r in _of(frame, RANKING).itertuples(index=False):
        order = r.value
        if not isinstance(order, list) or r.skipped or r.item is not None:
            continue
        rows += [(r.step, r.participant, r.group, str(option), place) for place, option in enumerate(order, start=1)]
        version_options = _version_options(steps or {}, getattr(r, "version_id", None), str(r.step))
        if version_options is not None:
            shown.setdefault((str(r.step), str(r.participant)), version_options)
    table = pd.DataFrame(rows, columns=["step", "participant", "group", "option", "position"])
    found: list[dict[str, Any]] = []
    for step_id, part in table.groupby("step", sort=False):
        ranked = part.drop(columns="step").drop_duplicates(["participant", "option"], keep="first")
        options = _rank_options(steps or {}, str(step_id)) or None
        offered = {who: listed for (step, who), listed in shown.items() if step == str(step_id)}
        people = {"all": ranked["participant"].nunique(), **ranked.groupby("group")["participant"].nunique().to_dict()}
        found += [{"step": step_id, **row, "n_people": plain(people.get(row["group"], 0))}
                  for row in records(ranking.analyse_rankings(ranked, options, n_boot=n_boot, offered=offered))]
    notes = {**ranking.INTERVAL_NOTES, "prior_held": ranking.prior_note(ranking.DEFAULT_ALPHA)}
    return {"options": found, "notes": notes, "alpha": ranking.DEFAULT_ALPHA}


def _listed_values(info: Any) -> list[str]:
    options = info.raw.get("options") or []
    return [str(o.get("value")) if isinstance(o, dict) else str(o) for o in options]


def _rank_options(steps: Mapping[tuple[int, str], Any], step_id: str) -> list[str]:
    """The option values of a rank step, as its flow lists them (the newest version's)."""
    for (_, step), info in sorted(steps.items(), key=lambda item: item[0][0], reverse=True):
        if step == step_id and getattr(info, "type", "") == "rank":
            return _listed_values(info)
    return []


def _version_options(steps: Mapping[tuple[int, str], Any], version_id: Any, step_id: str) -> list[str] | None:
    """The options the rank step listed in flow version ``version_id``: what an answer given
    under it was shown (None when that version is not known)."""
    info = steps.get((int(version_id), step_id)) if version_id is not None and not pd.isna(version_id) else None
    return _listed_values(info) if info is not None and getattr(info, "type", "") == "rank" else None


# ----------------------------------------------------------------------------- pairwise


def _comparison(value: Any) -> pairwise.Comparison | None:
    if isinstance(value, dict) and value.get("winner") and value.get("loser"):
        return pairwise.Comparison(str(value["winner"]), str(value["loser"]), bool(value.get("tie")))
    return None


def pairwise_report(frame: pd.DataFrame) -> dict[str, Any]:
    """Each pairwise step on its own (``steps``: its id and its scores by group), as ``chorus
    report`` has it: ideas of different steps were never put side by side, so one model over
    them all would rank them against each other on nothing. ``groups`` holds every step's rows
    by group, each scored within its own step and naming it (``step``). Each idea's row counts
    its ``wins``, ``losses``, ``ties`` ("Can't decide") and ``decisive`` (wins + losses);
    ``comparisons`` is ``decisive`` under its older name: ties are not in it."""
    by_step: dict[str, dict[str, list[pairwise.Comparison]]] = {}
    for r in _of(frame, PAIRWISE).itertuples(index=False):
        found = _comparison(r.value)
        if found is not None and found.winner != found.loser:
            by_step.setdefault(str(r.step), {}).setdefault(r.group, []).append(found)
    steps: list[dict[str, Any]] = []
    merged: dict[str, list[dict[str, Any]]] = {}
    for step_id, by_group in by_step.items():
        scored = {g: [{"step": step_id, **row} for row in rows] for g, rows in _pairwise_groups(by_group).items()}
        if scored:
            steps.append({"step": step_id, "groups": scored})
        for group, rows in scored.items():
            merged.setdefault(group, []).extend(rows)
    return {"groups": {g: merged[g] for g in sorted(merged, key=lambda g: (g != "all", g))}, "steps": steps}


def _pairwise_groups(by_group: dict[str, list[pairwise.Comparison]]) -> dict[str, list[dict[str, Any]]]:
    """One step's scores for everyone and for each group (none where fewer than two ideas were compared)."""
    everyone = [c for group in by_group.values() for c in group]
    if len({n for c in everyone for n in (c.winner, c.loser)}) < 2:
        return {}
    groups = {"all": everyone} | {g: c for g, c in sorted(by_group.items()) if len(c) >= 1}
    result = {}
    for group, comparisons in groups.items():
        try:
            result[group] = [plain(vars(s)) for s in pairwise.score_items(comparisons)]
        except ValueError:
            continue
    return result


# ----------------------------------------------------------------------------- choice experiments


def choice_long(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per alternative per task (plus "neither" when offered); ``chosen`` counts from 1, 0 = neither."""
    rows = []
    for n, r in enumerate(_of(frame, CHOICE).itertuples(index=False)):
        alternatives, chosen = _field(r.value, "alternatives"), _field(r.value, "chosen")
        if not isinstance(alternatives, list) or not all(isinstance(a, dict) for a in alternatives) or not isinstance(chosen, int):
            continue
        for index, alternative in enumerate(alternatives, start=1):
            rows.append({"set": n, "group": r.group, "chosen": int(chosen == index), "optout": 0, **alternative})
        if _field(r.value, "opt_out") or chosen == 0:
            rows.append({"set": n, "group": r.group, "chosen": int(chosen == 0), "optout": 1})
    return pd.DataFrame(rows)


def choice_report(frame: pd.DataFrame, steps: Mapping[tuple[int, str], Any] | None = None) -> dict[str, Any]:
    """A conditional logit on every choice task, with each attribute's relative importance and
    what each feature is worth in the first numeric attribute (flows.analysis.mnl). A text
    attribute is coded against the first level its flow lists (as ``chorus report`` does).
    A coefficient the choices cannot estimate (nobody chose Neither) is not among the
    coefficients: ``not_estimated`` names it and ``notes`` say why, in words.
    ``reference_levels`` names, per text attribute, the level its other levels are compared with."""
    data = choice_long(frame)
    if data.empty:
        return {"coefficients": [], "n_choice_sets": 0}
    attributes = [c for c in data.columns if c not in ("set", "group", "chosen", "optout")]
    data, coding = code_attributes(data, attributes, declared_levels(steps or {}))
    features = (["optout"] if data["optout"].any() else []) + list(coding.features)
    try:
        result = fit_mnl(data, choice_set="set", chosen="chosen", features=features)
    except (EstimationError, ValueError) as error:
        return {"coefficients": [], "n_choice_sets": int(data["set"].nunique()), "error": str(error)}
    rows = [{"feature": f, "estimate": v["estimate"], "se": v["se"], "low": v["estimate"] - Z_95 * v["se"],
             "high": v["estimate"] + Z_95 * v["se"]} for f, v in result.coefficients().items()]
    against = coding.default_against(result)
    return {"coefficients": plain(rows), "n_choice_sets": result.n_choice_sets,
            "log_likelihood": plain(result.log_likelihood), "rho_squared": plain(result.rho_squared),
            "importance": plain(attribute_importance(result, coding)),
            "trade_offs": plain(trade_off_table(result, against) if against else []),
            "reference_levels": {c.name: c.reference for c in coding.categorical},
            "not_estimated": [u.as_dict() for u in result.unidentified], "notes": estimation_notes(result, coding)}


def declared_levels(steps: Mapping[tuple[int, str], Any]) -> dict[str, list[str]]:
    """Each choice-experiment attribute's levels in the order its flow lists them (the latest
    published version's): the first is the reference level."""
    found: dict[str, list[str]] = {}
    for info in latest_steps(steps):
        if info.type == "choice_experiment":
            for name, spec in (info.raw.get("attributes") or {}).items():
                levels = spec.get("levels", []) if isinstance(spec, dict) else spec
                found[str(name)] = [str(level) for level in levels or []]
    return found


# ----------------------------------------------------------------------------- statement voting


def _vote(value: Any) -> int | None:
    if value is None or isinstance(value, bool | dict | list):
        return None
    return VOTES.get(str(value).strip().lower())


def statements_report(frame: pd.DataFrame) -> dict[str, Any]:
    """Opinion groups (Pol.is: :func:`flows.analysis.statements.analyse_statements`), each with
    its members by study group (``stakeholders``); the group-informed consensus of every
    statement (``consensus_scale`` says how to read it) and against it (``against``; ``common_ground``
    is ``agree`` or ``disagree`` when most of every opinion group votes that way), each row also giving how each study
    group voted (``by_group``: n, agree, disagree, pass and their shares, everyone's first) and
    how far apart their agree shares are (``gap``, between the groups ``most`` and ``least``
    agreeing, of those with at least ``gap_min_votes`` votes)."""
    rows = []
    for r in _of(frame, STATEMENTS).itertuples(index=False):
        statement, vote = r.item, _vote(r.value)
        if statement is not None and vote is not None:
            rows.append((r.participant, str(statement), vote, r.group))
    votes = pd.DataFrame(rows, columns=["participant", "statement", "vote", "group"])
    if votes["participant"].nunique() < 2 or votes["statement"].nunique() < 2:
        return {"groups": [], "consensus": [], "representative": {}}
    result = statements.analyse_statements(votes.drop(columns="group"))
    group_of = dict(zip(votes["participant"], votes["group"], strict=True))
    makeup = statements.group_makeup(result.groups, group_of)
    return {
        "groups": [{"id": g.id, "size": g.size, "stakeholders": makeup[g.id]} for g in result.groups],
        "unclustered": len(result.unclustered),
        "consensus": _consensus_by_group(result, votes),
        "consensus_scale": statements.CONSENSUS_SCALE,
        "gap_min_votes": statements.GAP_MIN_VOTES,
        "representative": {str(k): records(v.reset_index()) for k, v in result.representative.items()},
    }


def _consensus_by_group(result: statements.StatementAnalysis, votes: pd.DataFrame) -> list[dict[str, Any]]:
    """The consensus rows (for, ``score``, and against, ``against``, with ``common_ground``), each with its
    typical group's share agreeing and disagreeing, how each study group voted and their gap."""
    by_group = statements.votes_by_group(votes)
    shares = {str(s): records(part.drop(columns="statement")) for s, part in by_group.groupby("statement", sort=False)}
    gaps = {str(row["statement"]): row for row in records(statements.group_gaps(by_group))}
    found = []
    for row in records(result.consensus):
        code = str(row["statement"])
        gap = gaps.get(code, {})
        found.append({**row, "typical_group_agree": plain(statements.typical_group_agree(row["score"], len(result.groups))),
                      "typical_group_disagree": plain(statements.typical_group_agree(row["against"], len(result.groups))),
                      "by_group": shares.get(code, []), "gap": gap.get("gap"), "most": gap.get("most"), "least": gap.get("least")})
    return found
