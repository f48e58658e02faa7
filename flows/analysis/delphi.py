"""Population-level analysis of a Delphi study (rating rounds on a 1-9 style scale).

Input is a long table of ratings with the columns ``participant``, ``group``,
``round``, ``item`` and ``score``. A missing score means the participant answered
"unsure": it counts as a response (for participation and attrition) but is left
out of ``n``, the median, the quartiles and every percentage, so "70% scored 7-9"
always means 70% of those who gave a score. If a participant rated the same item
twice in one round, the last row wins.

Every statistic is computed from a table of counts per scale point, so the whole
summary is a handful of vectorised numpy operations however many people take part.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from flows.analysis.rounding import whole
from flows.analysis.scale import ConsensusRule, Scale

ALL = "all"
EVERYONE = "Everyone"
"""The label of everyone's results; shown as the built-in text ``delphi.everyone`` in the participant's language."""
CHART_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9"]
"""Okabe-Ito: colour-blind readers can tell them apart."""
OWN_COLOUR = "#D55E00"
Status = Literal["in", "out", "none", "few"]
STATUS_WORDS = {"in": "consensus in", "out": "consensus out", "none": "no consensus", "few": "too few scores"}
"""How each consensus status reads on the desk and in reports ("few": fewer scores than the rule's ``min_scores``)."""
KEYS = ["round", "item", "group"]
PARTICIPATION = ["round", "group", "responded", "previous", "dropped", "still_open", "not_sent", "came_back", "new",
                 "attrition_pct", "attrition_basis"]
ATTRITION_BASES = {
    "first": "the first round: nobody has had a round to drop out of",
    "sent": "dropped: sent the round and can no longer answer it (or left the study before it reached them, once it "
            "had gone to others); a round nobody has been sent counts nobody as dropped and has no attrition figure",
    "responses": "no record of who was sent the round: everyone who responded in the previous round but not in this one counts as dropped",
}
"""What ``dropped`` (and so ``attrition_pct``) counted in a round: :func:`participation`'s ``attrition_basis``."""
RESPONDERS_NOTE = ("responded is those of previous who returned, plus came_back (skipped the previous round but responded "
                   "in an earlier one) and new (responded in no earlier round)")
"""How a round's responders add up, for reports."""
UNSURE_LEFT_OUT = ("pct_high and pct_low (and so consensus), the median and the quartiles count only those who gave a "
                   "score (n); those who answered unsure (n_unsure) are left out of them, but count as having responded")


def _clean(ratings: pd.DataFrame, scale: Scale) -> pd.DataFrame:
    missing = {"participant", "round", "item", "score"} - set(ratings.columns)
    if missing:
        raise ValueError(f"ratings need the columns {sorted(missing)}")
    df = ratings.copy()
    if "group" not in df.columns:
        df["group"] = "unspecified"
    df["group"] = df["group"].fillna("unspecified").astype(str)
    if (df["group"] == ALL).any():
        raise ValueError(f"'{ALL}' is reserved for everyone: rename that group")
    df["item"] = df["item"].astype(str)
    df["round"] = df["round"].astype(int)
    df["score"] = pd.to_numeric(df["score"], errors="raise").astype(float)
    scored = df["score"].dropna()
    bad = scored[(scored != np.round(scored)) | (scored < scale.low) | (scored > scale.high)]
    if len(bad):
        raise ValueError(f"score {bad.iloc[0]:g} is not a whole number in {scale.low}-{scale.high}")
    return df.drop_duplicates(["participant", "round", "item"], keep="last")


def latest_ratings(ratings: pd.DataFrame) -> pd.DataFrame:
    """One row per participant, round and item (and Delphi, where the table has several): the
    last, the rating that stands. A score given a reason is recorded twice, alone and then with
    the reason, and a round done again records every score again; a table for anyone to count
    (a CSV for R or Excel) must hold each once, as these analyses count it."""
    keys = [c for c in ("delphi", "participant", "round", "item") if c in ratings.columns]
    return ratings.drop_duplicates(keys, keep="last").reset_index(drop=True)


def _quantile(counts: np.ndarray, q: float, points: np.ndarray) -> np.ndarray:
    """Linear-interpolated quantile (numpy's default) of data given as counts."""
    n = counts.sum(axis=1)
    h = np.maximum(n - 1, 0) * q
    lo, hi = np.floor(h), np.ceil(h)
    cum = counts.cumsum(axis=1)
    last = len(points) - 1
    v_lo = points[np.minimum((cum <= lo[:, None]).sum(axis=1), last)]
    v_hi = points[np.minimum((cum <= hi[:, None]).sum(axis=1), last)]
    return np.where(n > 0, v_lo + (h - lo) * (v_hi - v_lo), np.nan)


def _status(pct_high: np.ndarray, pct_low: np.ndarray, n: np.ndarray, rule: ConsensusRule) -> np.ndarray:
    eps = 1e-9  # 7/10 must count as 70% whatever the rounding
    agree_in = (pct_high >= rule.agree_pct - eps) & (pct_low < rule.max_opposite_pct - eps)
    agree_out = (pct_low >= rule.agree_pct - eps) & (pct_high < rule.max_opposite_pct - eps)
    decided = np.where(agree_in, "in", np.where(agree_out, "out", "none"))
    return np.where(n < rule.min_scores, "few", decided)


def _count_table(df: pd.DataFrame, scale: Scale) -> tuple[pd.DataFrame, np.ndarray]:
    """Counts per scale point for every (round, item, group) plus the "all" rows."""
    grouped = df.groupby(KEYS, sort=False, observed=True)
    key = grouped.ngroup().to_numpy()
    keys = grouped.size().index.to_frame(index=False)
    n_keys, n_points = len(keys), len(scale.points)
    has = df["score"].notna().to_numpy()
    flat = key[has] * n_points + (df["score"].to_numpy()[has].astype(int) - scale.low)
    counts = np.bincount(flat, minlength=n_keys * n_points).reshape(n_keys, n_points)
    keys["n_unsure"] = np.bincount(key[~has], minlength=n_keys)
    per_group = pd.concat([keys, pd.DataFrame(counts)], axis=1)
    overall = per_group.drop(columns="group").groupby(["round", "item"], sort=False).sum()
    overall = overall.reset_index().assign(group=ALL)
    table = pd.concat([overall, per_group], ignore_index=True)
    table["_all_first"] = table["group"] != ALL
    table = table.sort_values(["round", "item", "_all_first", "group"], kind="stable")
    table = table.drop(columns="_all_first").reset_index(drop=True)
    return table[["round", "item", "group", "n_unsure"]], table[list(range(n_points))].to_numpy()


def summarise(ratings: pd.DataFrame, rule: ConsensusRule | None = None) -> pd.DataFrame:
    """Per item, round and group (and ``"all"``): n, median, quartiles, bands and consensus.

    Columns: item, round, group, n (scores given), n_unsure, median, q1, q3, iqr,
    pct_high, pct_low (0-100, NaN when nobody scored), counts (a tuple with one
    count per scale point, lowest first) and consensus ("in", "out", "none", or "few"
    when fewer than the rule's ``min_scores`` gave a score: too few to call either way).
    """
    rule = rule or ConsensusRule()
    scale = rule.scale
    df = _clean(ratings, scale)
    df["item"] = pd.Categorical(df["item"], categories=list(dict.fromkeys(df["item"])))
    keys, counts = _count_table(df, scale)
    points = scale.points
    n = counts.sum(axis=1)
    in_band = {
        b: (points >= lo) & (points <= hi)
        for b, (lo, hi) in (("high", scale.high_band), ("low", scale.low_band))
    }
    with np.errstate(invalid="ignore", divide="ignore"):
        pct_high = 100.0 * counts[:, in_band["high"]].sum(axis=1) / n
        pct_low = 100.0 * counts[:, in_band["low"]].sum(axis=1) / n
    out = keys.assign(
        item=keys["item"].astype(str),
        n=n,
        median=_quantile(counts, 0.5, points),
        q1=_quantile(counts, 0.25, points),
        q3=_quantile(counts, 0.75, points),
    )
    out["iqr"] = out["q3"] - out["q1"]
    out["pct_high"], out["pct_low"] = pct_high, pct_low
    out["counts"] = [tuple(int(c) for c in row) for row in counts]
    out["consensus"] = _status(np.nan_to_num(pct_high), np.nan_to_num(pct_low), n, rule)
    if rule.per_group:
        out = _require_every_group(out, rule)
    columns = [
        "item",
        "round",
        "group",
        "n",
        "n_unsure",
        "median",
        "q1",
        "q3",
        "iqr",
        "pct_high",
        "pct_low",
        "counts",
        "consensus",
    ]
    return out[columns]


def _require_every_group(out: pd.DataFrame, rule: ConsensusRule) -> pd.DataFrame:
    """Everyone's status holds only where every group counted has it too; a group counted with
    too few scores to call leaves everyone's "few" (its agreement cannot be told yet)."""
    groups = out[(out["group"] != ALL) & (out["n"] >= rule.min_group_n)]
    statuses = groups.groupby(["round", "item"])["consensus"].agg(lambda s: set(s))
    overall = out["group"] == ALL

    def everyones(r: int, i: str, status: str) -> str:
        found = statuses.get((r, i), set())
        if status == "few" or "few" in found:
            return "few"
        return status if found == {status} else "none"

    agreed = [everyones(r, i, status) for r, i, status in out.loc[overall, ["round", "item", "consensus"]].itertuples(index=False)]
    out = out.copy()
    out.loc[overall, "consensus"] = agreed
    return out


def items_for_next_round(
    summary: pd.DataFrame,
    round: int,
    items: Sequence[str] | None = None,
    drop: Sequence[Status] = ("in",),
) -> list[str]:
    """The items to ask in round ``round + 1``.

    ``items`` is the study's item list in order (default: the items rated in
    ``round``); those whose overall status in ``round`` is in ``drop`` leave the
    study. Pass ``drop=()`` for a study that keeps every item to the end, or
    ``("in", "out")`` to also retire items agreed to be unimportant. An item with too few
    scores to call ("few") is never dropped: one person's score does not retire it.
    """
    this = summary[(summary["round"] == round) & (summary["group"] == ALL)]
    status = dict(zip(this["item"], this["consensus"], strict=True))
    order = list(items) if items is not None else list(this["item"])
    return [item for item in order if status.get(str(item), "none") not in drop]


def participation(ratings: pd.DataFrame, sent: pd.DataFrame | None = None) -> pd.DataFrame:
    """Response and attrition per round and group ("all" included).

    A participant responded in a round if they rated (or said "unsure" to) at least one
    item. ``previous`` counts those who responded in the previous round, by the group they
    were in then; of them, those who did not respond in this one are:

    * ``dropped``: sent this round, and can no longer answer it (its conversation ended,
      was closed or stopped, or another flow took over; or they left the study);
    * ``still_open``: sent this round, and may still answer it;
    * ``not_sent``: not sent this round yet (its scheduled flow has not reached them).

    ``sent`` says who was sent which round: the columns ``participant``, ``round`` and
    ``open`` (True while they may still answer it); bot/analysis_input.py reads it from the
    sessions, and lists someone who left the study before a round reached them (not open)
    only once that round has been sent to someone: a round nobody has been sent counts nobody
    as dropped. Without ``sent`` (or for a round it names nobody for, such as ratings from
    elsewhere), everyone who did not respond counts as dropped, as once every round is over.
    Of those who responded in this round but not the previous one, ``came_back`` had responded
    in an earlier round (they skipped the previous one) and ``new`` in none (they joined later):
    ``responded`` is those of ``previous`` who returned, plus ``came_back`` and ``new``.
    ``attrition_pct`` is ``dropped`` as a percentage of those whose answer to this round is
    settled (``previous`` less ``still_open`` and ``not_sent``; NaN, no figure, when nobody's
    is). ``attrition_basis`` says which way a round was counted: ``sent`` or ``responses``
    (``first`` for the first round; :data:`ATTRITION_BASES`).
    """
    df = _responses(ratings)
    reach = _reach(sent)
    rounds = sorted(set(df["round"]) | set(reach["round"]))
    rows = []
    for i, r in enumerate(rounds):
        now = df[df["round"] == r]
        before = df[df["round"] == rounds[i - 1]] if i else now.iloc[0:0]
        sent_now = reach[reach["round"] == r]
        known = not sent_now.empty
        before = before.assign(fate=_fates(before, set(now["participant"]), sent_now, known))
        earlier = set(df.loc[df["round"].isin(rounds[:max(i - 1, 0)]), "participant"])
        now = now.assign(back=[_back(p, set(before["participant"]), earlier) for p in now["participant"]])
        for group in [ALL, *sorted(set(now["group"]) | set(before["group"]))]:
            g_now = now if group == ALL else now[now["group"] == group]
            g_before = before if group == ALL else before[before["group"] == group]
            rows.append({"round": int(r), "group": group, "responded": len(g_now), **_attrition(g_before["fate"]),
                         "came_back": int((g_now["back"] == "came_back").sum()) if i else 0,
                         "new": int((g_now["back"] == "new").sum()) if i else 0,
                         "attrition_basis": "first" if not i else "sent" if known else "responses"})
    return pd.DataFrame(rows, columns=PARTICIPATION)


def _responses(ratings: pd.DataFrame) -> pd.DataFrame:
    """One row per participant and round they responded in, with their group."""
    df = ratings[["participant", "round"]].copy()
    df["group"] = (
        ratings["group"].fillna("unspecified").astype(str) if "group" in ratings else "unspecified"
    )
    df["round"] = df["round"].astype(int)
    return df.drop_duplicates(["participant", "round"], keep="last")


def rounds_reached(sent: pd.DataFrame | None) -> pd.DataFrame:
    """Who was sent each round (participant, round, open), one row per participant and round
    (a round sent twice, say after its conversation was replaced, is open if either is)."""
    return _reach(sent)


def _reach(sent: pd.DataFrame | None) -> pd.DataFrame:
    """One row per participant and round they were sent, ``open`` if any conversation on it is."""
    if sent is None or sent.empty:
        return pd.DataFrame({"participant": [], "round": pd.Series([], dtype=int), "open": pd.Series([], dtype=bool)})
    missing = {"participant", "round", "open"} - set(sent.columns)
    if missing:
        raise ValueError(f"the rounds sent need the columns {sorted(missing)}")
    reach = sent.assign(round=sent["round"].astype(int), open=sent["open"].astype(bool))
    return reach.groupby(["participant", "round"], as_index=False)["open"].any()


def _fates(before: pd.DataFrame, responded: set[object], reach: pd.DataFrame, known: bool) -> list[str]:
    """For each of the previous round's responders: returned, dropped, still_open or not_sent."""
    open_now: dict[object, bool] = dict(zip(reach["participant"], reach["open"].astype(bool).tolist(), strict=True))
    return [_fate(p, responded, open_now, known) for p in before["participant"]]


def _back(participant: object, previous: set[object], earlier: set[object]) -> str:
    """How a responder of a round stands to the round before: ``returned`` (responded in it),
    ``came_back`` (skipped it, but responded in an earlier one) or ``new``."""
    return "returned" if participant in previous else "came_back" if participant in earlier else "new"


def _fate(participant: object, responded: set[object], open_now: Mapping[object, bool], known: bool) -> str:
    if participant in responded:
        return "returned"
    if not known:
        return "dropped"
    if participant not in open_now:
        return "not_sent"
    return "still_open" if open_now[participant] else "dropped"


def _attrition(fates: pd.Series) -> dict[str, int | float]:
    counts = fates.value_counts()
    dropped, still_open, not_sent = (int(counts.get(f, 0)) for f in ("dropped", "still_open", "not_sent"))
    settled = len(fates) - still_open - not_sent
    return {
        "previous": len(fates),
        "dropped": dropped,
        "still_open": still_open,
        "not_sent": not_sent,
        "attrition_pct": 100.0 * dropped / settled if settled else float("nan"),
    }


def movement(ratings: pd.DataFrame, scale: Scale | None = None) -> pd.DataFrame:
    """How scores moved between consecutive rounds, per item and group ("all" included).

    Only participants who gave a score for the item in both rounds are paired
    (group as in the later round). ``n_up`` and ``n_down`` count who scored higher and lower
    (``n_changed`` both); ``median_shift`` is the median of their later scores
    (``median_after``) minus the median of their earlier ones (``median_before``): on a 1-9
    scale it can move a whole point while as many moved up as down, so read it with them.
    """
    df = _clean(ratings, scale or Scale()).dropna(subset=["score"])
    rounds = sorted(df["round"].unique())
    frames = []
    for before, after in zip(rounds, rounds[1:], strict=False):
        b = df[df["round"] == before][["participant", "item", "score"]]
        a = df[df["round"] == after][["participant", "item", "group", "score"]]
        paired = a.merge(b, on=["participant", "item"], suffixes=("", "_before"))
        paired = pd.concat([paired.assign(group=ALL), paired], ignore_index=True)
        paired["change"] = paired["score"] - paired["score_before"]
        stats = (
            paired.groupby(["item", "group"], sort=False)
            .agg(
                n_paired=("change", "size"),
                n_changed=("change", lambda c: int((c != 0).sum())),
                n_up=("change", lambda c: int((c > 0).sum())),
                n_down=("change", lambda c: int((c < 0).sum())),
                mean_abs_change=("change", lambda c: float(c.abs().mean())),
                median_after=("score", "median"),
                median_before=("score_before", "median"),
            )
            .reset_index()
        )
        stats["median_shift"] = stats["median_after"] - stats["median_before"]
        frames.append(stats.assign(round=int(after)))
    columns = ["round", "item", "group", "n_paired", "n_changed", "n_up", "n_down", "mean_abs_change",
               "median_before", "median_after", "median_shift"]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


REASONS_SHOWN = 20
"""At most this many reasons are quoted per score band (:func:`reasons_by_band`); the counts are of all."""


def score_bands(scale: Scale) -> list[tuple[str, int, int]]:
    """The scale's bands lowest first, as (name, lowest, highest): ``low`` and ``high`` as the
    consensus rule has them, and ``middle`` for the points between, where there are any."""
    low_b, high_a = scale.low_band[1], scale.high_band[0]
    bands = [("low", scale.low, low_b)] + ([("middle", low_b + 1, high_a - 1)] if high_a - low_b > 1 else [])
    return bands + [("high", high_a, scale.high)]


def reasons_by_band(reasons: pd.DataFrame, scale: Scale, most: int = REASONS_SHOWN) -> dict[str, Any]:
    """The reasons given for scores, by score band, for the desk and reports.

    ``reasons`` has the columns ``group``, ``score``, ``reason`` (already masked, as anything
    shown must be) and ``quotable`` (False for one that must never be quoted, such as an answer
    that raised a safeguarding concern: it is counted but not shown). Per band: ``total`` and
    ``by_group`` count every reason; ``quotes`` ({text, score, group, count, given_by}) are at
    most ``most``, taken from each group in turn so that a large group does not crowd out a
    small one (the most extreme scores first, then in the order given), and listed by group.
    Reasons of a band in the same words (:func:`wording`) are quoted once: ``count`` says how
    many gave them, ``given_by`` ({group, score, count}, by group and score) who and with what score, and the
    quote's ``group`` and ``score`` are its first giver's. ``shown`` counts the reasons the
    quotes stand for, ``held_back`` the reasons not quotable. Bands nobody gave a reason in are
    left out. ``quoted`` (over every band) counts reasons quoted, those in shared words each once.
    """
    bands: list[dict[str, Any]] = []
    for name, lowest, highest in score_bands(scale):
        part = reasons[(reasons["score"] >= lowest) & (reasons["score"] <= highest)]
        if part.empty:
            continue
        quotable = part[part["quotable"].astype(bool)]
        counts = part["group"].astype(str).value_counts()
        quotes = _quotes(quotable, name, most)
        bands.append({"band": name, "scores": f"{lowest}-{highest}" if lowest != highest else str(lowest),
                      "total": len(part), "by_group": {str(g): int(counts[g]) for g in sorted(counts.index)},
                      "held_back": len(part) - len(quotable), "shown": sum(q["count"] for q in quotes), "quotes": quotes})
    return {"total": sum(b["total"] for b in bands), "quoted": sum(b["shown"] for b in bands),
            "held_back": sum(b["held_back"] for b in bands), "most_per_band": most, "bands": bands}


def wording(text: str) -> str:
    """The words of ``text`` as compared to find reasons given in the same words: lower case,
    "&" as "and", punctuation and runs of spaces as one space (as nlp.duplicates.normalise,
    which the themes use to quote identical answers once)."""
    text = re.sub(r"[^\w\s]", " ", text.lower().replace("&", " and "))
    return re.sub(r"\s+", " ", text).strip()


def in_these_words(reasons: pd.DataFrame, scale: Scale) -> pd.Series:
    """For each row of ``reasons`` (columns ``round``, ``item``, ``score``, ``reason``): how many
    reasons of its round, item and score band are in its words (:func:`wording`), itself
    included: the ``count`` the desk's quote of those words carries (for everyone)."""
    band = pd.Series("", index=reasons.index, dtype=object)
    for name, lowest, highest in score_bands(scale):
        band[(reasons["score"] >= lowest) & (reasons["score"] <= highest)] = name
    keys = pd.DataFrame({"round": reasons["round"], "item": reasons["item"].astype(str), "band": band,
                         "words": [wording(str(r)) for r in reasons["reason"]]}, index=reasons.index)
    return keys.groupby(["round", "item", "band", "words"], sort=False)["words"].transform("size").astype(int)


def _quotes(quotable: pd.DataFrame, band: str, most: int) -> list[dict[str, Any]]:
    """At most ``most`` reasons of one band in different words, each group's in turn (its most
    extreme scores first, then in the order given), listed by group; reasons in words already
    taken count on the quote that has them (``count``, ``given_by``)."""
    extremity = quotable["score"] if band == "low" else -quotable["score"] if band == "high" else 0 * quotable["score"]
    ordered = quotable.assign(_e=extremity, _n=range(len(quotable))).sort_values(["_e", "_n"], kind="stable")
    givers: dict[str, Counter[tuple[str, int]]] = {}
    for row in ordered.itertuples(index=False):
        givers.setdefault(wording(str(row.reason)), Counter())[(str(row.group), int(row.score))] += 1
    first = ordered.assign(_w=[wording(str(r)) for r in ordered["reason"]]).drop_duplicates("_w", keep="first")
    queues = {str(g): rows for g, rows in first.groupby(first["group"].astype(str), sort=True)}
    taken: list[tuple[str, int]] = []
    for turn in range(max((len(q) for q in queues.values()), default=0)):
        taken += [(g, turn) for g, q in queues.items() if turn < len(q)]
    found = []
    for g, turn in sorted(taken[:most]):
        row = queues[g].iloc[turn]
        given = givers[str(row["_w"])]
        found.append({"text": str(row["reason"]), "score": int(row["score"]), "group": g, "count": sum(given.values()),
                      "given_by": [{"group": who, "score": score, "count": n} for (who, score), n in sorted(given.items())]})
    return found


@dataclass(frozen=True)
class GroupResult:
    label: str
    n: int
    median: float
    pct_high: float
    counts: tuple[int, ...]
    group: str = ""
    """The group's code (``all`` for everyone), so its label can be shown in another language."""


@dataclass(frozen=True)
class ItemFeedback:
    """What a participant is shown about one item from the previous round."""

    item: str
    round: int
    own_score: int | None
    everyone: GroupResult | None
    """None when too few scored the item to show (see :func:`shown_feedback`)."""
    groups: tuple[GroupResult, ...]
    scale: Scale


def shown_feedback(fb: ItemFeedback, min_n: int) -> ItemFeedback:
    """``fb`` with only the results that cannot single anyone out.

    A group's results are shown only when at least ``min_n`` people in it gave a score, and
    everyone's likewise (with everyone's left out, so are all groups'). Everyone's figures less
    the groups shown are those of the groups left out together: when those number fewer than
    ``min_n`` people (one staff member, say, beside ten patients), the smallest groups shown
    are left out too, until they do.
    """
    if fb.everyone is None or fb.everyone.n < min_n:
        return replace(fb, everyone=None, groups=())
    shown = sorted((g for g in fb.groups if g.n >= min_n), key=lambda g: g.n)
    hidden = fb.everyone.n - sum(g.n for g in shown)
    while shown and 0 < hidden < min_n:
        hidden += shown.pop(0).n
    codes = {g.group for g in shown}
    return replace(fb, groups=tuple(g for g in fb.groups if g.group in codes))


def own_score(ratings: pd.DataFrame, participant: object, item: str, round: int) -> int | None:
    """The participant's score for the item in that round (None if unsure or absent)."""
    rows = ratings[
        (ratings["participant"] == participant)
        & (ratings["item"].astype(str) == str(item))
        & (ratings["round"].astype(int) == int(round))
    ]
    if rows.empty or pd.isna(rows["score"].iloc[-1]):
        return None
    return int(rows["score"].iloc[-1])


def feedback_for(
    summary: pd.DataFrame,
    item: str,
    round: int,
    own: int | None,
    group_labels: Mapping[str, str] | None = None,
    scale: Scale | None = None,
) -> ItemFeedback:
    """Build the feedback for ``item`` from a :func:`summarise` table of round ``round``.

    ``group_labels`` maps group codes to display names, in display order; groups
    missing from it keep their code and come after, alphabetically.
    """
    labels = dict(group_labels or {})
    rows = summary[(summary["item"] == str(item)) & (summary["round"] == int(round))]
    if rows.empty:
        raise KeyError(f"no results for item {item!r} in round {round}")

    def result(row: pd.Series, label: str, group: str) -> GroupResult:
        return GroupResult(
            label, int(row["n"]), float(row["median"]), float(row["pct_high"]), tuple(row["counts"]), group
        )

    by_group = {str(r["group"]): r for _, r in rows.iterrows()}
    everyone = result(by_group.pop(ALL), EVERYONE, ALL)
    order = [g for g in labels if g in by_group] + sorted(g for g in by_group if g not in labels)
    groups = tuple(result(by_group[g], labels.get(g, g), g) for g in order if by_group[g]["n"] > 0)
    return ItemFeedback(str(item), int(round), own, everyone, groups, scale or Scale())


def _number(x: float) -> str:
    return "-" if np.isnan(x) else f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"


Words = Callable[[str], str]
"""A built-in (or study) text by key in the participant's language, e.g. ``delphi.everyone``."""


def _english(key: str) -> str:
    from flows.words import built_in

    return built_in(key)


def feedback_text(fb: ItemFeedback, words: Words | None = None) -> str:
    """Short plain text for SMS (and the caption of the chart): own score, then the high
    band's share and median, for everyone and then per group. ``words`` gives the texts
    in the participant's language (English by default)."""
    say = words or _english
    lo, hi = fb.scale.high_band
    band = f"{lo}-{hi}" if lo != hi else str(lo)
    parts = [say("delphi.own_score").format(own=fb.own_score) if fb.own_score is not None else say("delphi.no_own_score")]
    for g in _shown(fb):
        label = _label(g, say)
        if g.n == 0:
            parts.append(say("delphi.group_none").format(label=label))
        else:
            parts.append(say("delphi.group_result").format(label=label, pct=whole(g.pct_high), band=band, median=_number(g.median)))
    return " ".join(parts)


def _shown(fb: ItemFeedback) -> tuple[GroupResult, ...]:
    """Everyone's results (when shown), then each group's."""
    return (fb.everyone, *fb.groups) if fb.everyone is not None else fb.groups


def _label(group: GroupResult, say: Words) -> str:
    return say("delphi.everyone") if group.label == EVERYONE else group.label


def feedback_chart(fb: ItemFeedback, words: Words | None = None) -> bytes:
    """A small PNG: horizontal bars of the counts per scale point, everyone's and each
    group's side by side, the participant's own score marked. ``words`` as for
    :func:`feedback_text`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    say = words or _english
    if fb.everyone is None:
        raise ValueError(f"too few scored item {fb.item!r} in round {fb.round} to chart")
    points = list(fb.scale.points)
    series = [(_label(g, say), np.asarray(g.counts)) for g in _shown(fb)]
    height = 0.8 / len(series)
    fig = Figure(figsize=(4.0, 3.4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for s, (label, counts) in enumerate(series):
        ys = [p - 0.4 + height * (s + 0.5) for p in points]
        ax.barh(ys, counts, height=height, color=CHART_COLOURS[s % len(CHART_COLOURS)], label=label)
    ax.set_yticks(points, [str(p) for p in points])
    ax.invert_yaxis()
    ax.set_xlabel(say("delphi.chart_people"))
    ax.set_ylabel(say("delphi.chart_score"))
    title = say("delphi.chart_title").format(label=_label(fb.everyone, say), median=_number(fb.everyone.median))
    ax.set_title(title, fontsize=10)
    top = max(1, max(int(c.max()) if c.size else 0 for _, c in series))
    if fb.own_score is not None:
        for tick in ax.get_yticklabels():
            if tick.get_text() == str(fb.own_score):
                tick.set_fontweight("bold")
                tick.set_color(OWN_COLOUR)
        ax.barh([fb.own_score], [top * 1.2], height=0.92, fill=False, edgecolor=OWN_COLOUR, linewidth=2, zorder=3)
        ax.annotate(say("delphi.chart_you"), (top * 1.18, fb.own_score), ha="right", va="center", fontsize=9, color=OWN_COLOUR)
    ax.set_xlim(0, top * 1.2)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # people, counted whole
    if len(series) > 1:
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
