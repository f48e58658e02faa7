"""Every word a participant reads is in their language: the hints around options sent as text,
the Done button, the pairwise and choice-experiment steps' own lines; the last word of a
conversation is true whether or not more will come; pairwise options carry one labelling on
SMS; a typed "done" finishes a Telegram multiple choice; a ranking's numbers never move."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.chat import ChatSession, ChatTarget, bot_lines
from bot.dispatch_rules import Candidate, StudyRules, WhatsAppConfig, decide
from bot.dispatcher import Dispatcher, RateLimit
from channels import telegram
from channels.base import Capabilities, OutboundMessage, render_plain
from channels.twilio import Content
from flows.engine import Engine, SessionState, TextInput
from flows.events import Button, RecordAnswer, SendMessage
from flows.loader import LoadedFlow
from flows.model import Flow, Study
from flows.words import BUILT_IN_TEXTS, ENGLISH_OPTIONS, OptionTexts, Words, option_texts
from tests.channel_helpers import provider_env, running_chorus
from tests.fake_telegram import FakeTelegram, LocalServer, wait_for
from tests.test_telegram import CHAT, post, say

NOW = datetime(2030, 1, 1, tzinfo=UTC)
WELSH = option_texts("cy")


class Participant:
    """One participant of a one-flow study, in memory: what was said, what was recorded."""

    def __init__(self, steps: list[dict[str, Any]], language: str = "en", study: Study | None = None, seed: int = 1) -> None:
        self.engine = Engine(Flow.model_validate({"flow": "f", "steps": steps}), study)
        sprint = self.engine.start(NOW, language=language, seed=seed)
        self.state: SessionState = sprint.state
        self.said: list[SendMessage] = list(sprint.messages())
        self.recorded: list[RecordAnswer] = []

    def send(self, text: str, button: str | None = None) -> list[SendMessage]:
        sprint = (self.engine.handle(self.state, TextInput.received(text, button), NOW) if button
                  else self.engine.handle(self.state, TextInput(text), NOW))
        self.state = sprint.state
        self.said += sprint.messages()
        self.recorded += [e for e in sprint.events if isinstance(e, RecordAnswer)]
        return sprint.messages()

    @property
    def last(self) -> SendMessage:
        return self.said[-1]

    def sms(self, texts: OptionTexts | None = None) -> str:
        """The last message as SMS shows it, options in the participant's language."""
        return render_plain(self.last.text, self.last.buttons, self.last.multiple,
                            texts or self.engine.words.option_texts(self.state.language))


# ----------------------------------------------------------------------------- options as text


def test_the_words_around_options_sent_as_text_are_in_the_participants_language() -> None:
    scale = tuple(Button(str(n), str(n)) for n in range(1, 10)) + (Button("Ddim yn siŵr", "unsure"),)
    assert render_plain("Pa mor bwysig?", scale, texts=WELSH) == "Pa mor bwysig?\n(Atebwch 1-9 neu DDIM YN SIŴR)"
    assert render_plain("How important?", scale) == "How important?\n(Reply 1-9 or DDIM YN SIŴR)"
    shifts = (Button("Dydd", "day"), Button("Nos", "night"), Button("Penwythnos", "weekend"))
    several = render_plain("Pa shifftiau?", shifts, multiple=True, texts=WELSH)
    assert several.endswith("3) Penwythnos\n(Gallwch ddewis mwy nag un, e.e. 1 3)")
    assert "You can pick" not in several
    short = render_plain("Pa un?", (Button("Dydd", "day"), Button("Nos", "night"), Button("Penwythnos", "weekend")), texts=WELSH)
    assert short == "Pa un?\n(Atebwch Dydd, Nos neu Penwythnos)"


def test_a_study_in_another_language_gives_the_option_texts_under_texts() -> None:
    study = Study.model_validate({
        "study": "s", "title": "S", "languages": ["pl", "en"], "join": {"start_flow": "f"},
        "texts": {"options.reply": {"pl": "(Odpowiedz {choices})"}, "or": {"pl": "lub"},
                  "options.several": {"pl": "(Możesz wybrać kilka, np. 1 3)"}, "options.done": {"pl": "Gotowe"}},
    })
    polish = Words(study).option_texts("pl")
    assert render_plain("Który?", (Button("Tak", "yes"), Button("Nie", "no"), Button("Nie wiem", "unsure")), texts=polish).endswith(
        "3) Nie wiem")
    assert render_plain("Ile?", tuple(Button(str(n), str(n)) for n in range(1, 6)), texts=polish) == "Ile?\n(Odpowiedz 1-5)"
    assert polish.done == "Gotowe" and polish.reply_with(["A", "B", "C"]) == "(Odpowiedz A, B lub C)"


def test_the_telegram_done_button_is_labelled_in_the_participants_language() -> None:
    buttons = (Button("Dydd", "day"), Button("Nos", "night"))
    welsh = telegram.keyboard_for(OutboundMessage("telegram", "1", "Pa shifftiau?", buttons, multiple=True, option_texts=WELSH))
    english = telegram.keyboard_for(OutboundMessage("telegram", "1", "Which shifts?", buttons, multiple=True))
    assert welsh is not None and english is not None
    assert welsh.inline_keyboard[-1][0].text == "Wedi gorffen" and welsh.inline_keyboard[-1][0].callback_data == telegram.DONE
    assert english.inline_keyboard[-1][0].text == "Done"


def test_the_dispatcher_sends_a_welsh_participants_options_with_welsh_words(service: Any, say: Callable[..., Any], clock: Any) -> None:
    """The language reaches the channel at send time: the outbox holds the text and options,
    the dispatcher adds how options read in the language the participant chose."""

    class Recorder:
        name = "sms"
        capabilities = Capabilities()

        def __init__(self) -> None:
            self.sent: list[OutboundMessage] = []

        async def send(self, message: OutboundMessage, content: Content | None = None) -> str:
            self.sent.append(message)
            return f"sms-{len(self.sent)}"

    sms = Recorder()
    dispatcher = Dispatcher(service.database, {"sms": sms}, service.studies, {"sms": RateLimit(1000)}, clock=clock)
    say("WAITSTAFF")
    asyncio.run(dispatcher.drain())
    say("CYMRAEG")
    say("ydw")
    say("3")  # staff: the shifts question lets them pick several
    asyncio.run(dispatcher.drain())
    shifts = sms.sent[-1]
    assert shifts.multiple and shifts.option_texts == WELSH
    shown = render_plain(shifts.text, shifts.buttons, shifts.multiple, shifts.option_texts)
    assert shown.startswith("Pa shifftiau ydych chi'n eu gweithio fel arfer?") and shown.endswith("(Gallwch ddewis mwy nag un, e.e. 1 3)")
    assert sms.sent[0].option_texts == ENGLISH_OPTIONS, "the first message went before the participant chose Welsh"


def test_a_whatsapp_template_carries_the_options_in_the_participants_language() -> None:
    spec = {"templates": {"default": {"content_sid": "HX" + "a" * 32, "variables": {"1": "{text}"}}}}
    row = Candidate(1, "p-1", "whatsapp", "+447700900001", "Pa shifftiau?", (Button("Dydd", "day"), Button("Nos", "night")), True,
                    "reminder", "shift", "s", NOW, False, None, None, option_texts=WELSH)
    decision = decide(row, StudyRules(None, "Europe/London", "S", WhatsAppConfig.from_dict(spec)), NOW, reply_window=timedelta(0))
    assert decision.content is not None
    # (on one line: WhatsApp refuses line breaks in a template's variables, bot/dispatch_rules.py template_value)
    assert decision.content.variables["1"] == "Pa shifftiau? 1) Dydd 2) Nos (Gallwch ddewis mwy nag un, e.e. 1 3)"


def test_the_chat_simulator_shows_options_in_the_participants_language() -> None:
    flow = Flow.model_validate({"flow": "f", "steps": [
        {"id": "rate", "type": "scale", "text": {"en": "How good?", "cy": "Pa mor dda?"}, "min": 0, "max": 10},
    ]})
    session = ChatSession(ChatTarget(None, {"f": LoadedFlow(flow, "f.yaml", "1", {})}, "f"), language="cy")
    assert bot_lines(session.opening, session.option_texts) == ["Pa mor dda?\n(Atebwch 0-10)"]


# ----------------------------------------------------------------------------- the steps' own lines


PAIRWISE = {"id": "compare", "type": "pairwise", "ideas": ["Carer training", "Free parking", "Video check-ups"], "pairs": 3}


def test_a_pairwise_step_speaks_welsh() -> None:
    welsh = Participant([PAIRWISE], "cy")
    prompt = welsh.last.text
    assert prompt.startswith("Pa un sy'n bwysicach i chi?\nA) ") and "(Neu atebwch YCHWANEGU a syniad eich hun.)" in prompt
    assert [b.label for b in welsh.last.buttons] == ["A", "B", "Methu penderfynu"]
    assert welsh.send("ADD")[-1].text == "Beth yw eich syniad? Anfonwch ef fel eich neges nesaf."
    assert welsh.send("na")[-1].text.startswith("Pa un sy'n bwysicach i chi?")
    assert welsh.send("ADD Meinciau yn y coridor")[0].text.startswith("Diolch. Bydd eich syniad yn ymuno â'r lleill")
    english = Participant([PAIRWISE])
    assert english.last.text.startswith("Which matters more to you?\nA) ") and "(Or reply ADD and an idea of your own.)" in english.last.text


DCE = {
    "id": "visit", "type": "choice_experiment", "text": {"en": "Which would you choose?", "cy": "Pa un fyddech chi'n ei ddewis?"},
    "attributes": {"wait": ["1 week", "4 weeks"], "who": ["GP", "nurse"]}, "alternatives": 2, "opt_out": True, "tasks": 3,
}


def test_a_choice_experiment_speaks_welsh_and_understands_welsh_for_neither() -> None:
    welsh = Participant([DCE], "cy")
    lines = welsh.last.text.splitlines()
    assert lines[:2] == ["Pa un fyddech chi'n ei ddewis?", "Dewis 1 o 3:"]
    assert [(b.label, b.value) for b in welsh.last.buttons] == [("A", "A"), ("B", "B"), ("Dim un", "none")]
    assert welsh.sms().endswith("\n(Atebwch A, B neu Dim un)")
    assert welsh.send("porffor")[-1].text.startswith("Atebwch A, B neu N am ddim un.")
    welsh.send("dim un")
    task = next(e for e in welsh.recorded if e.item)
    assert task.value["choice"] == "none" and task.display == "Dim un"
    assert welsh.last.text.startswith("Dewis 2 o 3:")


def test_a_choice_experiment_without_an_opt_out_names_its_letters_as_a_sentence_does() -> None:
    step = {**DCE, "opt_out": False, "tasks": 4, "alternatives": 3}
    assert Participant([step]).send("purple")[-1].text.startswith("Please reply A, B or C.")
    assert Participant([step], "cy").send("porffor")[-1].text.startswith("Atebwch A, B neu C.")


def test_a_neither_label_of_a_few_words_still_reads_on_one_line() -> None:
    chooser = Participant([{**DCE, "neither_label": {"en": "Neither of these", "cy": "Dim un o'r rhain"}}])
    shown = chooser.sms().splitlines()
    assert shown[2].startswith("A: ") and shown[3].startswith("B: ") and shown[4:] == ["(Reply A, B or Neither of these)"]
    chooser.send("dim un o'r rhain")  # its label in another of its languages
    assert next(e for e in chooser.recorded if e.item).value["choice"] == "none"


# ----------------------------------------------------------------------------- the last word


def test_after_the_end_the_reply_is_true_whether_or_not_more_will_come() -> None:
    for language, expected in (("en", "Thank you, that's all for now."), ("cy", "Diolch, dyna'r cyfan am y tro.")):
        done = Participant([{"id": "q", "type": "yesno", "text": "OK?"}], language)
        done.send("yes")
        assert done.state.status == "ended"
        assert [m.text for m in done.send("hello?")] == [expected]
    assert not any("ended" in text or "dod i ben" in text for text in BUILT_IN_TEXTS["ended"].values())


# ----------------------------------------------------------------------------- pairwise on SMS


@pytest.mark.parametrize(("reply", "picks"), [
    ("A", "A"), ("b", "B"), ("1", "A"), ("2", "B"), ("3", "tie"), ("can't decide", "tie"), ("Can't decide", "tie"),
    ("methu penderfynu", "tie"),
])
def test_pairwise_on_sms_labels_each_idea_once_and_reads_what_people_type(reply: str, picks: str) -> None:
    chooser = Participant([PAIRWISE])
    shown = chooser.sms()
    assert "\nA) " in shown and "\nB) " in shown
    assert "1)" not in shown and "2)" not in shown, "one labelling: the letters"
    assert shown.endswith("\n(Reply A, B or Can't decide)")
    lines = {line[:3]: line[3:] for line in chooser.last.text.splitlines()}
    chooser.send(reply)
    value = next(e.value for e in chooser.recorded if e.item)
    if picks == "tie":
        assert value["tie"] is True
    else:
        assert value["winner"] == {"A": lines["A) "], "B": lines["B) "]}[picks] and value["tie"] is False


def test_pairwise_reads_an_ideas_own_words_too() -> None:
    chooser = Participant([PAIRWISE])
    lines = {line[:3]: line[3:] for line in chooser.last.text.splitlines()}
    chooser.send(lines["B) "].lower())
    assert next(e.value for e in chooser.recorded if e.item)["winner"] == lines["B) "]


def test_pairwise_in_welsh_on_sms_says_so_in_welsh() -> None:
    assert Participant([PAIRWISE], "cy").sms().endswith("\n(Atebwch A, B neu Methu penderfynu)")


# ----------------------------------------------------------------------------- a typed "done"


SHIFTS = {"id": "shift", "type": "choice", "text": "Which shifts?", "multiple": True,
          "options": [{"value": "day", "label": "Days"}, {"value": "night", "label": "Nights"}, {"value": "weekend", "label": "Weekends"}]}


@pytest.mark.parametrize("reply", ["1 3 done", "Days and weekends - that's all", "days and weekends. Finished!", "1 3 wedi gorffen"])
def test_a_multiple_choice_typed_with_a_done_word_after_it_is_understood(reply: str) -> None:
    picker = Participant([SHIFTS, {"id": "bye", "type": "message", "text": "Bye."}])
    picker.send(reply)
    assert [e.value for e in picker.recorded] == [["day", "weekend"]]


@pytest.fixture
def fake_telegram() -> Any:
    fake = FakeTelegram()
    with LocalServer(fake.app) as server:
        yield fake, server.url


def test_typing_done_under_a_telegram_multiple_choice_sends_the_ticks(fake_telegram: Any) -> None:
    fake, url = fake_telegram
    channel = telegram.TelegramChannel(telegram.make_bot(telegram.TelegramSettings(fake.token, api_base=url)))
    buttons = (Button("Dydd", "day", at="ab12"), Button("Nos", "night", at="ab12"), Button("Penwythnos", "weekend", at="ab12"))

    async def scenario() -> list[telegram.ParsedUpdate]:
        await channel.send(OutboundMessage("telegram", str(CHAT), "Pa shifftiau?", buttons, multiple=True, option_texts=WELSH))
        nothing_ticked = telegram.parse_update(fake.message_update(CHAT, "wedi gorffen"), channel.bot, channel.ticks)
        for value in ("day", "weekend"):
            await channel.acknowledge(_callback(telegram.parse_update(fake.callback_update(CHAT, value), channel.bot, channel.ticks)))
        other = telegram.parse_update(fake.message_update(CHAT, "I work days"), channel.bot, channel.ticks)
        done = telegram.parse_update(fake.message_update(CHAT, "Wedi gorffen, diolch"), channel.bot, channel.ticks)
        await channel.acknowledge(_callback(done))
        again = telegram.parse_update(fake.message_update(CHAT, "done"), channel.bot, channel.ticks)
        await channel.close()
        return [nothing_ticked, other, done, again]

    nothing_ticked, other, done, again = asyncio.run(scenario())
    assert nothing_ticked.message is not None and nothing_ticked.message.button is None, "nothing ticked: the words go as typed"
    assert other.message is not None and other.message.button is None and other.message.text == "I work days"
    assert done.message is not None and done.message.button == "ab12~day|ab12~weekend" and done.message.text == "Wedi gorffen, diolch"
    given = TextInput.received(done.message.text, done.message.button)
    assert (given.button, given.at, given.source) == ("day|weekend", "ab12", "button")
    assert done.callback is not None and done.callback.keyboard is None and done.callback.query_id == ""
    assert "reply_markup" not in fake.last_to(CHAT), "the keyboard is removed, as Done's tap removes it"
    assert again.message is not None and again.message.button is None, "the ticks were sent once"


def _callback(parsed: telegram.ParsedUpdate) -> telegram.CallbackAction:
    assert parsed.callback is not None
    return parsed.callback


def test_the_done_buttons_own_label_typed_counts_as_done(fake_telegram: Any) -> None:
    fake, url = fake_telegram
    channel = telegram.TelegramChannel(telegram.make_bot(telegram.TelegramSettings(fake.token, api_base=url)))
    polish = OptionTexts("(Odpowiedz {choices})", "lub", "(Możesz wybrać kilka)", "Gotowe")

    async def scenario() -> telegram.ParsedUpdate:
        await channel.send(OutboundMessage("telegram", str(CHAT), "Które?", (Button("Dni", "day"), Button("Noce", "night")),
                                           multiple=True, option_texts=polish))
        telegram.parse_update(fake.callback_update(CHAT, "night"), channel.bot, channel.ticks)
        done = telegram.parse_update(fake.message_update(CHAT, "gotowe"), channel.bot, channel.ticks)
        await channel.close()
        return done

    done = asyncio.run(scenario())
    assert done.message is not None and done.message.button == "night"


def test_a_participant_ticks_shifts_and_types_done_on_telegram(database_url: str, fake_telegram: Any) -> None:
    fake, url = fake_telegram
    with running_chorus(database_url, provider_env(fake, url)) as running:
        say(running, fake, fake.message_update(CHAT, "/start wait-staff"))
        say(running, fake, fake.message_update(CHAT, "CYMRAEG"), replies=2)
        assert say(running, fake, fake.callback_update(CHAT, "yes"))[0].startswith("Pa un sy'n eich disgrifio orau?")
        assert say(running, fake, fake.callback_update(CHAT, "staff"))[0].startswith("Pa shifftiau")
        shifts = fake.last_to(CHAT)
        assert _labels(shifts) == ["Dydd", "Nos", "Penwythnos", "Wedi gorffen"]
        for value, ticks in (("day", 1), ("weekend", 2)):
            post(running, fake.callback_update(CHAT, value, shifts))
            wait_for(_ticks_shown(shifts, ticks), what="the tick shown")
        assert _labels(copy.deepcopy(shifts))[:3] == ["✓ Dydd", "Nos", "✓ Penwythnos"]
        assert say(running, fake, fake.message_update(CHAT, "dyna'r cyfan"))[0].startswith("Sut brofiad oedd aros?")
        running.settle()
        assert ("shift", ["day", "weekend"]) in running.answers()


def _labels(message: dict[str, Any]) -> list[str]:
    return [b["text"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


def _ticks_shown(message: dict[str, Any], ticks: int) -> Callable[[], bool]:
    """Whether the keyboard of ``message`` (as the phone shows it) has ``ticks`` ticks."""
    return lambda: sum(label.startswith(telegram.TICK) for label in _labels(message)) == ticks


# ----------------------------------------------------------------------------- a ranking's numbers


RANK = {"id": "order", "type": "rank", "text": "Put these in order.", "top": 3,
        "options": ["Shorter waits for a visit", "Getting through by phone", "Seeing the same nurse", "Support for carers"]}


def test_a_rankings_options_keep_their_numbers_as_they_are_picked() -> None:
    ranker = Participant([RANK])
    assert ranker.sms().endswith("\n1) Shorter waits for a visit\n2) Getting through by phone\n3) Seeing the same nurse\n4) Support for carers")
    ranker.send("2")
    assert ranker.sms().endswith("\n1) Shorter waits for a visit\n3) Seeing the same nurse\n4) Support for carers")
    ranker.send("4")
    assert ranker.sms().endswith("\n1) Shorter waits for a visit\n3) Seeing the same nurse")
    ranker.send("3")
    assert ranker.state.values["order"] == ["Getting through by phone", "Support for carers", "Seeing the same nurse"]


def test_a_number_already_placed_is_not_taken_for_another_option() -> None:
    ranker = Participant([RANK])
    ranker.send("1")
    hint = ranker.send("1")[0].text
    assert hint.startswith("You have already placed Shorter waits for a visit. Please reply with the number of the next most "
                           "important option: 2, 3 or 4.")
    assert ranker.state.step_data == {"picked": ["Shorter waits for a visit"]}
    welsh = Participant([RANK], "cy")
    welsh.send("1")
    assert welsh.send("porffor")[0].text.startswith("Atebwch gyda rhif yr opsiwn pwysicaf nesaf: 2, 3 neu 4.")


def test_a_whole_order_typed_after_some_picks_uses_the_first_numbers() -> None:
    ranker = Participant([RANK])
    ranker.send("3")
    ranker.send("3 1 2")  # the whole order again: 3 is placed already, 1 and 2 follow it
    assert ranker.state.values["order"] == ["Seeing the same nurse", "Shorter waits for a visit", "Getting through by phone"]


def test_a_tap_names_an_option_by_its_number_and_an_older_keyboards_value_still_works() -> None:
    ranker = Participant([RANK])
    assert [b.value for b in ranker.last.buttons] == ["1", "2", "3", "4"]
    ranker.send("", button="4")
    assert [b.value for b in ranker.last.buttons] == ["1", "2", "3"]
    ranker.send("", button="Shorter waits for a visit")  # a keyboard sent before options were numbered
    ranker.send("", button="3")
    assert ranker.state.values["order"] == ["Support for carers", "Shorter waits for a visit", "Seeing the same nurse"]
