"""Pol.is-style analysis of statement voting: opinion groups, what marks each
group out, and what every group agrees on.

Input is a long table with the columns ``participant``, ``statement`` and
``vote`` (1 agree, -1 disagree, 0 pass); a statement a participant has no row for
was not seen. If a participant voted twice on one statement, the last row wins.

The method follows Pol.is (compdemocracy.org/polis):

* Only participants with at least ``min(min_votes, number of statements, most votes
  anyone cast)`` votes (passes count) are clustered (Pol.is uses 7). The last term is
  Chorus's: where each person is shown only some statements (``per_session: 5``), 7 could
  never be reached once there are more than 5.
* Their participant x statement matrix has each gap filled with the statement's
  mean vote; PCA takes 2 components (signs fixed: largest loading positive);
  each participant's projection is scaled by sqrt(statements / statements they
  voted on), so that people who saw few statements are not pulled to the
  centre (Pol.is's sparsity-aware projection).
* k-means (fixed seed) for k = 2 .. min(k_max, 2 + n // 12), the k with the best
  silhouette wins (Pol.is's cap on k for small conversations, k_max = 5). Above
  1,000 participants, as Pol.is does, k-means first makes 100 base clusters and
  the groups are built from their centres (weighted by size); the silhouette
  is then scored on a fixed-seed sample of 2,000 participants.
* Per group and statement, with pseudocounts: P(agree) = (1 + agrees) / (2 + votes),
  its one-proportion z-test, the representativeness ratio P(agree | group) /
  P(agree | everyone else clustered) and its two-proportion z-test; likewise for
  disagree.
* Group-informed consensus of a statement = the product over groups of
  (1 + agrees) / (2 + votes), "votes" counting passes: high only when every group
  tends to agree (:data:`CONSENSUS_SCALE` says how to read it). Its mirror, ``against``, the
  product of (1 + disagrees) / (2 + votes), is high only when every group tends to disagree: Pol.is
  reports consensus both ways, and a statement nearly everyone rejects is common ground too,
  not a divisive one (:func:`common_ground` names both kinds).

Besides the opinion groups (found from the votes), :func:`votes_by_group` counts how each
stakeholder group (patients, carers, staff: the study's groups) voted on each statement,
as plain shares with their n, and :func:`group_gaps` finds where those groups differ most.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

SILHOUETTE_SAMPLE = 2000  # silhouette is quadratic: score a fixed-seed sample
BASE_K = 100  # above BASE_K * 10 participants, cluster 100 base clusters (as Pol.is)


@dataclass(frozen=True)
class OpinionGroup:
    id: int
    members: tuple[Hashable, ...]

    @property
    def size(self) -> int:
        return len(self.members)


@dataclass(frozen=True)
class StatementAnalysis:
    groups: list[OpinionGroup]
    unclustered: list[Hashable]
    projection: pd.DataFrame  # index participant; columns x, y, group
    stats: pd.DataFrame  # index (group, statement); see group_statistics
    consensus: pd.DataFrame  # statement, score, against, common_ground; highest score first
    representative: dict[int, pd.DataFrame]


def _last_votes(votes: pd.DataFrame) -> pd.DataFrame:
    """The votes checked, one row per participant and statement: the last one given."""
    missing = {"participant", "statement", "vote"} - set(votes.columns)
    if missing:
        raise ValueError(f"votes need the columns {sorted(missing)}")
    df = votes.dropna(subset=["vote"])
    bad = ~df["vote"].isin([1, -1, 0])
    if bad.any():
        raise ValueError(f"vote {df.loc[bad, 'vote'].iloc[0]!r} is not 1, -1 or 0")
    return df.drop_duplicates(["participant", "statement"], keep="last")


def vote_matrix(votes: pd.DataFrame) -> pd.DataFrame:
    """Participants x statements, NaN where a statement was not seen."""
    df = _last_votes(votes)
    return df.pivot(index="participant", columns="statement", values="vote").astype(float)


def _principal_axes(filled: np.ndarray, n_comp: int) -> np.ndarray:
    """Top principal axes from the covariance's eigenvectors (cheap: statements x statements).

    Signs are fixed so each axis's largest loading is positive, making maps repeatable.
    """
    centred = filled - filled.mean(axis=0)
    values, vectors = np.linalg.eigh(centred.T @ centred)
    axes = vectors[:, np.argsort(values)[::-1][:n_comp]]
    signs = np.sign(axes[np.abs(axes).argmax(axis=0), range(n_comp)])
    return axes * np.where(signs == 0, 1, signs)


def project(matrix: pd.DataFrame) -> pd.DataFrame:
    """Pol.is's 2-D map: mean-imputed PCA with sparsity-aware scaling."""
    values = matrix.to_numpy()
    seen = ~np.isnan(values)
    counts, sums = seen.sum(axis=0), np.where(seen, values, 0.0).sum(axis=0)
    means = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
    filled = np.where(seen, values, means)
    n_comp = min(2, *filled.shape)
    coords = np.zeros((len(matrix), 2))
    if n_comp > 0 and len(matrix) > 1:
        coords[:, :n_comp] = (filled - filled.mean(axis=0)) @ _principal_axes(filled, n_comp)
    scale = np.sqrt(values.shape[1] / np.maximum(seen.sum(axis=1), 1))
    return pd.DataFrame(coords * scale[:, None], index=matrix.index, columns=["x", "y"])


def _base_clusters(xy: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pol.is's two-stage trick for big conversations: first BASE_K small clusters.

    Returns the points to cluster, their weights, and each participant's base cluster.
    """
    if len(xy) <= BASE_K * 10:
        return xy, np.ones(len(xy)), np.arange(len(xy))
    base = KMeans(BASE_K, n_init=1, random_state=seed).fit(xy)
    weights = np.bincount(base.labels_, minlength=BASE_K).astype(float)
    return base.cluster_centers_, weights, base.labels_


def cluster(points: pd.DataFrame, k_max: int = 5, seed: int = 0) -> pd.Series:
    """k-means labels with k chosen by silhouette; groups numbered largest first."""
    n = len(points)
    xy = points[["x", "y"]].to_numpy()
    centres, weights, base_of = _base_clusters(xy, seed)
    best: tuple[float, np.ndarray] = (-np.inf, np.zeros(n, dtype=int))
    distinct = len(np.unique(xy.round(12), axis=0))
    for k in range(2, min(k_max, 2 + n // 12) + 1):
        if k >= distinct:
            break
        km = KMeans(k, n_init=10, random_state=seed).fit(centres, sample_weight=weights)
        labels = km.labels_[base_of]
        sample = SILHOUETTE_SAMPLE if n > SILHOUETTE_SAMPLE else None
        score = silhouette_score(xy, labels, sample_size=sample, random_state=seed)
        if score > best[0]:
            best = (score, labels)
    labels = pd.Series(best[1], index=points.index)
    sizes = labels.value_counts()
    first = labels.index.to_series().groupby(labels.to_numpy()).min()
    order = sorted(sizes.index, key=lambda g: (-sizes[g], str(first[g])))
    return labels.map({old: new for new, old in enumerate(order)}).astype(int)


def _one_prop(success: np.ndarray, n: np.ndarray) -> np.ndarray:
    success, n = success + 1.0, n + 1.0
    return 2 * np.sqrt(n) * (success / n - 0.5)


def _two_prop(
    s_in: np.ndarray, s_out: np.ndarray, n_in: np.ndarray, n_out: np.ndarray
) -> np.ndarray:
    s_in, s_out, n_in, n_out = s_in + 1.0, s_out + 1.0, n_in + 1.0, n_out + 1.0
    pooled = (s_in + s_out) / (n_in + n_out)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (s_in / n_in - s_out / n_out) / np.sqrt(pooled * (1 - pooled) * (1 / n_in + 1 / n_out))
    return np.where(pooled == 1, 0.0, z)


def group_statistics(matrix: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """Per (group, statement): na, nd, ns, pa, pd, pat, pdt, ra, rd, rat, rdt.

    Only participants in ``labels`` count; the out-group of a group is every
    other labelled participant.
    """
    sub = matrix.loc[labels.index].to_numpy()
    codes = labels.to_numpy()
    counts = {"na": sub == 1, "nd": sub == -1, "ns": ~np.isnan(sub)}
    totals = {k: v.sum(axis=0) for k, v in counts.items()}
    frames = []
    for gid in sorted(set(codes)):
        inside = codes == gid
        c = {k: v[inside].sum(axis=0).astype(float) for k, v in counts.items()}
        o = {k: totals[k] - c[k] for k in counts}
        row = dict(c)
        for v in ("a", "d"):
            n_in, n_out = c[f"n{v}"], o[f"n{v}"]
            row[f"p{v}"] = (1 + n_in) / (2 + c["ns"])
            row[f"p{v}t"] = _one_prop(n_in, c["ns"])
            row[f"r{v}"] = row[f"p{v}"] / ((1 + n_out) / (2 + o["ns"]))
            row[f"r{v}t"] = _two_prop(n_in, n_out, c["ns"], o["ns"])
        frame = pd.DataFrame(row, index=matrix.columns)
        frames.append(frame.assign(group=int(gid)).set_index("group", append=True))
    stats = pd.concat(frames).reorder_levels([1, 0])
    stats.index.names = ["group", "statement"]
    return stats


def group_aware_consensus(stats: pd.DataFrame, side: str = "a") -> pd.Series:
    """Product over groups of P(agree | group) = (1 + agrees) / (2 + votes), highest first;
    ``side="d"``: of P(disagree | group), the consensus against."""
    score = stats[f"p{side}"].groupby(level="statement", sort=False).prod()
    return score.sort_values(ascending=False, kind="stable")


def common_ground(stats: pd.DataFrame) -> pd.Series:
    """Per statement, ``agree`` when every opinion group's estimated share agreeing is over a
    half, ``disagree`` when every group's share disagreeing is, else None (the groups part ways,
    or are split within)."""
    by_statement = stats.groupby(level="statement", sort=False)
    agreed, rejected = by_statement["pa"].min() > 0.5, by_statement["pd"].min() > 0.5
    kinds = ["agree" if a else "disagree" if r else None for a, r in zip(agreed, rejected, strict=True)]
    return pd.Series(kinds, index=agreed.index, dtype=object)


def _consensus_table(stats: pd.DataFrame) -> pd.DataFrame:
    """Every statement's consensus for and against and its common ground, highest consensus first."""
    if stats.empty:
        return pd.DataFrame(columns=["statement", "score", "against", "common_ground"])
    score = group_aware_consensus(stats)
    table = score.rename("score").rename_axis("statement").reset_index()
    table["against"] = group_aware_consensus(stats, "d").reindex(score.index).to_numpy()
    kinds = common_ground(stats)
    table["common_ground"] = pd.Series([kinds[s] for s in score.index], dtype=object)
    return table


def representative_statements(
    stats: pd.DataFrame,
    pick_max: int = 5,
    confidence: float = 0.90,
    exclude: Iterable[Hashable] = (),
) -> dict[int, pd.DataFrame]:
    """Per group, the statements that set it apart (Pol.is's repness selection).

    A statement qualifies for agree when both P(agree) and the in/out-group
    comparison are significant (one-sided z above the ``confidence`` quantile),
    and likewise for disagree; qualifying statements are ordered by repness x
    repness z x P x P's z, with the group's best "agree" statement first, then
    cut to ``pick_max`` and listed agrees before disagrees. A group with no
    qualifying statement gets just its best agree statement (or, failing that,
    the statement with the highest repness z). This reproduces the selections
    in Pol.is's own math output for the red-dwarf fixture.
    """
    z = norm.ppf(confidence)
    skip = set(exclude)
    result = {}
    for gid, frame in stats.groupby(level="group"):
        s = frame.droplevel("group")
        s = s[~s.index.isin(skip)]
        rows = [_stat_row(s, t, "agree") for t in s.index[(s["pat"] > z) & (s["rat"] > z)]]
        rows += [_stat_row(s, t, "disagree") for t in s.index[(s["pdt"] > z) & (s["rdt"] > z)]]
        lead = _best_agree(s)
        if not rows:
            result[int(gid)] = pd.DataFrame([_fallback(s, lead)])
            continue
        table = pd.DataFrame(rows)
        metric = table["repness"] * table["repness_test"] * table["p_success"] * table["p_test"]
        table = table.assign(_m=metric).sort_values("_m", ascending=False, kind="stable")
        if lead is not None:
            table = pd.concat([pd.DataFrame([_stat_row(s, lead, "agree")]), table])
            table = table.drop_duplicates("statement", keep="first")
        table = table.head(pick_max).drop(columns="_m", errors="ignore")
        table = table.sort_values("repful_for", kind="stable").reset_index(drop=True)
        result[int(gid)] = table
    return result


def _stat_row(s: pd.DataFrame, statement: Hashable, side: str) -> dict[str, object]:
    v = "a" if side == "agree" else "d"
    r = s.loc[statement]
    return {
        "statement": statement,
        "repful_for": side,
        "n_success": int(r[f"n{v}"]),
        "n_trials": int(r["ns"]),
        "p_success": float(r[f"p{v}"]),
        "p_test": float(r[f"p{v}t"]),
        "repness": float(r[f"r{v}"]),
        "repness_test": float(r[f"r{v}t"]),
    }


def _fallback(s: pd.DataFrame, lead: Hashable | None) -> dict[str, object]:
    """No significant statement: the best agree statement, else the highest repness z."""
    if lead is not None:
        return _stat_row(s, lead, "agree")
    best = np.maximum(s["rat"], s["rdt"]).idxmax()
    return _stat_row(s, best, "agree" if s.loc[best, "rat"] >= s.loc[best, "rdt"] else "disagree")


def _best_agree(s: pd.DataFrame) -> Hashable | None:
    z = norm.ppf(0.90)
    ok = s[((s["na"] + s["nd"]) > 0) & ((s["pat"] > z) | ((s["ra"] > 1) & (s["pa"] > 0.5)))]
    if ok.empty:
        return None
    strong = ok[ok["ra"] > 1]
    if not strong.empty:
        return (strong["ra"] * strong["rat"] * strong["pa"] * strong["pat"]).idxmax()
    return (ok["pa"] * ok["pat"]).idxmax()


def analyse_statements(
    votes: pd.DataFrame,
    min_votes: int = 7,
    k_max: int = 5,
    seed: int = 0,
    pick_max: int = 5,
    exclude: Sequence[Hashable] = (),
) -> StatementAnalysis:
    """Cluster voters into opinion groups and score statements (module docstring)."""
    matrix = vote_matrix(votes)
    cast = matrix.notna().sum(axis=1)
    enough = cast >= min(min_votes, matrix.shape[1], int(cast.max()) if len(cast) else 0)
    voters = matrix[enough]
    points = project(voters)
    labels = cluster(points, k_max=k_max, seed=seed) if len(voters) else pd.Series(dtype=int)
    groups = [
        OpinionGroup(int(g), tuple(labels.index[labels == g].tolist()))
        for g in sorted(labels.unique())
    ]
    stats = group_statistics(matrix, labels) if len(voters) else pd.DataFrame()
    return StatementAnalysis(
        groups=groups,
        unclustered=matrix.index[~enough].tolist(),
        projection=points.assign(group=labels),
        stats=stats,
        consensus=_consensus_table(stats),
        representative=representative_statements(stats, pick_max, exclude=exclude)
        if len(voters)
        else {},
    )


# ----------------------------------------------------------------------------- stakeholder groups

ALL = "all"
"""Everyone's row in :func:`votes_by_group`."""
UNSPECIFIED = "unspecified"
GAP_MIN_VOTES = 5
"""A stakeholder group counts in a statement's gap (:func:`group_gaps`) only with at least this many votes on it."""
VOTE_KINDS = ("agree", "disagree", "pass")
CONSENSUS_SCALE = (
    "Group-informed consensus runs from 0 to 1: it multiplies together each opinion group's estimated share "
    "agreeing, (1 + agrees) / (2 + votes) with passes counted as votes. It is near 1 only when nearly everyone in "
    "every opinion group agrees, and falls fast when any one group does not. It is not a percentage: with 2 groups "
    "0.25 is about half of each agreeing (0.5 x 0.5), with 3 groups 0.125 is. 'Typical group agreeing' turns it back "
    "into a share: for k groups the score's k-th root, the geometric mean of the groups' shares agreeing."
)
"""How to read the group-informed consensus score, for the desk and reports."""


def typical_group_agree(score: float, groups: int) -> float:
    """The consensus score as a share: the geometric mean of the ``groups`` opinion groups' agree shares."""
    return float(score) ** (1.0 / groups) if groups > 0 else float("nan")


def votes_by_group(votes: pd.DataFrame) -> pd.DataFrame:
    """How each stakeholder group, and everyone (``all``, first), voted on each statement.

    ``votes`` is the vote table with a ``group`` column (a participant's study group; missing:
    ``unspecified``). A participant's last vote on a statement counts, as in :func:`vote_matrix`.
    Columns: statement, group, n (votes cast, passes included), agree, disagree, pass and their
    shares of n (agree_share, ...: plain shares, 0-1, without Pol.is's pseudocounts). Statements
    come in the order first voted on, groups alphabetically after everyone.
    """
    if "group" not in votes.columns:
        raise ValueError("votes need a group column to be counted by group")
    df = _last_votes(votes)
    df = df.assign(group=df["group"].fillna(UNSPECIFIED).astype(str))
    if (df["group"] == ALL).any():
        raise ValueError(f"'{ALL}' is reserved for everyone: rename that group")
    both = pd.concat([df.assign(group=ALL), df], ignore_index=True)
    marks = {kind: both["vote"].eq(value).astype(int) for kind, value in zip(VOTE_KINDS, (1, -1, 0), strict=True)}
    table = both.assign(**marks).groupby(["statement", "group"], sort=False)[list(VOTE_KINDS)].sum().reset_index()
    table.insert(2, "n", table[list(VOTE_KINDS)].sum(axis=1))
    for kind in VOTE_KINDS:
        table[f"{kind}_share"] = table[kind] / table["n"]
    order = {statement: n for n, statement in enumerate(dict.fromkeys(df["statement"]))}
    keys = [(order[s], g != ALL, g) for s, g in zip(table["statement"], table["group"], strict=True)]
    return table.iloc[sorted(range(len(table)), key=keys.__getitem__)].reset_index(drop=True)


def group_gaps(by_group: pd.DataFrame, min_votes: int = GAP_MIN_VOTES) -> pd.DataFrame:
    """Per statement of a :func:`votes_by_group` table, how far apart the stakeholder groups'
    agree shares are: ``gap`` (the highest share less the lowest, 0-1), ``most`` and ``least``
    (the groups agreeing most and least). Only groups with at least ``min_votes`` votes on the
    statement count; with fewer than two such groups the gap is NaN and most and least None."""
    rows = []
    for statement, part in by_group.groupby("statement", sort=False):
        counted = part[(part["group"] != ALL) & (part["n"] >= min_votes)]
        if len(counted) < 2:
            rows.append((statement, float("nan"), None, None))
            continue
        high, low = counted.loc[counted["agree_share"].idxmax()], counted.loc[counted["agree_share"].idxmin()]
        rows.append((statement, float(high["agree_share"] - low["agree_share"]), high["group"], low["group"]))
    return pd.DataFrame(rows, columns=["statement", "gap", "most", "least"])


def group_makeup(groups: Sequence[OpinionGroup], group_of: Mapping[Hashable, str]) -> dict[int, dict[str, int]]:
    """Each opinion group's members by stakeholder group (``group_of``: participant -> group;
    missing: ``unspecified``), the largest first."""
    found = {}
    for opinion in groups:
        counts = Counter(str(group_of.get(member) or UNSPECIFIED) for member in opinion.members)
        found[opinion.id] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return found
