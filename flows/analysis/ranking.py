"""Population-level analysis of rankings: Borda counts and a Plackett-Luce model.

Input is a long table with the columns ``participant``, ``group``, ``option`` and
``position`` (1 = most important). A participant may rank every option or only
their top k; only the order of their positions matters (1, 2, 5 reads as 1, 2, 3).

Borda convention, with N options in the study: the option a participant puts in
place p scores N - p, so a full ranking hands out N-1, N-2, ..., 0. A participant
who ranks only k options leaves the points of places k+1..N unspent; the options
they did not rank share them equally, each scoring (N - k - 1) / 2. A partial
ranking thus reads as a full ranking with a tie at the bottom, and every
participant hands out the same total, N(N-1)/2, whether they ranked 3 or all.

Options offered (a flow changed live): a participant who answered a version of the flow that
had not yet added an option, or had removed one, was never shown it, so they are counted
neither for nor against it. ``offered`` says what each participant was shown; one it does not
name was shown every option (so with one version nothing changes). A participant
shown N_i of the N options spreads their points over those N_i alone, as above with N_i for
N, scaled by (N - 1) / (N_i - 1) so that their first place is worth N - 1 and their last 0, as
anyone's (each option they were shown gets (N - 1) / 2 from them on average, as from anyone);
an option they were not shown gets nothing from them, and ``borda_mean`` divides by
``n_offered``, the people shown the option: compare options by ``borda_mean``, since totals
over different numbers of people do not compare. Plackett-Luce's choice sets hold only the options
the participant was shown; an option nobody in a group was shown has no score there.

Plackett-Luce: a top-k ranking is k successive choices, each the best of the
options not yet placed (unranked options stay in every choice set: they were
available and not chosen). The log-strengths are fitted by Newton's method on the
exact log-likelihood. ``alpha`` adds alpha pseudo-wins and alpha pseudo-losses
against a virtual option of strength 1 for every option, which keeps the estimate
finite when an option is never (or always) chosen; with ``alpha=0`` the result is
the plain maximum-likelihood estimate. Scores are log-strengths centred to mean
zero; ``low``/``high`` are 95% percentile intervals from a bootstrap over
participants with a fixed seed, widened where needed to hold the score. A resample that is
the group as it is gives the estimate itself, not a refit a rounding error away from it; and
in a small group most resamples can be more extreme than the answers, so a percentile alone
could leave the score just outside.

A bootstrap only knows the variation it is shown. When everyone in a group gave the same
ranking, every resample is that ranking again and the "interval" has no width: a certainty
the answers cannot give. With fewer than :data:`MIN_RANKINGS_FOR_INTERVAL` people there are
too few distinct resamples for percentiles to mean much. Either way ``low``/``high`` are left
empty and ``interval_note`` says why (``"alike"`` or ``"few"``; see :data:`INTERVAL_NOTES`).

``prior_held`` marks a group whose answers alone would put some scores without limit: the
maximum-likelihood estimate exists only when, for every split of the options into two sets,
something in each set was chosen over something in the other (Hunter 2004), which fails when
one option was always placed above another, or an option was never chosen (nobody ranked
it). Its scores and P(first) are then as large as the prior ``alpha`` allows, not measured.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

ALL = "all"
Offered = Mapping[Any, Collection[str]]
"""Participant -> the options they were shown (the flow version they answered listed)."""
DEFAULT_ALPHA = 0.1
"""Pseudo-wins and pseudo-losses each option gets against a virtual option of strength 1."""
MIN_RANKINGS_FOR_INTERVAL = 5
"""Fewer people than this get no bootstrap interval: too few distinct resamples (15 for three)."""
INTERVAL_NOTES = {
    "alike": "everyone in this group ranked alike, so resampling them cannot vary the answers",
    "few": f"too few rankings for an interval (fewer than {MIN_RANKINGS_FOR_INTERVAL})",
}
"""Why a group has no interval, by its ``interval_note``."""


def prior_note(alpha: float = DEFAULT_ALPHA) -> str:
    """What a ``prior_held`` group's scores are: held finite by the prior, not measured."""
    return (f"Scores held by the prior: some options were always placed above others (or never chosen), so the "
            f"answers alone would put their scores without limit; the scores and P(first) shown are as far apart "
            f"as the prior (alpha = {alpha:g}) lets them be")


@dataclass(frozen=True)
class ChoiceData:
    """Rankings as successive choices: event e picks ``winner[e]`` from ``sets[e]``."""

    options: list[str]
    winner: np.ndarray  # (E,) option index
    sets: np.ndarray  # (E, N) bool
    owner: np.ndarray  # (E,) participant index
    n_participants: int


def _clean(rankings: pd.DataFrame) -> pd.DataFrame:
    missing = {"participant", "option", "position"} - set(rankings.columns)
    if missing:
        raise ValueError(f"rankings need the columns {sorted(missing)}")
    df = rankings.dropna(subset=["option", "position"]).copy()
    df["option"] = df["option"].astype(str)
    df["group"] = df["group"].fillna("unspecified").astype(str) if "group" in df else "unspecified"
    position = pd.to_numeric(df["position"], errors="raise")
    if (position != np.round(position)).any() or (position < 1).any():
        raise ValueError("positions must be whole numbers from 1 (most important)")
    df["position"] = position.astype(int)
    for column, what in (
        ("option", "ranks the same option"),
        ("position", "uses the same position"),
    ):
        dup = df.duplicated(["participant", column])
        if dup.any():
            who = df.loc[dup, "participant"].iloc[0]
            raise ValueError(f"participant {who} {what} twice")
    return df.sort_values(["participant", "position"], kind="stable")


def _options(df: pd.DataFrame, options: list[str] | None, offered: Offered | None = None) -> list[str]:
    """The options listed, then any the rankings hold or someone was shown that the list has
    not got (an option a later version of the flow removed): its answers are scored, not refused."""
    seen = list(dict.fromkeys(df["option"]))
    shown = [str(o) for person in dict.fromkeys(df["participant"]) for o in (offered or {}).get(person, ())]
    listed = [str(o) for o in options] if options is not None else []
    return list(dict.fromkeys([*listed, *(str(o) for o in seen), *shown]))


def _option_index(df: pd.DataFrame, options: list[str]) -> np.ndarray:
    """Each row's option as its index in ``options`` (every ranked option must be there)."""
    return df["option"].map({o: i for i, o in enumerate(options)}).to_numpy(dtype=int)


def offered_mask(df: pd.DataFrame, options: list[str], offered: Offered | None = None) -> np.ndarray:
    """(participants in order of first row, options) True where the participant was shown the
    option: every option for one ``offered`` does not name, and always what they ranked."""
    people = list(dict.fromkeys(df["participant"]))
    index = {o: i for i, o in enumerate(options)}
    mask = np.ones((len(people), len(options)), dtype=bool)
    for row, person in enumerate(people):
        shown = (offered or {}).get(person)
        if shown is not None:
            mask[row] = False
            mask[row, [index[str(o)] for o in shown if str(o) in index]] = True
    mask[pd.Index(people).get_indexer(df["participant"]), _option_index(df, options)] = True
    return mask


def borda(df: pd.DataFrame, options: list[str], offered: Offered | None = None) -> pd.DataFrame:
    """Total and mean Borda points per option, and how many were shown it (``n_offered``;
    convention in the module docstring)."""
    n = len(options)
    mask = offered_mask(df, options, offered)
    people = pd.Index(df["participant"].unique())
    pid = people.get_indexer(df["participant"])
    place = df.groupby("participant", sort=False).cumcount().to_numpy() + 1
    shown = mask.sum(axis=1)
    ranked = np.bincount(pid, minlength=len(people))
    scale = np.where(shown > 1, (n - 1) / np.maximum(shown - 1, 1), 0.0)
    leftover = np.clip((shown - ranked - 1) / 2.0, 0, None) * scale  # each unranked option's share
    points = np.where(mask, leftover[:, None], 0.0)
    points[pid, _option_index(df, options)] = (shown[pid] - place) * scale[pid]
    points[shown == 1] = np.where(mask[shown == 1], (n - 1) / 2.0, 0.0)  # shown one option: no preference
    totals, n_offered = points.sum(axis=0), mask.sum(axis=0)
    mean = np.divide(totals, n_offered, out=np.full(n, np.nan), where=n_offered > 0)
    return pd.DataFrame({"option": options, "borda": totals, "borda_mean": mean, "n_offered": n_offered})


def choice_data(df: pd.DataFrame, options: list[str], offered: Offered | None = None) -> ChoiceData:
    """Turn rankings into Plackett-Luce choice events, each choice among the options its
    participant was shown and had not yet placed."""
    n = len(options)
    mask = offered_mask(df, options, offered)
    people = pd.Index(df["participant"].unique())
    pid = people.get_indexer(df["participant"])
    step = df.groupby("participant", sort=False).cumcount().to_numpy()
    opt = _option_index(df, options)
    order = np.where(mask, n, -1)  # n = shown, not ranked; -1 = not shown, in no choice set
    order[pid, opt] = step
    keep = step < mask.sum(axis=1)[pid] - 1  # the last of a full ranking is no choice
    owner, steps = pid[keep], step[keep]
    sets = order[owner] >= steps[:, None]
    return ChoiceData(options, opt[keep], sets, owner, len(people))


def fit_plackett_luce(
    data: ChoiceData,
    weights: np.ndarray | None = None,
    alpha: float = DEFAULT_ALPHA,
    start: np.ndarray | None = None,
    tol: float = 1e-10,
    max_iter: int = 200,
) -> np.ndarray:
    """Log-strengths (centred) by Newton's method; ``weights`` per participant."""
    n = len(data.options)
    w_event = np.ones(len(data.winner)) if weights is None else weights[data.owner].astype(float)
    wins = np.bincount(data.winner, weights=w_event, minlength=n)
    theta = np.zeros(n) if start is None else start.copy()

    sets = data.sets.astype(float)

    def loglik(t: np.ndarray) -> float:
        top = t.max()
        ll = wins @ t - w_event @ (np.log(sets @ np.exp(t - top)) + top)
        return float(ll + alpha * (t.sum() - 2 * np.logaddexp(0, t).sum()))

    current = loglik(theta)
    for _ in range(max_iter):
        p = sets * np.exp(theta - theta.max())
        p /= p.sum(axis=1, keepdims=True)
        wp = p * w_event[:, None]
        sig = 1 / (1 + np.exp(-theta))
        grad = wins - wp.sum(axis=0) + alpha * (1 - 2 * sig)
        hess = wp.T @ p - np.diag(wp.sum(axis=0) + 2 * alpha * sig * (1 - sig))
        step = np.linalg.lstsq(-hess, grad, rcond=None)[0]
        size = 1.0
        while (value := loglik(theta + size * step)) < current - 1e-12 and size > 1e-8:
            size /= 2
        if value < current - 1e-12:
            break
        theta, improvement, current = theta + size * step, value - current, value
        if np.max(np.abs(size * step)) < tol or improvement < tol * 1e-3:
            break
    return theta - theta.mean()


def _refit(data: ChoiceData, weights: np.ndarray, alpha: float, theta: np.ndarray) -> np.ndarray:
    """One bootstrap replicate: the estimate itself for a resample that is the group as it is
    (everyone once), else a refit started from it."""
    if np.all(weights == 1):
        return theta
    return fit_plackett_luce(data, weights, alpha, start=theta)


def estimable(data: ChoiceData) -> bool:
    """Whether the answers alone give finite scores: the graph with an edge from each choice
    to every option it was chosen over is strongly connected (Hunter 2004, assumption 1)."""
    n = len(data.options)
    if n < 2:
        return True
    beaten = data.sets.copy()
    beaten[np.arange(len(data.winner)), data.winner] = False
    rows, cols = np.nonzero(beaten)
    graph = csr_matrix((np.ones(len(rows)), (data.winner[rows], cols)), shape=(n, n))
    return int(connected_components(graph, directed=True, connection="strong")[0]) == 1


def interval_note(df: pd.DataFrame) -> str | None:
    """Why a group's rankings get no bootstrap interval (a key of :data:`INTERVAL_NOTES`), or None."""
    orders = df.groupby("participant", sort=False)["option"].agg(tuple)
    if len(orders) >= 2 and orders.nunique() == 1:
        return "alike"
    return "few" if len(orders) < MIN_RANKINGS_FOR_INTERVAL else None


def _analyse_one(
    df: pd.DataFrame,
    options: list[str],
    n_boot: int,
    seed: int,
    alpha: float,
    offered: Offered | None = None,
) -> pd.DataFrame:
    table = borda(df, options, offered)
    ranked_by = df.groupby("option")["participant"].nunique().reindex(options, fill_value=0)
    table["n_ranked"] = ranked_by.to_numpy()
    if df.empty:
        return table.assign(score=np.nan, low=np.nan, high=np.nan, p_first=np.nan, interval_note=None, prior_held=False)
    present = table["n_offered"].to_numpy() > 0  # an option nobody here was shown is not in the model
    data = choice_data(df, [o for o, shown in zip(options, present, strict=True) if shown], offered)
    theta = fit_plackett_luce(data, alpha=alpha)
    note = interval_note(df)
    rng = np.random.default_rng(seed)
    m = data.n_participants
    boot = (
        np.array([_refit(data, rng.multinomial(m, np.full(m, 1.0 / m)), alpha, theta) for _ in range(n_boot)])
        if n_boot and note is None
        else np.full((1, len(theta)), np.nan)
    )
    strength = np.exp(theta)
    for column, values in (
        ("score", theta),
        ("low", np.minimum(np.percentile(boot, 2.5, axis=0), theta)),
        ("high", np.maximum(np.percentile(boot, 97.5, axis=0), theta)),
        ("p_first", strength / strength.sum()),
    ):
        table[column] = np.nan
        table.loc[present, column] = values
    table["interval_note"] = note
    table["prior_held"] = alpha > 0 and not estimable(data)
    return table


def analyse_rankings(
    rankings: pd.DataFrame,
    options: list[str] | None = None,
    n_boot: int = 200,
    seed: int = 0,
    alpha: float = DEFAULT_ALPHA,
    per_group: bool = True,
    offered: Offered | None = None,
) -> pd.DataFrame:
    """Borda and Plackett-Luce results for everyone ("all") and for each group.

    ``offered``: participant -> the options they were shown, where a version of the flow
    showed them fewer than all (see the module docstring); by default everyone saw every option.

    Columns: group, option, n_ranked, n_offered (how many of the group were shown the
    option: ``borda_mean`` and the model count only them), borda (total points), borda_mean, score
    (centred log-strength), low and high (95% bootstrap interval; empty where
    interval_note says why there is none), p_first (the model's chance that the
    option is put first), interval_note and prior_held (see the module docstring),
    best first within each group.
    """
    df = _clean(rankings)
    opts = _options(df, options, offered)
    groups = [ALL] + (sorted(df["group"].unique()) if per_group else [])
    frames = []
    for group in groups:
        part = df if group == ALL else df[df["group"] == group]
        table = _analyse_one(part, opts, n_boot, seed, alpha, offered)
        frames.append(
            table.assign(group=group).sort_values(
                ["score", "borda_mean"], ascending=False, kind="stable"
            )
        )
    columns = [
        "group",
        "option",
        "n_ranked",
        "n_offered",
        "borda",
        "borda_mean",
        "score",
        "low",
        "high",
        "p_first",
        "interval_note",
        "prior_held",
    ]
    return pd.concat(frames, ignore_index=True)[columns]


def group_notes(result: pd.DataFrame, names: Mapping[str, str] | None = None, alpha: float = DEFAULT_ALPHA) -> list[str]:
    """Per group of :func:`analyse_rankings`' result (named by ``names``; "everyone" for all
    where it does not name them), why it has no interval and whether its scores are held by
    the prior, one sentence each."""
    notes = []
    for group, part in result.groupby("group", sort=False):
        name = (names or {}).get(str(group)) or ("everyone" if group == ALL else str(group))
        reason = part["interval_note"].iloc[0]
        if isinstance(reason, str):
            notes.append(f"{name}: no interval, {INTERVAL_NOTES[reason]}")
        if bool(part["prior_held"].iloc[0]):
            notes.append(f"{name}: {prior_note(alpha)}")
    return notes
