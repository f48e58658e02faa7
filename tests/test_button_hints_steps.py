"""Hints after an unclear reply to a ranking, a yes/no question, a pair, a statement vote, a
choice experiment and a Delphi item say what the participant saw: a tap where their channel
showed the options as buttons (Telegram, the web simulator, WhatsApp's quick replies and list
pickers), numbers only where numbers were shown. SMS shows no buttons: its hints are as they
were, each one SMS segment."""

from __future__ import annotations

from typing import Any

import pytest

from bot.dispatch_rules import WEB_KEYBOARD, WhatsAppConfig, keyboards_on
from channels.telegram import KEYBOARD as TELEGRAM
from flows.engine import Engine, TextInput
from flows.inputs import Keyboard
from flows.model import Flow
from flows.sms import count_segments
from tests.engine_chat import NOW

QUICK = keyboards_on("whatsapp", WhatsAppConfig.from_dict({"quick_reply": {"content_sid": "HX" + "a" * 32}}))
RANK = {"id": "matters", "type": "rank", "text": {"en": "Put these in order of importance.", "cy": "Rhowch y rhain mewn trefn."},
        "options": [{"value": "waits", "label": {"en": "Shorter waits", "cy": "Aros llai"}},
                    {"value": "info", "label": {"en": "Being kept informed", "cy": "Cael gwybod"}},
                    {"value": "pain", "label": {"en": "Pain relief", "cy": "Lleddfu poen"}},
                    {"value": "seat", "label": {"en": "A comfortable seat", "cy": "Lle cyfforddus i aros"}}]}
SHORT_RANK = {"id": "how", "type": "rank", "text": "How should we contact you? Put these in order.",
              "options": ["Phone", "Text", "Letter"]}
LONG_RANK = {"id": "fix", "type": "rank", "text": "What should we fix first?",
             "options": ["Being kept informed about how long the wait would be", "Somewhere comfortable to sit while waiting",
                         "Pain relief while waiting to be seen"]}
YESNO = {"id": "leaflet", "type": "yesno", "text": {"en": "Did you get a leaflet?", "cy": "Gawsoch chi daflen?"}}
PAIRS = {"id": "pairs", "type": "pairwise", "ideas": ["A quiet room", "Free parking", "Shorter waits"], "pairs": 2}
VOTES = {"id": "votes", "type": "statements", "statements": ["Parking should be free.", "Visits should be shorter."],
         "per_session": 2}
DCE = {"id": "dce", "type": "choice_experiment", "text": "Which would you choose?", "alternatives": 2, "tasks": 2,
       "attributes": {"wait": [1, 2, 4], "who": ["your own nurse", "any nurse"]}}
DELPHI = {"id": "rate", "type": "delphi", "delphi": "d", "round": 1, "items": ["Shorter waits", "Free parking"], "unsure": False}


class Chat:
    """One participant on a channel with ``keyboards``: each reply (typed, or a tap's value) and the messages back."""

    def __init__(self, step: dict[str, Any], keyboards: tuple[Keyboard, ...] = (), language: str = "en") -> None:
        flow = Flow.model_validate({"flow": "f", "languages": ["en", "cy"], "steps": [step, {"id": "bye", "type": "end", "text": "Bye."}]})
        self.engine, self.keyboards = Engine(flow), keyboards
        first = self.engine.start(NOW, language=language)
        self.state, self.first = first.state, first.messages()

    def send(self, text: str, button: str | None = None) -> list[str]:
        sprint = self.engine.handle(self.state, TextInput(text, button=button, keyboards=self.keyboards), NOW)
        self.state = sprint.state
        return [m.text for m in sprint.messages()]

    @property
    def answer(self) -> Any:
        return self.state.values.get(next(iter(self.state.values), ""))


@pytest.mark.parametrize("keyboards", [(TELEGRAM,), (WEB_KEYBOARD,)], ids=["telegram", "simulator"])
def test_a_ranking_shown_as_buttons_asks_for_taps_in_order_or_the_names_never_numbers_it_did_not_show(
        keyboards: tuple[Keyboard, ...]) -> None:
    chat = Chat(RANK, keyboards)
    assert chat.send("purple") == [
        "Please tap the options in order, most important first, or type their names in order, separated by commas."]
    assert chat.send("Pain relief", "3")[0].startswith("Next most important? (So far: Pain relief)")
    assert chat.send("purple") == [
        "Please tap the next most important option, or reply Shorter waits, Being kept informed or A comfortable seat."]
    assert chat.send("pain relief") == [
        "You have already placed Pain relief. Please tap the next most important option, or reply Shorter waits, "
        "Being kept informed or A comfortable seat."]
    chat.send("being kept informed, shorter waits")
    assert chat.state.values["matters"] == ["pain", "info", "waits", "seat"]


def test_the_ranking_hints_after_buttons_in_welsh() -> None:
    chat = Chat(RANK, (TELEGRAM,), "cy")
    assert chat.send("porffor") == [
        "Pwyswch yr opsiynau yn eu trefn, y pwysicaf yn gyntaf, neu teipiwch eu henwau yn eu trefn, gyda choma rhwng pob un."]
    chat.send("Lleddfu poen", "3")
    assert chat.send("porffor") == ["Pwyswch yr opsiwn pwysicaf nesaf, neu atebwch Aros llai, Cael gwybod neu Lle cyfforddus i aros."]
    assert chat.send("lleddfu poen") == [
        "Rydych chi eisoes wedi gosod Lleddfu poen. Pwyswch yr opsiwn pwysicaf nesaf, neu atebwch Aros llai, Cael gwybod "
        "neu Lle cyfforddus i aros."]


def test_a_ranking_whose_names_are_too_long_to_list_is_left_to_the_buttons() -> None:
    chat = Chat(LONG_RANK, (TELEGRAM,))
    chat.send("Pain relief while waiting to be seen", "3")
    assert chat.send("purple") == ["Please tap the next most important option, or type its name."]


def test_a_ranking_on_sms_keeps_its_numbers_where_it_showed_them_and_names_where_it_did_not() -> None:
    numbered = Chat(RANK)
    assert numbered.send("purple") == ['Please put the options in order using their numbers, e.g. "3 2 1".']
    numbered.send("3")
    assert numbered.send("purple") == ["Please reply with the number of the next most important option: 1, 2 or 4."]
    assert numbered.send("3") == [
        "You have already placed Pain relief. Please reply with the number of the next most important option: 1, 2 or 4."]
    named = Chat(SHORT_RANK)  # SMS: "(Reply Phone, Text or Letter)", no numbers
    assert named.send("purple") == ["Please reply with the options in order, most important first, separated by commas."]
    named.send("letter")
    assert named.send("purple") == ["Please reply with the next most important option: Phone or Text."]
    assert named.send("letter") == ["You have already placed Letter. Please reply with the next most important option: Phone or Text."]
    left = Chat(SHORT_RANK)  # Phone and Letter left, numbered "1) Phone" and "3) Letter" to keep their numbers
    left.send("text")
    assert left.send("purple") == ["Please reply with the number of the next most important option: 1 or 3."]


def test_a_ranking_in_whatsapp_quick_replies_asks_for_a_tap() -> None:
    chat = Chat(SHORT_RANK, QUICK)
    assert chat.send("purple")[0].startswith("Please tap the options in order")
    assert Chat(RANK, QUICK).send("purple") == ['Please put the options in order using their numbers, e.g. "3 2 1".']  # 4: numbered


@pytest.mark.parametrize(("step", "replies", "tapped", "sms"), [
    (YESNO, ["purple"], "Please tap one of the buttons, or reply YES or NO.", "Please reply YES or NO."),
    (PAIRS, ["purple"], "Please tap one of the buttons, or reply A, B or 'Can't decide'.", "Please reply A, B or 'Can't decide'."),
    (VOTES, ["purple"], "Please tap one of the buttons, or reply A (agree), D (disagree) or P (pass). "
                        "(Or reply ADD and a statement of your own.)",
     "Please reply A (agree), D (disagree) or P (pass). (Or reply ADD and a statement of your own.)"),
    (VOTES, ["kind of"], "In part? Please tap Agree or Disagree, whichever is nearer, or Pass. (Or reply ADD and a statement of your own.)",
     "In part? Please reply A (agree) or D (disagree), whichever is nearer, or P (pass). (Or reply ADD and a statement of your own.)"),
    ({**DCE, "opt_out": False}, ["purple"], "Please tap one of the buttons, or reply A or B.", "Please reply A or B."),
    ({**DCE, "opt_out": True}, ["purple"], "Please tap one of the buttons, or reply A, B or N for neither.",
     "Please reply A, B or N for neither."),
    (DELPHI, ["purple"], "Please tap one of the buttons, or reply with a number from 1 to 9.", "Please reply with a number from 1 to 9."),
    ({**DELPHI, "unsure": True}, ["purple"], "Please tap one of the buttons, or reply with a number from 1 to 9 or NOT SURE.",
     "Please reply with a number from 1 to 9, or NOT SURE."),
    ({**DELPHI, "batch": 1}, ["5", "no"], "Please tap Next to carry on, or reply LATER to stop for now.",
     "Reply LATER to stop for now, or NEXT to carry on."),
], ids=["yesno", "pairwise", "statements", "statements-partly", "dce", "dce-neither", "delphi", "delphi-unsure", "delphi-pause"])
def test_hints_after_buttons_say_tap_and_sms_keeps_its_own_in_one_segment(
        step: dict[str, Any], replies: list[str], tapped: str, sms: str) -> None:
    on_telegram, on_sms = Chat(step, (TELEGRAM,)), Chat(step)
    assert [on_telegram.send(text) for text in replies][-1] == [tapped]
    assert [on_sms.send(text) for text in replies][-1] == [sms]
    assert count_segments(sms).segments == 1


def test_welsh_hints_after_buttons() -> None:
    assert Chat(YESNO, (TELEGRAM,), "cy").send("porffor") == ["Pwyswch un o'r botymau, neu atebwch DO neu NADDO."], "'Gawsoch chi ...?' takes Do"
    assert Chat(PAIRS, (TELEGRAM,), "cy").send("porffor") == ["Pwyswch un o'r botymau, neu atebwch A, B neu 'Methu penderfynu'."]
    assert Chat(VOTES, (TELEGRAM,), "cy").send("yn rhannol") == [
        "Yn rhannol? Pwyswch Cytuno neu Anghytuno, pa un bynnag sydd agosaf, neu Pasio. (Neu atebwch YCHWANEGU a datganiad eich hun.)"]
    assert Chat({**DCE, "opt_out": True}, (TELEGRAM,), "cy").send("porffor") == [
        "Pwyswch un o'r botymau, neu atebwch A, B neu N am ddim un."]
    assert Chat(DELPHI, (TELEGRAM,), "cy").send("porffor") == ["Pwyswch un o'r botymau, neu atebwch gyda rhif o 1 i 9."]


def test_whatsapp_says_tap_only_where_its_templates_showed_buttons() -> None:
    assert Chat(YESNO, QUICK).send("purple") == ["Please tap one of the buttons, or reply YES or NO."]
    assert Chat(PAIRS, QUICK).send("purple") == ["Please tap one of the buttons, or reply A, B or 'Can't decide'."]
    assert Chat(DELPHI, QUICK).send("purple") == ["Please reply with a number from 1 to 9."]  # nine scores: no quick replies


def test_a_consent_shown_as_buttons_asks_for_a_tap() -> None:
    consent = {"id": "consent", "type": "consent", "text": "Would you like to take part? Reply YES or NO."}
    assert Chat(consent, (TELEGRAM,)).send("purple") == ["Please tap one of the buttons, or reply YES or NO."]
