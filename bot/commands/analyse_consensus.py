"""``chorus analyse delphi|ranking|statements``: consensus methods from a CSV."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from flows.analysis.scale import MIN_SCORES, ConsensusRule

if TYPE_CHECKING:
    import pandas as pd


FORMAT = click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="A readable table, or JSON for other programs.",
)


def _read_csv(path: str, needed: Sequence[str], text: Sequence[str] = ()) -> pd.DataFrame:
    """The CSV at ``path``, which must have the ``needed`` columns; ``text`` columns are read as text."""
    import pandas as pd
    data = pd.read_csv(path, dtype={column: str for column in text})
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise click.ClickException(
            f"{path}: no column(s) {', '.join(missing)}; the columns are {', '.join(map(str, data.columns))}"
        )
    return data


def _plain(value: Any) -> Any:
    """Make numpy and pandas values JSON-friendly (NaN becomes null)."""
    import numpy as np
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    return [
        _plain(dict(zip(columns, row, strict=True)))
        for row in frame[columns].itertuples(index=False)
    ]


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    cells = [[_cell(r[c]) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    lines = [columns] + cells
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def _range(text: str, what: str) -> tuple[int, int]:
    try:
        low, high = (int(part) for part in text.split("-"))
    except ValueError:
        raise click.BadParameter(f"{what} must look like 7-9, not {text!r}") from None
    return low, high


def _emit(payload: dict[str, Any], output_format: str, table: str) -> None:
    click.echo(json.dumps(_plain(payload), indent=2) if output_format == "json" else table)


@click.command("delphi")
@click.option(
    "--ratings",
    "path",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="CSV with participant, group, round, item, score (empty score = unsure); with a delphi column, "
    "each Delphi is analysed on its own.",
)
@click.option(
    "--scale", "scale_text", default="1-9", show_default=True, help="Lowest-highest score."
)
@click.option("--high", "high_text", default="7-9", show_default=True, help="The high band.")
@click.option("--low", "low_text", default="1-3", show_default=True, help="The low band.")
@click.option(
    "--agree-pct",
    default=70.0,
    show_default=True,
    help="Share (0-100) that must score in a band for consensus.",
)
@click.option(
    "--max-opposite-pct",
    default=15.0,
    show_default=True,
    help="Consensus needs fewer than this share (0-100) in the opposite band.",
)
@click.option("--per-group", is_flag=True, help="Overall consensus only if every group agrees.")
@click.option(
    "--min-group-n",
    default=1,
    show_default=True,
    help="With --per-group, ignore groups with fewer scores than this.",
)
@click.option(
    "--min-scores",
    default=MIN_SCORES,
    show_default=True,
    type=click.IntRange(min=1),
    help="Fewest scores an item needs for consensus in or out; with fewer it is 'few' (too few scores), "
    "as a Delphi step's consensus.min_scores.",
)
@click.option(
    "--sent",
    "sent_path",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="CSV with participant, round, open (true while they may still answer), and delphi beside ratings "
    "that name several: who was sent each round, "
    "as chorus report writes it (delphi-ID-rounds-sent.csv). With it, attrition counts only those sent "
    "a round, as the desk does; without it, everyone who did not respond counts as dropped.",
)
@FORMAT
def delphi_command(
    path: str,
    scale_text: str,
    high_text: str,
    low_text: str,
    agree_pct: float,
    max_opposite_pct: float,
    per_group: bool,
    min_group_n: int,
    min_scores: int,
    sent_path: str | None,
    output_format: str,
) -> None:
    """Median, bands and consensus per item, round and group of a Delphi study, then response
    and attrition per round. Percentages count only those who gave a score: unsure answers
    (an empty score) are left out of them and shown as n_unsure beside them. Consensus needs
    --min-scores scores (default 5); with fewer it is 'few'."""
    from flows.analysis.delphi import UNSURE_LEFT_OUT, Scale

    data = _read_csv(path, ["participant", "round", "item", "score"], text=["participant", "delphi"])
    sent = _read_sent(sent_path) if sent_path else None
    try:
        low, high = _range(scale_text, "--scale")
        scale = Scale(low, high, _range(low_text, "--low"), _range(high_text, "--high"))
        rule = ConsensusRule(scale, agree_pct, max_opposite_pct, per_group, min_group_n, min_scores)
        summary, responses = _each_delphi(data, sent, rule)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    named = ["delphi"] if "delphi" in data.columns else []
    items = _records(summary, named + DELPHI_COLUMNS)
    rounds = _records(responses, named + PARTICIPATION_COLUMNS)
    few = f"consensus 'few': fewer than {min_scores} scores, too few to call in or out"
    notes = {"unsure": UNSURE_LEFT_OUT, "few": few, "attrition": _attrition_notes(responses, sent_path is not None)}
    table = "\n".join([_table(items, named + DELPHI_COLUMNS), f"({UNSURE_LEFT_OUT})", f"({few})", "", "participation",
                       _table(rounds, named + PARTICIPATION_COLUMNS), *(f"({note})" for note in notes["attrition"])])
    _emit({"items": items, "participation": rounds, "notes": notes}, output_format, table)


DELPHI_COLUMNS = ["item", "round", "group", "n", "n_unsure", "median", "q1", "q3", "pct_high", "pct_low", "consensus"]
PARTICIPATION_COLUMNS = ["round", "group", "responded", "previous", "dropped", "still_open", "not_sent", "came_back",
                         "new", "attrition_pct", "attrition_basis"]
TRUE, FALSE = {"true", "1", "yes"}, {"false", "0", "no"}


def _each_delphi(data: pd.DataFrame, sent: pd.DataFrame | None, rule: ConsensusRule) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The summary and participation of each Delphi in the ratings on its own, where a
    ``delphi`` column names each rating's: round 2 of one Delphi is not round 2 of another.
    The rounds sent are split by their own ``delphi`` column; without one they can be only
    one Delphi's."""
    import pandas as pd

    from bot.analysis_input import rounds_sent_to
    from flows.analysis.delphi import participation, summarise

    if "delphi" not in data.columns:
        return summarise(data, rule), participation(data, sent)
    names = data["delphi"].fillna("")
    if sent is not None and "delphi" not in sent.columns and names.nunique() > 1:
        raise ValueError(f"the ratings hold {names.nunique()} Delphis ({', '.join(dict.fromkeys(names))}) but the rounds "
                         "sent name none: add a delphi column to them, or analyse each Delphi on its own")
    summaries, responses = [], []
    for name, part in data.groupby(names, sort=False):
        ratings = part.drop(columns="delphi")
        summaries.append(summarise(ratings, rule).assign(delphi=name))
        responses.append(participation(ratings, rounds_sent_to(sent, str(name))).assign(delphi=name))
    return pd.concat(summaries, ignore_index=True), pd.concat(responses, ignore_index=True)


def _read_sent(path: str) -> pd.DataFrame:
    """Who was sent which round, ``open`` read as true/false (also 1/0, yes/no)."""
    sent = _read_csv(path, ["participant", "round", "open"], text=["participant", "open", "delphi"])
    words = sent["open"].fillna("").str.strip().str.lower()
    unknown = sorted(set(words) - TRUE - FALSE)
    if unknown:
        raise click.ClickException(f"{path}: open must be true or false, not {unknown[0]!r}")
    return sent.assign(open=words.isin(TRUE))


def _attrition_notes(responses: pd.DataFrame, given: bool) -> list[str]:
    """What 'dropped' counted, for each way the rounds were counted (and how to count as the desk does)."""
    from flows.analysis.delphi import ATTRITION_BASES

    notes = []
    for basis in dict.fromkeys(b for b in responses["attrition_basis"] if b != "first"):
        rounds = ", ".join(str(r) for r in sorted(set(responses.loc[responses["attrition_basis"] == basis, "round"])))
        notes.append(f"attrition_basis {basis} (round {rounds}): {ATTRITION_BASES[basis]}")
    if "responses" in set(responses["attrition_basis"]):
        fix = "--sent names nobody for those rounds" if given else "pass --sent (chorus report writes delphi-ID-rounds-sent.csv)"
        notes.append(f"the desk and chorus report count only those sent a round; {fix} to count as they do")
    return notes


@click.command("ranking")
@click.option(
    "--rankings",
    "path",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="CSV with participant, group, option, position (1 = most important).",
)
@click.option(
    "--bootstrap",
    "n_boot",
    default=200,
    show_default=True,
    help="Bootstrap resamples of participants for the 95% intervals.",
)
@click.option("--seed", default=0, show_default=True, help="Random seed of the bootstrap.")
@click.option("--per-group", is_flag=True, help="Also give results for each group.")
@FORMAT
def ranking_command(path: str, n_boot: int, seed: int, per_group: bool, output_format: str) -> None:
    """Borda counts and Plackett-Luce scores (with 95% intervals) per option; a group with no
    interval (all ranked alike, or too few) shows "-" and a note says why."""
    from flows.analysis.ranking import analyse_rankings, group_notes
    data = _read_csv(path, ["participant", "option", "position"])
    try:
        result = analyse_rankings(data, n_boot=n_boot, seed=seed, per_group=per_group)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    columns = ["option", "borda", "score", "low", "high", "p_first", "n_ranked"]
    overall = result[result["group"] == "all"]
    payload: dict[str, Any] = {"options": _records(overall, columns)}
    table = _table(payload["options"], columns)
    if per_group:
        groups = result[result["group"] != "all"]
        payload["groups"] = {
            g: _records(part, columns) for g, part in groups.groupby("group", sort=True)
        }
        for g, rows in payload["groups"].items():
            table += f"\n\ngroup {g}\n" + _table(rows, columns)
    payload["notes"] = group_notes(result)  # no interval ("-"): why; scores held by the prior
    if payload["notes"]:
        table += "\n\n" + "\n".join(f"note: {note}." for note in payload["notes"])
    _emit(payload, output_format, table)


@click.command("statements")
@click.option(
    "--votes",
    "path",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="CSV with participant, statement, vote (1 agree, -1 disagree, 0 pass).",
)
@click.option(
    "--min-votes",
    default=7,
    show_default=True,
    help="Participants with fewer votes are not clustered (Pol.is uses 7).",
)
@click.option(
    "--max-groups", default=5, show_default=True, help="At most this many opinion groups."
)
@click.option("--seed", default=0, show_default=True, help="Random seed of k-means.")
@FORMAT
def statements_command(
    path: str, min_votes: int, max_groups: int, seed: int, output_format: str
) -> None:
    """Opinion groups, their representative statements and group-informed consensus."""
    from flows.analysis.statements import analyse_statements
    data = _read_csv(path, ["participant", "statement", "vote"])
    try:
        result = analyse_statements(data, min_votes=min_votes, k_max=max_groups, seed=seed)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    groups: list[dict[str, Any]] = [
        {"id": g.id, "size": g.size, "members": list(g.members)} for g in result.groups
    ]
    consensus = _records(result.consensus, ["statement", "score", "against", "common_ground"])
    rep_columns = ["statement", "repful_for", "p_success", "repness", "repness_test"]
    representative = {g: _records(t, rep_columns) for g, t in result.representative.items()}
    payload = {
        "groups": groups,
        "consensus": consensus,
        "representative": representative,
        "unclustered": list(result.unclustered),
    }
    lines = [
        _table(
            [{**g, "members": " ".join(map(str, g["members"]))} for g in groups],
            ["id", "size", "members"],
        ),
        "",
        "group-informed consensus",
        _table(consensus, ["statement", "score", "against", "common_ground"]),
    ]
    for g, rows in representative.items():
        lines += ["", f"representative of group {g}", _table(rows, rep_columns)]
    _emit(payload, output_format, "\n".join(lines))


def register(cli: click.Group) -> None:
    analyse = cli.commands["analyse"]
    assert isinstance(analyse, click.Group)
    for command in (delphi_command, ranking_command, statements_command):
        analyse.add_command(command)
