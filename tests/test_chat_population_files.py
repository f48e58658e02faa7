"""``chorus chat --population`` reads the ratings files ``chorus analyse delphi`` reads (found by
a tester previewing round 2 of a stroke-rehabilitation Delphi): a table saved by pandas or R
with an unsure among the scores writes "4.0" and "NA", which the preview refused ("score '4.0'
is not a whole number") although the analysis took it; and an item named by its Welsh text in
an English and Welsh study was "no Delphi item"."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from bot.cli import cli
from tests.test_chat_channel_s19 import PRIORITIES, run

NURSE = "Seeing the same nurse each time"


def test_scores_saved_by_pandas_with_an_unsure_among_them(tmp_path: Path) -> None:
    table = pd.DataFrame({"participant": ["you", "a", "b", "c", "d", "e", "f"],
                          "group": ["patient"] * 4 + ["staff"] * 3, "item": [NURSE] * 7,
                          "score": [4, 8, 5, 3, 7, 2, None]})
    path = tmp_path / "ratings.csv"
    table.to_csv(path, index=False)
    assert "4.0" in path.read_text() and ",\n" in path.read_text(), "as pandas writes it"
    lines = run(PRIORITIES, "", "--flow", "round2", "--population", str(path))[0]
    assert lines[2].startswith("Last time you said 4. Everyone: 33% said 7-9 (median 4.5)"), lines[2]
    path.write_text(path.read_text().replace(",\n", ",NA\n"), encoding="utf-8")  # as R writes it
    assert run(PRIORITIES, "", "--flow", "round2", "--population", str(path))[0][2] == lines[2]


def test_a_score_that_is_not_whole_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text(f"participant,group,item,score\na,patient,{NURSE},4.5\n", encoding="utf-8")
    outcome = CliRunner().invoke(cli, ["chat", str(PRIORITIES), "--flow", "round2", "--population", str(path)], input="")
    assert outcome.exit_code == 2
    assert "score '4.5' is not a whole number" in outcome.stderr


def test_an_item_named_in_the_study_s_other_language(tmp_path: Path) -> None:
    study = tmp_path / "rehab"
    study.mkdir()
    (study / "study.yaml").write_text("study: rehab\ntitle: {en: Rehab, cy: Adsefydlu}\nlanguages: [en, cy]\n"
                                      "groups: [survivor]\njoin: {start_flow: r1, keyword: REHAB}\nflows: [r1.yaml, r2.yaml]\n",
                                      encoding="utf-8")
    item = "{id: early, text: {en: Early therapy, cy: Therapi cynnar}}"
    for r in (1, 2):
        (study / f"r{r}.yaml").write_text(
            f"flow: r{r}\nsteps:\n  - {{id: rate, type: delphi, delphi: rehab, round: {r}, items: [{item}]}}\n"
            "  - {id: bye, type: end, text: {en: Thanks., cy: Diolch.}}\n", encoding="utf-8")
    path = tmp_path / "ratings.csv"
    path.write_text("participant,group,item,score\n" + "".join(f"p{n},survivor,Therapi cynnar,{7 + n % 2}\n" for n in range(3))
                    + "you,survivor,Therapi cynnar,9\n", encoding="utf-8")
    lines = run(study, "", "--flow", "r2", "--lang", "en", "--population", str(path))[0]
    assert any(line.startswith("Last time you said 9. Everyone: 100% said 7-9") for line in lines), lines
