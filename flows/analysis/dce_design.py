"""D-efficient designs for discrete choice experiments (multinomial logit).

A design is ``tasks`` choice sets of ``alternatives`` profiles, each profile a
level of every attribute, optionally with an opt-out ("neither") added to
every task. Its D-error is ``det(I(beta)^-1)^(1/K)`` where ``I`` is the MNL
Fisher information at the prior coefficients (zero by default) and ``K`` the
number of coded parameters: lower is better.

Search: from several level-balanced random starts, swap the levels of one
attribute between two profiles whenever that lowers the D-error (a
coordinate exchange restricted to swaps, so every level keeps appearing as
often as the others), until a full pass finds no better swap. Swaps that
would leave a task with a dominated or duplicated profile are refused, so the
result has none. Everything is drawn from ``numpy.random.default_rng(seed)``,
so a seed gives the same design every time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from flows.analysis.mnl import Coding, level_column

if TYPE_CHECKING:  # pandas loads only where a table is made, so loading a flow needs numpy alone
    import pandas as pd

OPT_OUT = "opt_out"


class DesignError(ValueError):
    pass


@dataclass(frozen=True)
class Attribute:
    name: str
    levels: tuple[float | str, ...]
    better: Literal["higher", "lower"] | None = None
    """Known direction of preference for a numeric attribute (else the prior's sign)."""

    @property
    def numeric(self) -> bool:
        return all(isinstance(v, int | float) and not isinstance(v, bool) for v in self.levels)


@dataclass(frozen=True)
class DesignSpec:
    attributes: tuple[Attribute, ...]
    tasks: int
    alternatives: int = 2
    opt_out: bool = False
    blocks: int = 1
    priors: Mapping[str, float] = field(default_factory=dict)
    """Prior coefficients by parameter name (see ``parameters``); missing ones are 0."""
    coding: Coding = "dummy"

    def __post_init__(self) -> None:
        if not 2 <= self.alternatives <= 3:
            raise DesignError("a task needs 2 or 3 alternatives")
        if self.tasks < 1 or self.blocks < 1 or self.tasks % self.blocks:
            raise DesignError("the number of tasks must be a positive multiple of the blocks")
        for attr in self.attributes:
            if len(set(attr.levels)) != len(attr.levels) or len(attr.levels) < 2:
                raise DesignError(f"{attr.name}: needs at least two distinct levels")
        unknown = set(self.priors) - set(self.parameters)
        if unknown:
            raise DesignError(f"priors for unknown parameters: {', '.join(sorted(unknown))}")
        rows = self.alternatives + self.opt_out
        if len(self.parameters) > self.tasks * (rows - 1):
            raise DesignError("too few tasks to estimate every parameter")

    @property
    def parameters(self) -> tuple[str, ...]:
        names: list[str] = []
        for attr in self.attributes:
            if attr.numeric:
                names.append(attr.name)
            else:
                names += [level_column(attr.name, lv) for lv in attr.levels[1:]]
        return (*names, OPT_OUT) if self.opt_out else tuple(names)

    @property
    def beta(self) -> np.ndarray:
        return np.array([float(self.priors.get(p, 0.0)) for p in self.parameters])


def _codes(spec: DesignSpec) -> list[np.ndarray]:
    """Per attribute, a (levels x coded columns) table; the first level is the reference."""
    tables = []
    for attr in spec.attributes:
        n = len(attr.levels)
        if attr.numeric:
            tables.append(np.array(attr.levels, dtype=float)[:, None])
        else:
            table = np.eye(n)[:, 1:]
            if spec.coding == "effects":
                table[0, :] = -1.0
            tables.append(table)
    return tables


def _directions(spec: DesignSpec) -> np.ndarray:
    """+1 / -1 where more of a numeric attribute is known to be better / worse, else 0."""
    signs = []
    for attr in spec.attributes:
        if not attr.numeric:
            signs.append(0.0)
        elif attr.better is not None:
            signs.append(1.0 if attr.better == "higher" else -1.0)
        else:
            signs.append(float(np.sign(spec.priors.get(attr.name, 0.0))))
    return np.array(signs)


class _Model:
    """Turns level indices into model matrices and information, for one spec."""

    def __init__(self, spec: DesignSpec) -> None:
        self.spec = spec
        self.beta = spec.beta
        self.k = len(spec.parameters)
        codes = _codes(spec)
        n_attrs, most = len(codes), max(len(a.levels) for a in spec.attributes)
        # table[a, level] is attribute a's coded row, placed in its own columns of K
        self.table = np.zeros((n_attrs, most, self.k))
        column = 0
        for a, code in enumerate(codes):
            self.table[a, : code.shape[0], column : column + code.shape[1]] = code
            column += code.shape[1]
        self.attrs = np.arange(n_attrs)
        directions = _directions(spec)
        self.ordered = np.flatnonzero(directions != 0)
        self.unordered = np.flatnonzero(directions == 0)
        self.worth = np.zeros((len(self.ordered), most))
        for i, position in enumerate(self.ordered.tolist()):
            levels = np.array(spec.attributes[position].levels, dtype=float)
            self.worth[i, : len(levels)] = directions[position] * levels

    def matrix(self, idx: np.ndarray) -> np.ndarray:
        """(tasks, alternatives, attributes) indices -> (tasks, rows, K) coded values."""
        x = self.table[self.attrs, idx].sum(axis=-2)
        if self.spec.opt_out:
            none = np.zeros((x.shape[0], 1, self.k))
            none[..., -1] = 1.0
            x = np.concatenate([x, none], axis=1)
        return x

    def task_information(self, idx: np.ndarray) -> np.ndarray:
        x = self.matrix(idx)
        v = x @ self.beta
        p = np.exp(v - v.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        x_bar = np.einsum("tj,tjk->tk", p, x)
        return np.einsum("tj,tjk,tjl->tkl", p, x, x) - np.einsum("tk,tl->tkl", x_bar, x_bar)

    def d_error(self, information: np.ndarray) -> float:
        return float(self.d_errors(information[None])[0])

    def d_errors(self, information: np.ndarray) -> np.ndarray:
        """D-error of each (n, K, K) information matrix; inf when singular."""
        sign, logdet = np.linalg.slogdet(information)
        with np.errstate(over="ignore"):
            return np.where(sign > 0, np.exp(-logdet / self.k), np.inf)

    def invalid(self, tasks: np.ndarray) -> np.ndarray:
        """Per task: does a profile dominate, or duplicate, another profile?

        ``tasks`` is (n, alternatives, attributes). Profile A dominates B when
        they agree on every attribute without a known direction and A is at
        least as good on every ordered one (better on at least one).
        """
        numbers = self.worth[np.arange(len(self.ordered)), tasks[..., self.ordered]]
        labels = tasks[..., self.unordered]
        bad = np.zeros(len(tasks), dtype=bool)
        n_alts = tasks.shape[1]
        for i in range(n_alts):
            for j in range(i + 1, n_alts):
                same = np.all(labels[:, i] == labels[:, j], axis=-1)
                diff = numbers[:, i] - numbers[:, j]
                one_sided = np.all(diff >= 0, axis=-1) | np.all(diff <= 0, axis=-1)
                bad |= same & one_sided
        return bad


@dataclass(frozen=True)
class Design:
    spec: DesignSpec
    levels: np.ndarray
    """Level index of each (task, alternative, attribute)."""
    blocks: np.ndarray
    d_error: float

    def model_matrix(self) -> np.ndarray:
        return _Model(self.spec).matrix(self.levels)

    def dominated_tasks(self) -> list[int]:
        return [int(t) for t in np.flatnonzero(_Model(self.spec).invalid(self.levels))]

    def to_frame(self) -> pd.DataFrame:
        """One row per profile shown, with the attribute levels in words or numbers."""
        import pandas as pd

        rows = []
        for t, task in enumerate(self.levels):
            for j, profile in enumerate(task):
                row: dict[str, object] = {"task": t + 1, "block": int(self.blocks[t]) + 1, "alternative": j + 1}
                for a, attr in enumerate(self.spec.attributes):
                    row[attr.name] = attr.levels[profile[a]]
                rows.append(row)
        return pd.DataFrame(rows)

    def model_frame(self) -> pd.DataFrame:
        """Long format for :func:`flows.analysis.mnl.fit_mnl`: task, alternative, coded columns."""
        import pandas as pd

        x = self.model_matrix()
        t, j = np.meshgrid(np.arange(x.shape[0]), np.arange(x.shape[1]), indexing="ij")
        frame = pd.DataFrame(x.reshape(-1, x.shape[-1]), columns=list(self.spec.parameters))
        frame.insert(0, "alternative", j.ravel() + 1)
        frame.insert(0, "task", t.ravel() + 1)
        return frame


def _balanced_start(spec: DesignSpec, rng: np.random.Generator) -> np.ndarray:
    cells = spec.tasks * spec.alternatives
    columns = []
    for attr in spec.attributes:
        n = len(attr.levels)
        column = np.resize(np.arange(n), cells)
        columns.append(rng.permutation(column))
    return np.stack(columns, axis=-1).reshape(spec.tasks, spec.alternatives, len(spec.attributes))


def _swap_candidates(idx: np.ndarray, t1: int, j1: int, a: int) -> tuple[np.ndarray, ...]:
    """Every swap of attribute ``a`` between cell (t1, j1) and a later cell with another level.

    Returns the partner tasks, the first and second modified tasks, and a mask
    of partners in another task (for a partner in the same task, both swaps
    land in the first array and the second is unused).
    """
    n_tasks, n_alts, _ = idx.shape
    t2, j2 = np.divmod(np.arange(t1 * n_alts + j1 + 1, n_tasks * n_alts), n_alts)
    keep = idx[t2, j2, a] != idx[t1, j1, a]
    t2, j2 = t2[keep], j2[keep]
    n = len(t2)
    first = np.repeat(idx[t1][None], n, axis=0)
    second = idx[t2].copy()
    other = t2 != t1
    first[np.arange(n), j1, a] = idx[t2, j2, a]
    second[np.arange(n), j2, a] = idx[t1, j1, a]
    first[~other, j2[~other], a] = idx[t1, j1, a]
    return t2, first, second, other


def _improve(model: _Model, idx: np.ndarray, max_passes: int) -> np.ndarray:
    """Best level swap per cell and attribute, kept when it lowers (invalid tasks, D-error)."""
    n_tasks, n_alts, n_attrs = idx.shape
    info = model.task_information(idx)
    bad = model.invalid(idx)
    score = (int(bad.sum()), model.d_error(info.sum(axis=0)))
    for _ in range(max_passes):
        improved = False
        for a in range(n_attrs):
            for t1 in range(n_tasks):
                for j1 in range(n_alts):
                    t2, first, second, other = _swap_candidates(idx, t1, j1, a)
                    if len(t2) == 0:
                        continue
                    n = len(t2)
                    both = np.concatenate([first, second])
                    flags, infos = model.invalid(both), model.task_information(both)
                    bad1, bad2 = flags[:n], flags[n:] & other
                    info1, info2 = infos[:n], infos[n:]
                    n_bad = score[0] - bad[t1] - (bad[t2] & other) + bad1 + bad2
                    total = info.sum(axis=0) - info[t1] + info1
                    total = total + other[:, None, None] * (info2 - info[t2])
                    errors = model.d_errors(total)
                    best = int(np.lexsort((errors, n_bad))[0])
                    if (n_bad[best], errors[best]) < (score[0], score[1] * (1 - 1e-9)):
                        c = t2[best]
                        idx[t1], info[t1], bad[t1] = first[best], info1[best], bad1[best]
                        if other[best]:
                            idx[c], info[c], bad[c] = second[best], info2[best], bad2[best]
                        score, improved = (int(n_bad[best]), float(errors[best])), True
        if not improved:
            break
    return idx


def _assign_blocks(spec: DesignSpec, idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Split tasks into blocks keeping each block's level counts close to even."""
    per_block = spec.tasks // spec.blocks
    base = np.repeat(np.arange(spec.blocks), per_block)
    if spec.blocks == 1:
        return base
    best, best_cost = base, np.inf
    for _ in range(200):
        blocks = rng.permutation(base)
        cost = 0.0
        for a, attr in enumerate(spec.attributes):
            for b in range(spec.blocks):
                counts = np.bincount(idx[blocks == b][..., a].ravel(), minlength=len(attr.levels))
                cost += float(np.var(counts))
        if cost < best_cost:
            best, best_cost = blocks, cost
    return best


def generate_design(spec: DesignSpec, *, seed: int = 0, starts: int = 4, max_passes: int = 20) -> Design:
    """The most D-efficient valid design found from ``starts`` random starts."""
    rng = np.random.default_rng(seed)
    model = _Model(spec)
    best: tuple[float, np.ndarray] | None = None
    for _ in range(starts):
        idx = _improve(model, _balanced_start(spec, rng), max_passes)
        if model.invalid(idx).any():
            continue
        d = model.d_error(model.task_information(idx).sum(axis=0))
        if best is None or d < best[0]:
            best = (d, idx)
    if best is None:
        raise DesignError("no design without dominated alternatives was found: add levels or tasks")
    if not np.isfinite(best[0]):
        raise DesignError("no design found identifies every parameter: add tasks or levels")
    return Design(spec, best[1], _assign_blocks(spec, best[1], rng), best[0])


def random_design(spec: DesignSpec, *, seed: int = 0) -> Design:
    """A level-balanced random design of the same size, as a baseline (may be invalid)."""
    rng = np.random.default_rng(seed)
    model = _Model(spec)
    idx = _balanced_start(spec, rng)
    d = model.d_error(model.task_information(idx).sum(axis=0))
    return Design(spec, idx, np.repeat(np.arange(spec.blocks), spec.tasks // spec.blocks), d)


def d_error(spec: DesignSpec, levels: np.ndarray) -> float:
    model = _Model(spec)
    return model.d_error(model.task_information(np.asarray(levels)).sum(axis=0))
