"""Conditional (multinomial) logit on long-format choice data.

One row per available alternative per choice set; the utility of an
alternative is ``x @ beta`` and the chance it is chosen is the softmax over
the alternatives of its choice set. Alternative-specific constants are just
0/1 columns. The estimate is found by Newton's method with the analytic
gradient and Hessian (the log-likelihood is concave), and standard errors
come from the inverse of the negative Hessian at the optimum, as in Biogeme's
and mlogit's non-robust standard errors.

A feature the choices separate on (nobody chose "Neither"; a level never picked over an
option without it) has no estimate: it is left out, with the options it would give no
chance, and named with the reason in ``unidentified`` (:mod:`flows.analysis.separation`);
the other coefficients are the limit of the maximum-likelihood fit.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from flows.analysis.separation import OPT_OUT_FEATURES, Unidentified, find_separation

if TYPE_CHECKING:  # pandas loads only where a table is made, so loading a flow needs numpy alone
    import pandas as pd

Coding = Literal["dummy", "effects"]
Z_95 = 1.96
"""The normal quantile of the 95% intervals given with estimates and trade-offs."""
NO_LEVEL = "(none)"
"""The level of an attribute an alternative does not have: an opt-out ("Neither") has no wait."""


class EstimationError(ValueError):
    """The data cannot identify the model (say, a constant feature)."""


@dataclass(frozen=True)
class MNLResult:
    features: tuple[str, ...]
    estimates: np.ndarray
    covariance: np.ndarray
    log_likelihood: float
    null_log_likelihood: float
    """At all coefficients zero: every available alternative equally likely."""
    n_choice_sets: int
    iterations: int
    unidentified: tuple[Unidentified, ...] = ()
    """Features left out because the choices separate on them (their coefficient is infinite)."""

    @property
    def standard_errors(self) -> np.ndarray:
        """NaN where the covariance has no meaningful variance (a negative diagonal: with too
        few choices the information matrix is not positive definite)."""
        variances = np.diag(self.covariance)
        return np.sqrt(np.where(variances >= 0, variances, np.nan))

    @property
    def rho_squared(self) -> float:
        return 1.0 - self.log_likelihood / self.null_log_likelihood

    def coefficient(self, feature: str) -> float:
        return float(self.estimates[self.features.index(feature)])

    def se(self, feature: str) -> float:
        return float(self.standard_errors[self.features.index(feature)])

    def coefficients(self) -> dict[str, dict[str, float]]:
        return {
            name: {"estimate": float(b), "se": float(s)}
            for name, b, s in zip(self.features, self.estimates, self.standard_errors, strict=True)
        }


@dataclass(frozen=True)
class _Sets:
    """Long-format rows sorted so each choice set is one contiguous block."""

    x: np.ndarray
    chosen: np.ndarray
    starts: np.ndarray
    sizes: np.ndarray


def _prepare(x: np.ndarray, chosen: np.ndarray, set_ids: np.ndarray) -> _Sets:
    import pandas as pd

    codes, _ = pd.factorize(set_ids)
    order = np.argsort(codes, kind="stable")
    codes = codes[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    sizes = np.diff(np.r_[starts, len(codes)])
    chosen = chosen[order].astype(bool)
    per_set = np.add.reduceat(chosen.astype(int), starts)
    if np.any(per_set != 1):
        bad = int(np.sum(per_set != 1))
        raise EstimationError(f"{bad} choice set(s) do not have exactly one chosen alternative")
    return _Sets(np.ascontiguousarray(x[order], dtype=float), chosen, starts, sizes)


def _probabilities(sets: _Sets, beta: np.ndarray) -> tuple[np.ndarray, float]:
    """Choice probabilities per row and the log-likelihood."""
    v = sets.x @ beta
    v_max = np.maximum.reduceat(v, sets.starts)
    e = np.exp(v - np.repeat(v_max, sets.sizes))
    denom = np.add.reduceat(e, sets.starts)
    p = e / np.repeat(denom, sets.sizes)
    ll = float(v[sets.chosen].sum() - (v_max + np.log(denom)).sum())
    return p, ll


def _gradient_hessian(sets: _Sets, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xp = sets.x * p[:, None]
    x_bar = np.add.reduceat(xp, sets.starts)
    gradient = sets.x[sets.chosen].sum(axis=0) - x_bar.sum(axis=0)
    hessian = -(xp.T @ sets.x - x_bar.T @ x_bar)
    return gradient, hessian


def _newton(sets: _Sets, k: int, max_iter: int, tol: float) -> tuple[np.ndarray, np.ndarray, float, int]:
    beta = np.zeros(k)
    p, ll = _probabilities(sets, beta)
    for iteration in range(1, max_iter + 1):
        gradient, hessian = _gradient_hessian(sets, p)
        try:
            step = np.linalg.solve(-hessian, gradient)
        except np.linalg.LinAlgError as exc:
            raise EstimationError("the features are collinear or constant within choice sets") from exc
        t = 1.0
        while True:  # halve the step until the log-likelihood does not fall
            p_new, ll_new = _probabilities(sets, beta + t * step)
            if ll_new >= ll - 1e-10 or t < 1e-8:
                break
            t /= 2
        beta, p, ll = beta + t * step, p_new, ll_new
        if float(gradient @ step) < tol:
            return beta, hessian, ll, iteration
    raise EstimationError(f"no convergence in {max_iter} Newton iterations (is a choice perfectly predicted?)")


def fit_mnl_arrays(
    x: np.ndarray,
    chosen: np.ndarray,
    set_ids: np.ndarray,
    features: Sequence[str],
    *,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> MNLResult:
    """Estimate from arrays: ``x`` (rows x features), ``chosen`` 0/1, ``set_ids``."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] != len(features):
        raise ValueError("x must have one column per feature")
    if not np.all(np.isfinite(x)):
        raise EstimationError("the features contain missing or infinite values")
    everything = _prepare(x, np.asarray(chosen), np.asarray(set_ids))
    separation = find_separation(everything.x, everything.chosen, everything.sizes, features)
    if separation.constant:
        raise EstimationError(f"the features are collinear or constant within choice sets: {', '.join(separation.constant)} "
                              "never differs between the options shown together")
    sets = _limit(everything, separation.keep_rows, separation.keep_features)
    k = sets.x.shape[1]
    beta, iterations = np.zeros(0), 0
    if k:
        beta, _, _, iterations = _newton(sets, k, max_iter, tol)
    p, ll = _probabilities(sets, beta)
    _, hessian = _gradient_hessian(sets, p)
    try:
        covariance = np.linalg.inv(-hessian) if k else np.zeros((0, 0))
    except np.linalg.LinAlgError as exc:
        raise EstimationError("the information matrix is singular") from exc
    return MNLResult(
        features=tuple(f for f, kept in zip(features, separation.keep_features, strict=True) if kept),
        estimates=beta,
        covariance=covariance,
        log_likelihood=ll,
        null_log_likelihood=float(-np.log(everything.sizes).sum()),
        n_choice_sets=len(everything.starts),
        iterations=iterations,
        unidentified=separation.unidentified,
    )


def _limit(sets: _Sets, keep_rows: np.ndarray, keep_features: np.ndarray) -> _Sets:
    """The choice sets without the options (rows) and features a separation leaves out: the
    data whose likelihood the full model's tends to as the separated coefficients run off."""
    if keep_rows.all() and keep_features.all():
        return sets
    set_of_row = np.repeat(np.arange(len(sets.starts)), sets.sizes)[keep_rows]
    sizes = np.bincount(set_of_row, minlength=len(sets.starts))
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    return _Sets(np.ascontiguousarray(sets.x[keep_rows][:, keep_features]), sets.chosen[keep_rows], starts, sizes)


def fit_mnl(
    data: pd.DataFrame, *, choice_set: str, chosen: str, features: Sequence[str]
) -> MNLResult:
    """Estimate a conditional logit from a long-format data frame."""
    missing = [c for c in (choice_set, chosen, *features) if c not in data.columns]
    if missing:
        raise ValueError(f"missing column(s): {', '.join(missing)}")
    return fit_mnl_arrays(
        data[list(features)].to_numpy(dtype=float),
        data[chosen].to_numpy(dtype=float) > 0,
        data[choice_set].to_numpy(),
        features,
    )


def fit_mnl_by_group(
    data: pd.DataFrame, *, group: str, choice_set: str, chosen: str, features: Sequence[str]
) -> dict[Hashable, MNLResult]:
    """One model per value of ``group`` (constant within a choice set)."""
    return {
        key: fit_mnl(part, choice_set=choice_set, chosen=chosen, features=features)
        for key, part in data.groupby(group, sort=True)
    }


@dataclass(frozen=True)
class CodedAttribute:
    """How a categorical attribute became 0/1 (or effects) columns."""

    name: str
    levels: tuple[str, ...]
    reference: str
    coding: Coding

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(level_column(self.name, lv) for lv in self.levels if lv != self.reference)

    def part_worths(self, coefficients: Mapping[str, float]) -> dict[str, float]:
        """Utility of each level; the reference is 0 (dummy) or minus the sum (effects)."""
        worths = {lv: coefficients[level_column(self.name, lv)] for lv in self.levels if lv != self.reference}
        worths[self.reference] = 0.0 if self.coding == "dummy" else -sum(worths.values())
        return {lv: worths[lv] for lv in self.levels}


def level_column(attribute: str, level: object) -> str:
    return f"{attribute}[{level}]"


def code_categorical(
    data: pd.DataFrame, column: str, *, coding: Coding = "dummy", reference: str | None = None
) -> tuple[pd.DataFrame, CodedAttribute]:
    """Add one column per non-reference level: 0/1 (dummy) or 0/1/-1 (effects)."""
    values = data[column].astype(str)
    levels = tuple(sorted(values.unique()))
    ref = levels[0] if reference is None else str(reference)
    if ref not in levels:
        raise ValueError(f"reference level {ref!r} is not a level of {column!r}")
    coded = CodedAttribute(column, levels, ref, coding)
    new = {}
    for lv in levels:
        if lv == ref:
            continue
        col = (values == lv).astype(float)
        if coding == "effects":
            col = col - (values == ref).astype(float)
        new[level_column(column, lv)] = col
    return data.assign(**new), coded


def relative_importance(
    result: MNLResult,
    categorical: Sequence[CodedAttribute] = (),
    numeric: Mapping[str, tuple[float, float]] | None = None,
) -> dict[str, float]:
    """Each attribute's range of part-worths over the sum of ranges (sums to 1).

    A numeric attribute's range is ``|beta| * (high - low)`` over the levels
    shown, given as ``numeric={name: (low, high)}``.
    """
    coefficients = {f: result.coefficient(f) for f in result.features}
    ranges: dict[str, float] = {}
    for attr in categorical:
        worths = attr.part_worths(coefficients).values()
        ranges[attr.name] = max(worths) - min(worths)
    for name, (low, high) in (numeric or {}).items():
        ranges[name] = abs(coefficients[name]) * abs(high - low)
    total = sum(ranges.values())
    if total <= 0:
        raise ValueError("all part-worth ranges are zero")
    return {name: r / total for name, r in ranges.items()}


@dataclass(frozen=True)
class TradeOff:
    estimate: float
    se: float

    @property
    def low(self) -> float:
        """The lower end of the 95% interval."""
        return self.estimate - Z_95 * self.se

    @property
    def high(self) -> float:
        """The upper end of the 95% interval."""
        return self.estimate + Z_95 * self.se


def willingness_to_trade(result: MNLResult, attribute: str, against: str) -> TradeOff:
    """Change in ``against`` that offsets one more unit of ``attribute``.

    ``-beta_attribute / beta_against``: when ``against`` is a cost this is the
    willingness to pay. The standard error is by the delta method.
    """
    i, j = result.features.index(attribute), result.features.index(against)
    a, c = result.estimates[i], result.estimates[j]
    if c == 0:
        raise ValueError(f"the coefficient of {against!r} is zero")
    jac = np.zeros(len(result.features))
    jac[i], jac[j] = -1.0 / c, a / c**2
    return TradeOff(float(-a / c), float(np.sqrt(jac @ result.covariance @ jac)))


# ----------------------------------------------------------------------------- what the desk, reports and the CLI show


@dataclass(frozen=True)
class AttributeCoding:
    """How a choice table's attribute columns became model features: what relative importance
    and willingness to trade need to read a fitted model."""

    features: tuple[str, ...]
    """The model columns of the attributes, in attribute order."""
    categorical: tuple[CodedAttribute, ...] = ()
    numeric: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    """Each numeric attribute's lowest and highest value shown."""

    def default_against(self, result: MNLResult) -> str | None:
        """The first numeric attribute the model estimated (a wait, a cost): what the other
        features are traded against unless the caller says otherwise."""
        return next((name for name in self.numeric if name in result.features), None)


def code_attributes(data: pd.DataFrame, attributes: Sequence[str],
                    declared: Mapping[str, Sequence[str]] | None = None) -> tuple[pd.DataFrame, AttributeCoding]:
    """Model columns for choice data: an attribute whose values are all numbers is one linear
    column; any other gets a 0/1 column per level against its first level: the first of its
    ``declared`` levels (as the flow lists them) that the data has, else the first in sorted order.

    A missing value means the alternative has no level of that attribute (an opt-out):
    0 in the numeric column and in every level column. An attribute with no values is left out.
    """
    features: list[str] = []
    categorical: list[CodedAttribute] = []
    numeric: dict[str, tuple[float, float]] = {}
    for attribute in attributes:
        if data[attribute].isna().all():
            continue
        numbers = _as_numbers(data[attribute])
        if numbers is not None:
            numeric[attribute] = (float(numbers.min()), float(numbers.max()))
            data = data.assign(**{attribute: numbers.fillna(0.0)})
            features.append(attribute)
        else:
            data, coded = _code_levels(data, attribute, (declared or {}).get(attribute, ()))
            categorical.append(coded)
            features += coded.columns
    return data, AttributeCoding(tuple(features), tuple(categorical), numeric)


def _as_numbers(values: pd.Series) -> pd.Series | None:
    """The values as numbers (missing ones stay missing), or None when one is not a number."""
    import pandas as pd

    numbers = pd.to_numeric(values, errors="coerce")
    return numbers if numbers.notna().sum() == values.notna().sum() else None


def _code_levels(data: pd.DataFrame, attribute: str, declared: Sequence[str] = ()) -> tuple[pd.DataFrame, CodedAttribute]:
    """Dummy columns against the first declared level the data has (else the first real level
    in sorted order); no level codes as all zeros."""
    data = data.assign(**{attribute: data[attribute].fillna(NO_LEVEL).astype(str)})
    real = sorted(set(data[attribute]) - {NO_LEVEL})
    reference = next((str(level) for level in declared if str(level) in real), real[0])
    data, coded = code_categorical(data, attribute, reference=reference)
    return data, replace(coded, levels=tuple(level for level in coded.levels if level != NO_LEVEL))


def attribute_importance(result: MNLResult, coding: AttributeCoding) -> dict[str, float]:
    """:func:`relative_importance` of the attributes the model estimated, over the levels
    shown; empty when no attribute's levels differ in utility."""
    categorical = [c for c in coding.categorical if c.columns and set(c.columns) <= set(result.features)]
    numeric = {name: span for name, span in coding.numeric.items() if name in result.features}
    try:
        return relative_importance(result, categorical, numeric)
    except ValueError:
        return {}


def estimation_notes(result: MNLResult, coding: AttributeCoding | None = None) -> list[str]:
    """What the estimates leave out and why, once each: every coefficient the choices separate
    on (:attr:`MNLResult.unidentified`), and any attribute relative importance leaves out
    because one of its coefficients is among them."""
    notes = list(dict.fromkeys(u.reason for u in result.unidentified))
    missing = {u.feature for u in result.unidentified} - OPT_OUT_FEATURES  # an opt-out is no attribute
    if coding is not None:
        attributes = [c.name for c in coding.categorical if missing & set(c.columns)] + [n for n in coding.numeric if n in missing]
        notes += [f"relative importance leaves out {name}: not all of its coefficients could be estimated" for name in attributes]
    return notes


def trade_off_table(result: MNLResult, against: str) -> list[dict[str, Any]]:
    """Every other feature's :func:`willingness_to_trade` against ``against``, as rows of
    feature, against, estimate, se and the 95% interval (low, high); none when the
    coefficient of ``against`` is zero."""
    if result.coefficient(against) == 0:
        return []
    rows = []
    for feature in result.features:
        if feature != against:
            trade = willingness_to_trade(result, feature, against)
            rows.append({"feature": feature, "against": against, "estimate": trade.estimate, "se": trade.se,
                         "low": trade.low, "high": trade.high})
    return rows
