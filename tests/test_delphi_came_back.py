"""Delphi participation counts who came back after skipping a round, and who is new (found by a
tester whose stroke-rehabilitation Delphi had three people skip round 2 and answer round 3: the
desk showed round 3 "Responded 38, In previous round 37, Dropped 1, Not sent yet 1", figures
that did not add up, with nothing saying who the extra three were)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from bot.cli import cli
from flows.analysis.delphi import participation

RATINGS = ["participant", "group", "round", "item", "score"]


def _ratings() -> pd.DataFrame:
    """a-e answer round 1; a, b, c round 2; a, b (returned), d (skipped 2), f (new) round 3."""
    rows = [(p, "carer" if p in "ab" else "survivor", 1, "x", 7) for p in "abcde"]
    rows += [(p, "carer" if p in "ab" else "survivor", 2, "x", 7) for p in "abc"]
    rows += [(p, "carer" if p in "ab" else "survivor", 3, "x", 7) for p in "abdf"]
    return pd.DataFrame(rows, columns=RATINGS)


def test_responders_add_up_to_those_returned_came_back_and_new() -> None:
    table = participation(_ratings()).set_index(["round", "group"])
    everyone = table.loc[(3, "all")]
    assert (everyone["responded"], everyone["previous"], everyone["dropped"]) == (4, 3, 1)
    assert (everyone["came_back"], everyone["new"]) == (1, 1), "d skipped round 2 and came back; f is new"
    returned = everyone["previous"] - everyone["dropped"] - everyone["still_open"] - everyone["not_sent"]
    assert returned + everyone["came_back"] + everyone["new"] == everyone["responded"]
    assert (table.loc[(3, "survivor"), "came_back"], table.loc[(3, "carer"), "came_back"]) == (1, 0)
    assert (table.loc[(2, "all"), "came_back"], table.loc[(2, "all"), "new"]) == (0, 0)
    assert (table.loc[(1, "all"), "came_back"], table.loc[(1, "all"), "new"]) == (0, 0), "the first round: nobody is back"


def test_analyse_delphi_prints_them(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    _ratings().to_csv(path, index=False)
    result = CliRunner().invoke(cli, ["analyse", "delphi", "--ratings", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["participation"]
    everyone = next(r for r in rows if r["round"] == 3 and r["group"] == "all")
    assert (everyone["came_back"], everyone["new"]) == (1, 1)


def test_the_desk_shows_who_came_back_and_who_is_new(tmp_path: Path) -> None:
    from tests.desk_helpers import add_answers, delphi_rows, desk_app

    with desk_app(tmp_path) as desk:
        desk.client.post("/login", data={"token": desk.token()})
        people = {name: desk.join("ae-waiting", "patient") for name in "abcdef"}
        for round, who in ((1, "abcde"), (2, "abc"), (3, "abdf")):
            for name in who:
                pid, version = people[name]
                add_answers(desk.database, delphi_rows(pid, "patient", "ae-waiting", version, round, {"Clear updates": 7}))
        page = desk.client.get("/dashboard/studies/ae-waiting/delphi?round=3").text
    table = page.split("Round 3: response", 1)[1].split("</table>", 1)[0]
    columns = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<th[^>]*>(.*?)</th>", table)]
    everyone = re.search(r"<tr><td>Everyone</td>(.*?)</tr>", table)
    assert everyone is not None, table
    cells = dict(zip(columns[1:], re.findall(r"<td[^>]*>(.*?)</td>", everyone.group(1)), strict=True))
    assert (cells["Responded"], cells["In previous round"], cells["Came back"], cells["New"]) == ("4", "3", "1", "1"), cells
    assert "<em>came back</em> had responded in an earlier round" in page
