"""``chorus analyse dce`` and ``chorus analyse pairwise``: choice data from a CSV."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import click

if TYPE_CHECKING:
    import pandas as pd

    from flows.analysis.mnl import AttributeCoding, MNLResult
    from flows.analysis.pairwise import Comparison, ItemScore

FORMAT = click.option(
    "--format", "output_format", type=click.Choice(["table", "json"]), default="table",
    show_default=True, help="A readable table, or JSON for other programs.",
)
TRUE_WORDS = {"1", "true", "t", "yes", "y"}


def _read_csv(path: str, needed: Sequence[str]) -> pd.DataFrame:
    import pandas as pd
    data = pd.read_csv(path)
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise click.ClickException(
            f"{path}: no column(s) {', '.join(missing)}; the columns are {', '.join(map(str, data.columns))}"
        )
    return data


def _model_columns(
    data: pd.DataFrame, features: list[str], alternative: str, constants: bool
) -> tuple[pd.DataFrame, list[str], AttributeCoding]:
    """Numeric features as they are, text features dummy-coded (the first level in sorted
    order is the reference; an empty cell is no level, as for an opt-out), as on the desk."""
    from flows.analysis.mnl import code_attributes, code_categorical
    columns: list[str] = []
    if constants:
        data, coded = code_categorical(data, alternative)
        data = data.rename(columns={c: f"asc{c[len(alternative):]}" for c in coded.columns})
        columns += [f"asc{c[len(alternative):]}" for c in coded.columns]
    data, coding = code_attributes(data, features)
    return data, columns + list(coding.features), coding


def _summary(result: MNLResult, coding: AttributeCoding, against: str | None) -> dict[str, Any]:
    from flows.analysis.mnl import attribute_importance, estimation_notes, trade_off_table
    return {
        "coefficients": result.coefficients(),
        "not_estimated": [u.as_dict() for u in result.unidentified],
        "notes": estimation_notes(result, coding),
        "log_likelihood": result.log_likelihood,
        "null_log_likelihood": result.null_log_likelihood,
        "rho_squared": result.rho_squared,
        "n_choice_sets": result.n_choice_sets,
        "importance": attribute_importance(result, coding),
        "trade_offs": trade_off_table(result, against) if against else [],
    }


def _mnl_table(title: str, summary: dict[str, Any]) -> str:
    lines = [f"{title}: {summary['n_choice_sets']} choice sets", f"{'feature':<24}{'estimate':>12}{'se':>12}{'z':>9}"]
    for name, c in summary["coefficients"].items():
        z = c["estimate"] / c["se"] if c["se"] > 0 else float("nan")
        lines.append(f"{name:<24}{c['estimate']:>12.4g}{c['se']:>12.4g}{z:>9.2f}")
    lines += [f"{left['feature']:<24}{'':>5}not estimated (see below)" for left in summary["not_estimated"]]
    lines.append(
        f"log-likelihood {summary['log_likelihood']:.3f} (null {summary['null_log_likelihood']:.3f}),"
        f" rho-squared {summary['rho_squared']:.3f}"
    )
    tables = _importance_lines(summary["importance"]) + _trade_off_lines(summary["trade_offs"])
    return "\n".join(lines + _note_lines(summary["notes"]) + tables)


def _note_lines(notes: list[str]) -> list[str]:
    """Why a coefficient was not estimated, and that the others are fitted without it."""
    if not notes:
        return []
    return ["", "Not estimated (the others are fitted without them, as the choices imply):", *(f"- {note}" for note in notes)]


def _importance_lines(importance: dict[str, float]) -> list[str]:
    if not importance:
        return []
    ranked = sorted(importance.items(), key=lambda pair: pair[1], reverse=True)
    return ["", f"{'relative importance':<24}{'share':>12}", *(f"{name:<24}{share:>11.1%}" for name, share in ranked)]


def _trade_off_lines(trades: list[dict[str, Any]]) -> list[str]:
    if not trades:
        return []
    lines = ["", f"{'worth, in ' + trades[0]['against']:<24}{'estimate':>12}{'se':>12}{'95% interval':>26}"]
    for t in trades:
        interval = f"{t['low']:.4g} to {t['high']:.4g}"
        lines.append(f"{t['feature']:<24}{t['estimate']:>12.4g}{t['se']:>12.4g}{interval:>26}")
    return lines


def _fit(data: pd.DataFrame, choice_set: str, chosen: str, columns: list[str], coding: AttributeCoding,
         against: str | None) -> dict[str, Any]:
    from flows.analysis.mnl import fit_mnl
    try:
        result = fit_mnl(data, choice_set=choice_set, chosen=chosen, features=columns)
    except ValueError as exc:  # EstimationError included
        raise click.ClickException(str(exc)) from exc
    return _summary(result, coding, against or coding.default_against(result))


def _against(against: str | None, columns: list[str]) -> str | None:
    if against is not None and against not in columns:
        raise click.ClickException(f"--against {against}: not a model column; the columns are {', '.join(columns)}")
    return against


@click.command("dce")
@click.option("--data", "path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Long-format CSV: one row per alternative shown in each choice set.")
@click.option("--choice-set", required=True, help="Column identifying the choice set.")
@click.option("--alternative", required=True, help="Column naming the alternative within its set.")
@click.option("--chosen", required=True, help="Column that is 1 for the chosen alternative, else 0.")
@click.option("--features", required=True,
              help="Comma-separated attribute columns; text columns are dummy-coded. An empty cell means the "
                   "alternative lacks the attribute (an opt-out): 0 in a number column, no level in a text one.")
@click.option("--group", default=None, help="Also fit one model per value of this column.")
@click.option("--constants", is_flag=True, help="Add a constant for each alternative but the first.")
@click.option("--against", default=None,
              help="Model column to express willingness to trade in (default: the first numeric feature).")
@FORMAT
def dce_command(
    path: str, choice_set: str, alternative: str, chosen: str, features: str,
    group: str | None, constants: bool, against: str | None, output_format: str,
) -> None:
    """Conditional logit on discrete choice experiment answers, with each feature's relative
    importance (its share of the utility its values span) and willingness to trade: how much of
    one feature (a wait, a cost) offsets one more unit of each other, with a delta-method 95%
    interval."""
    import pandas as pd
    names = [f.strip() for f in features.split(",") if f.strip()]
    data = _read_csv(path, [choice_set, alternative, chosen, *names, *([group] if group else [])])
    if data.duplicated([choice_set, alternative]).any():
        raise click.ClickException(f"an alternative appears twice in one choice set ({choice_set}, {alternative})")
    if group and (data.groupby(choice_set)[group].nunique() > 1).any():
        raise click.ClickException(f"{group} must be the same for every row of a choice set")
    if not pd.api.types.is_numeric_dtype(data[chosen]):
        data[chosen] = data[chosen].astype(str).str.strip().str.lower().isin(TRUE_WORDS).astype(int)
    data, columns, coding = _model_columns(data, names, alternative, constants)
    against = _against(against, columns)
    output = _fit(data, choice_set, chosen, columns, coding, against)
    if group:
        output["groups"] = {
            str(key): _fit(part, choice_set, chosen, columns, coding, against)
            for key, part in data.groupby(group, sort=True)
        }
    if output_format == "json":
        click.echo(json.dumps(output, indent=2))
        return
    click.echo(_mnl_table("All", output))
    for key, summary in output.get("groups", {}).items():
        click.echo("\n" + _mnl_table(f"{group} = {key}", summary))


def _comparisons(data: pd.DataFrame) -> list[Comparison]:
    import pandas as pd

    from flows.analysis.pairwise import Comparison
    ties = (
        data["tie"].astype(str).str.strip().str.lower().isin(TRUE_WORDS)
        if "tie" in data.columns else pd.Series(False, index=data.index)
    )
    return [
        Comparison(str(w), str(lo), bool(t))
        for w, lo, t in zip(data["winner"], data["loser"], ties, strict=True)
    ]


def _items_json(scores: list[ItemScore]) -> list[dict[str, Any]]:
    return [s.__dict__.copy() for s in scores]


def _items_table(title: str, scores: list[ItemScore]) -> str:
    lines = [title, f"{'item':<32}{'score':>7}{'95% interval':>16}{'compared':>10}{'ties':>6}"]
    for s in scores:
        lines.append(f"{s.item[:31]:<32}{s.score:>7.1f}{f'{s.low:.1f}-{s.high:.1f}':>16}{s.comparisons:>10}{s.ties:>6}")
    return "\n".join(lines)


@click.command("pairwise")
@click.option("--data", "path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="CSV with columns winner, loser; optional group, and tie (1 for \"can't decide\").")
@FORMAT
def pairwise_command(path: str, output_format: str) -> None:
    """Bradley-Terry scores: the chance (0-100) each item beats a random other one."""
    from flows.analysis.pairwise import score_by_group, score_items
    data = _read_csv(path, ["winner", "loser"])
    records = _comparisons(data)
    try:
        items = sorted({n for c in records for n in (c.winner, c.loser)})
        overall = score_items(records, items)
        groups: dict[str, list[ItemScore]] = {}
        if "group" in data.columns:
            by_group: dict[str, list[Comparison]] = {}
            for g, record in zip(data["group"].astype(str), records, strict=True):
                by_group.setdefault(g, []).append(record)
            groups = score_by_group(by_group)  # each group over the items it compared, as the desk and report
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if output_format == "json":
        output: dict[str, Any] = {
            "items": _items_json(overall),
            "comparisons": sum(not c.tie for c in records),
            "ties": sum(c.tie for c in records),
        }
        if groups:
            output["groups"] = {g: _items_json(s) for g, s in groups.items()}
        click.echo(json.dumps(output, indent=2))
        return
    click.echo(_items_table("All", overall))
    for g, scores in groups.items():
        click.echo("\n" + _items_table(f"group = {g}", scores))


def register(cli: click.Group) -> None:
    analyse = cast(click.Group, cli.commands["analyse"])
    analyse.add_command(dce_command)
    analyse.add_command(pairwise_command)
