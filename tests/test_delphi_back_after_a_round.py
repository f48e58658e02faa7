"""Someone who skipped a Delphi round and is back for the next (found by a tester who ran a
three-round stroke-rehabilitation Delphi through the conversation service): round 3 told them
"Last time you did not give a score." although they had scored the item in round 1, and KEEP
was asked again. Their last score is the one they gave the last time they took part."""

from __future__ import annotations

from datetime import UTC, datetime

from flows.engine import Engine, TextInput
from flows.events import RecordAnswer, SendMessage
from flows.model import Flow
from flows.population import ItemRecord, PopulationData, delphi_value

NOW = datetime(2030, 3, 1, 10, 0, tzinfo=UTC)
ITEMS = ["Early therapy", "Key worker"]


def _records(returner_round2: dict[str, int | None] | None) -> list[ItemRecord]:
    """Six others score both items in rounds 1 and 2; "back" scores 3 and 8 in round 1 and, in
    round 2, ``returner_round2`` (None: skipped the round)."""
    records = [ItemRecord(f"p{n}", "survivor", "rate", item, delphi_value("rehab", r, 6))
               for r in (1, 2) for n in range(6) for item in ITEMS]
    records += [ItemRecord("back", "survivor", "rate", item, delphi_value("rehab", 1, score))
                for item, score in zip(ITEMS, (3, 8), strict=True)]
    for item, score in (returner_round2 or {}).items():
        records.append(ItemRecord("back", "survivor", "rate", item, delphi_value("rehab", 2, score)))
    return records


def _round3(records: list[ItemRecord], replies: list[str]) -> tuple[list[str], list[dict[str, object]]]:
    step = {"id": "rate", "type": "delphi", "delphi": "rehab", "round": 3, "items": ITEMS}
    engine = Engine(Flow.model_validate({"flow": "round3", "steps": [step, {"id": "bye", "type": "end", "text": "Thanks."}]}))
    population = PopulationData(records).view("back")
    sprint = engine.start(NOW, fields={"group": "survivor"}, population=population)
    said = [e.text for e in sprint.events if isinstance(e, SendMessage)]
    values: list[dict[str, object]] = []
    for reply in replies:
        sprint = engine.handle(sprint.state, TextInput(reply), NOW, population=population)
        said += [e.text for e in sprint.events if isinstance(e, SendMessage)]
        values += [e.value for e in sprint.events if isinstance(e, RecordAnswer) and e.item]
    return said, values


def test_back_after_skipping_a_round_they_are_shown_their_score_from_the_round_before() -> None:
    said, values = _round3(_records(None), ["KEEP", "keep"])
    assert "Last time you said 3." in said[0], said[0]
    assert "Last time you said 8." in said[1], said[1]
    assert [v["score"] for v in values] == [3, 8], "KEEP keeps the score they last gave"


def test_one_who_took_part_last_round_is_shown_that_round_s_answer() -> None:
    """Unsure in round 2 is their last word on the item: nothing to keep, as before."""
    said, _ = _round3(_records({"Early therapy": None, "Key worker": 5}), ["4", "5"])
    assert "Last time you did not give a score." in said[0], said[0]
    assert "Last time you said 5." in said[1], said[1]


def test_someone_who_never_rated_is_told_they_gave_no_score() -> None:
    records = [r for r in _records(None) if r.participant != "back"]
    said, _ = _round3(records, ["4"])
    assert "Last time you did not give a score." in said[0], said[0]
