"""The API's erasure of a person (``same_number=true``): the participant of the same phone
number on the other channel (SMS and WhatsApp) is erased too, where the token may see every
study they are in; one in a study it may not see is left alone, not named, and counted."""

from __future__ import annotations

from pathlib import Path

from tests.desk_helpers import Desk, desk_app

PHONE = "+447700900731"


def _joined(desk: Desk, channel: str, study_id: str) -> str:
    return str(desk.app.state.chorus.service.join(channel, PHONE, study_id, group="patient").participant_id)


def _erase(desk: Desk, pid: str, token: str, same_number: bool) -> dict[str, object]:
    response = desk.client.post(f"/api/v1/participants/{pid}/erase", params={"same_number": same_number},
                                headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_a_person_is_erased_on_both_channels_of_their_number(tmp_path: Path) -> None:
    with desk_app(tmp_path) as desk:
        sms, whatsapp = _joined(desk, "sms", "ae-waiting"), _joined(desk, "whatsapp", "ae-waiting")
        bystander = str(desk.app.state.chorus.service.join("sms", "+447700900999", "ae-waiting", group="patient").participant_id)
        body = _erase(desk, sms, desk.token("coordinator", ("ae-waiting",)), same_number=True)
        assert body["same_number_erased"] == [whatsapp] and body["same_number_left"] == 0
        assert desk.participants() == [bystander]


def test_without_same_number_only_the_participant_named_is_erased(tmp_path: Path) -> None:
    with desk_app(tmp_path) as desk:
        sms, whatsapp = _joined(desk, "sms", "ae-waiting"), _joined(desk, "whatsapp", "ae-waiting")
        body = _erase(desk, sms, desk.token("coordinator", ("ae-waiting",)), same_number=False)
        assert "same_number_erased" not in body and desk.participants() == [whatsapp]


def test_the_same_number_in_a_study_the_token_cannot_see_is_left_alone_unnamed(tmp_path: Path) -> None:
    with desk_app(tmp_path) as desk:
        sms, whatsapp = _joined(desk, "sms", "ae-waiting"), _joined(desk, "whatsapp", "other-study")
        body = _erase(desk, sms, desk.token("coordinator", ("ae-waiting",)), same_number=True)
        assert body["same_number_erased"] == [] and whatsapp not in str(body)
        assert body["same_number_left"] == 1, "the coordinator knows the request is not finished"
        assert desk.participants() == [whatsapp]
        sms_again = _joined(desk, "sms", "ae-waiting")
        admin = desk.token("admin", ())
        assert _erase(desk, sms_again, admin, same_number=True)["same_number_erased"] == [whatsapp]
        assert desk.participants() == []
