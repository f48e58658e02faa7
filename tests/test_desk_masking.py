"""The desk's API shows participants' words masked as exports mask them: phone numbers,
e-mails, NHS numbers and the like in free text become [PHONE], [EMAIL], ...; the answers to a
step saving a name or contact detail are withheld; alerts quoting a participant are masked too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlmodel import select

from bot.export import WITHHELD, export_study
from storage.tables import FlowVersion
from tests.desk_helpers import Desk, add_answers, add_flag, desk_app

STUDY = "ae-waiting"
STORY = "Ring me on 07700 900123 or write to sam.jones@example.com, I live at SW1A 1AA"
REASON = "my NHS number is 943 476 5919, call 020 7946 0958"


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with desk_app(tmp_path) as made:
        made.client.headers["Authorization"] = f"Bearer {made.token('coordinator', (STUDY,))}"
        yield made


def _answer(pid: str, version: int, step: str, value: Any, display: str, **extra: Any) -> dict[str, Any]:
    return {"participant_id": pid, "study_id": STUDY, "flow_id": "understand", "flow_version_id": version,
            "flow_version": "v", "step_id": step, "value": value, "display": display, "raw": display,
            "answered_at": datetime.now(UTC), **extra}


def _save_carer_name(desk: Desk) -> None:
    """The published versions gain a step that saves an identifying field, as a coordinator's might."""
    with desk.database.session() as session:
        for version in session.exec(select(FlowVersion).where(FlowVersion.study_id == STUDY)).all():
            step = {"id": "carer_name", "type": "open", "text": "Your carer's name?", "save_to": "participant.carer_name"}
            version.content = {**version.content, "steps": [*version.content["steps"], step]}


def _seed(desk: Desk) -> str:
    _save_carer_name(desk)
    pid, version = desk.join(STUDY)
    add_answers(desk.database, [
        _answer(pid, version, "story", STORY, STORY),
        _answer(pid, version, "visits", 9434765919, "9434765919"),
        _answer(pid, version, "visits", 3, "3"),
        _answer(pid, version, "carer_name", "Priya Shah", "Priya Shah"),
        _answer(pid, version, "delphi", {"delphi": "priorities", "round": 1, "score": 9, "reason": REASON}, "9",
                item="Clear updates"),
    ])
    return pid


def _api_answers(desk: Desk) -> list[dict[str, Any]]:
    response = desk.client.get(f"/api/v1/studies/{STUDY}/answers")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_the_answers_list_masks_free_text_and_withholds_identifying_fields(desk: Desk) -> None:
    _seed(desk)
    story, nhs_number, visits, name, delphi = _api_answers(desk)
    assert story["value"] == story["display"] == "Ring me on [PHONE] or write to [EMAIL], I live at [POSTCODE]"
    assert nhs_number["value"] == "[NHS_NUMBER]", "a number typed where a count was asked is still an NHS number"
    assert visits["value"] == 3, "ordinary numbers keep their type"
    assert name["value"] == name["display"] == WITHHELD, "carer_name names someone: withheld whatever it says"
    assert delphi["value"] == {"delphi": "priorities", "round": 1, "score": 9,
                               "reason": "my NHS number is [NHS_NUMBER], call [PHONE]"}, "reasons inside values too"
    assert "07700" not in desk.client.get(f"/api/v1/studies/{STUDY}/answers", params={"step": "story"}).text


def test_the_api_and_the_export_show_the_same_words(desk: Desk, tmp_path: Path) -> None:
    _seed(desk)
    exported = export_study(desk.database, STUDY, tmp_path / "export")
    rows = pd.read_csv(exported.answers, dtype=str, keep_default_na=False)
    for answer, row in zip(_api_answers(desk), rows.itertuples(index=False), strict=True):
        assert answer["step"] == row.step and answer["display"] == row.display
        assert _as_exported(answer["value"]) == row.value, row.step


def _as_exported(value: Any) -> str:
    """A value as the export's CSV writes it."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else str(value)


def test_alerts_quoting_a_participant_are_masked_on_the_api_and_the_desk(desk: Desk) -> None:
    pid = _seed(desk)
    add_flag(desk.database, STUDY, pid, kind="moderation", message="new idea #3 to check: text me on 07700 900123")
    alert = desk.client.get(f"/api/v1/studies/{STUDY}/flags").json()["items"][0]
    assert alert["message"] == "new idea #3 to check: text me on [PHONE]"
    token = desk.client.headers.pop("Authorization").removeprefix("Bearer ")
    desk.client.post("/login", data={"token": token})
    page = desk.client.get(f"/dashboard/studies/{STUDY}/alerts").text
    assert "text me on [PHONE]" in page and "900123" not in page
