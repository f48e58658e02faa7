"""The desk's Delphi charts (found by a tester reading a stroke-rehabilitation Delphi on the
desk): the chart named the groups by their codes ("all", "carer", "survivor"), alphabetically,
in its legend and in the text a screen reader reads, where the table beside it says "Everyone",
"Stroke survivors", "Carers" in the study's order. Two Delphis sharing an item id each keep
their own chart."""

from __future__ import annotations

import re
from pathlib import Path

from channels.base import InboundMessage
from tests.desk_helpers import study_desk

FILES = {
    "study.yaml": """\
study: two
title: Two Delphis
languages: [en]
groups:
  - {id: survivor, label: Stroke survivors}
  - {id: carer, label: Carers}
join: {start_flow: rate, keyword: TWO}
flows: [rate.yaml]
""",
    "rate.yaml": """\
flow: rate
steps:
  - {id: access, type: delphi, delphi: access, items: [{id: transport, text: Transport to therapy}]}
  - {id: quality, type: delphi, delphi: quality, items: [{id: transport, text: Transport to therapy}]}
  - {id: bye, type: end, text: Thanks.}
""",
}


def _section(page: str, delphi: str) -> str:
    found = re.search(rf'<section class="delphi" id="[^"]*" data-delphi="{delphi}">(.*?)(?=<section class="delphi" |\Z)', page, re.S)
    assert found is not None, delphi
    return found.group(1)


def test_each_delphi_s_chart_is_its_own_with_the_groups_named_as_the_table_names_them(tmp_path: Path) -> None:
    with study_desk(tmp_path, "two", FILES) as desk:
        service = desk.app.state.chorus.service
        for n in range(6):  # access: everyone 9; quality: everyone 2
            joined = service.join("web", f"two-{n}", "two", group="carer" if n % 2 else "survivor")
            for k, score in enumerate(("9", "2")):
                service.receive(InboundMessage("web", f"two-{n}", f"m{n}-{k}", score))
            assert service.outbox_for(joined.participant_id)[-1].text == "Thanks."
        page = desk.client.get("/dashboard/studies/two/delphi").text
    for delphi, median, pct in (("access", 9, 100), ("quality", 2, 0)):
        svg = _section(page, delphi).split("<svg", 1)[1].split("</svg>", 1)[0]
        titles = re.findall(r"Transport to therapy, round 1: median (\d+), (\d+)% of (\d+) scored", svg)
        assert titles and set(titles) == {(str(median), str(pct), "6")}, (delphi, titles)
        assert ">Everyone<" in svg and ">all<" not in svg, "the groups by their labels"
        assert svg.index("Stroke survivors") < svg.index("Carers"), "in the study's order"


def test_the_chart_the_desk_links_to_names_the_groups_as_the_desk_does(tmp_path: Path) -> None:
    with study_desk(tmp_path, "two", FILES) as desk:
        service = desk.app.state.chorus.service
        for n in range(6):
            service.join("web", f"two-{n}", "two", group="carer" if n % 2 else "survivor")
            for k, score in enumerate(("9", "2")):
                service.receive(InboundMessage("web", f"two-{n}", f"m{n}-{k}", score))
        svg = desk.client.get("/api/v1/studies/two/charts/delphi?item=transport&round=1&flow=rate&step=quality").text
    assert "median 2, 0% of 6 scored 7-9" in svg
    legend = re.findall(r"<text[^>]*>([^<]*)</text>", svg)[-3:]
    assert legend == ["Everyone", "Stroke survivors", "Carers"], legend
