"""The engine's global words: STOP and START, HELP, LATER (a snooze), BACK, a language, and
DELETE MY DATA, which may come at any point of a conversation instead of an answer; a reply
that may ask to stop or may answer ('I want out'), which is asked which (BACK
goes back through :mod:`flows.engine_undo`, as does a correction, 'sorry i meant 4'); a
reply that asks what the question means ('I don't understand', 'what?', 'beth?'), which
gets it again with its hint; and the rest of a free-text answer sent in a second text."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from flows import schedule_timing, snooze
from flows.engine_core import Turn
from flows.engine_undo import EngineUndo
from flows.events import (
    AnswersWithdrawn,
    ErasureConfirmed,
    LanguageChanged,
    OptedIn,
    OptedOut,
    RecordAnswer,
    ScheduleTask,
    SetField,
)
from flows.inputs import TextInput, spoken_yes
from flows.opt_out_phrases import may_ask_to_opt_out, wrong_number_language
from flows.parsing import (
    UNSURE_REPLIES,
    normalise,
    parse_yes_no,
    says_indifferent,
    says_undecided,
    without_politeness,
)
from flows.parsing_little_words import _LITTLE_WORDS, _stem, says_only
from flows.parsing_number_words import _WORD_NUMBERS
from flows.replies import LANGUAGE_NAMES_KNOWN, language_named
from flows.session_state import OpenAnswer, SessionState, copy_state, position
from flows.steps.base import Answer, Continue, InputStep, Reply, Unclear
from flows.steps.open import OpenStep
from flows.steps.scale import ScaleStep
from flows.words import LANGUAGE_NAMES, LANGUAGE_WORDS, normalised_word, without_polite_words

CONTINUATION_WINDOW = timedelta(seconds=90)
"""How soon after a typed free-text answer a text that answers nothing is taken for the rest
of it: an SMS answer sent in two parts (a basic phone), seconds apart."""
CONTINUATION_WORDS = 4
"""The fewest words a text taken for the rest of a free-text answer has: 'maybe', 'dunno',
'not great' or 'pretty bad tbh' seconds after one is a try at the question asked now, not
more of the answer."""
RATING_WORDS = frozenset({
    "good", "bad", "great", "ok", "okay", "poor", "poorly", "well", "badly", "terrible", "terribly", "fine", "middling",
    "awful", "awfully", "excellent", "average", "alright", "decent", "brilliant", "fair", "rubbish", "horrible", "lovely",
    "amazing", "worse", "worst", "better", "best", "neutral", "meh", "so-so", "satisfied", "dissatisfied", "unsatisfied",
    "happy", "unhappy", "agree", "disagree", "likely", "unlikely", "mediocre", "shocking", "appalling", "dreadful",
    "superb", "perfect", "fantastic", "crap", "adequate", "reasonable", "acceptable", "outstanding", "satisfactory",
    "da", "dda", "gwael", "wael", "ofnadwy", "gwych", "ardderchog", "canolig", "gweddol", "niwtral", "cytuno", "anghytuno",
})
"""Words that rate: a text with one ('not very well', 'pretty bad tbh') is a try at a scale or
a choice, never the rest of a story."""
_NOT_RATING = frozenset({"not", "very", "quite", "really", "too", "all", "any", "some", "more", "less", "nor", "don't",
                         "dont", "know", "ddim", "nac", "iawn", "gwybod", "cwbl", "gwbl"})
"""Words of an option's or a label's name that say nothing of it alone ('Not at all well', 'Don't know')."""

_CONFUSED_EN = re.compile(
    r"(?:i )?(?:dont|do not|didnt|did not|cant|cannot|can not|still dont) (?:understand|get|follow)"
    r"(?: (?:it|this|that|you|the question|this question|the message|what you mean|what (?:that|this|it) means"
    r"|what you are asking|what youre asking|what to (?:say|do|answer|reply)))?"
    r"|(?:im |i am )?(?:confused|lost|not sure what you mean|not sure what (?:that|this|it) means)"
    r"|(?:i )?(?:dont know|have no idea|no idea) what (?:you mean|(?:that|this|it) means|youre asking|you are asking)"
    r"|what(?: do you| do u| does (?:that|this|it)| dyou)? mean(?: by (?:that|this))?|wdym|what you mean"
    r"|(?:what|wot|wut|wat|eh|huh|pardon|pardon me|come again|say again|say that again|what was that"
    r"|what(?: is|s) (?:this|that|the question)|what question|(?:please )?explain(?: please)?|can you explain(?: that| this)?"
    r"|(?:can you |could you |please )?repeat(?: that| it| the question)?(?: please)?)")
_CONFUSED_CY = re.compile(
    r"(?:(?:dw ?i|dydw ?i|rydw ?i|dwi|dw) ?(?:ddim|m) yn|dw ?im yn|dwim yn|ddim yn"
    r"|(?:sa ?i|so ?i|smo ?i|sai|soi)(?: ddim)? ?(?:yn|n)) (?:deall|dallt)"
    r"(?: (?:hyn|hynny|hwn|hwnna|y cwestiwn|y neges))?"
    r"|be(?:th)?(?: (?:mae )?(?:hynny|hyn|hwnna|hwn|ti|chi|dych chi|ydych chi|wyt ti|rydych chi) ?(?:yn|n) (?:ei )?(?:feddwl|olygu))?"
    r"|pardwn|esgusodwch fi|(?:wnewch chi |allwch chi )?(?:egluro|eglurwch|esbonio|esboniwch)(?: plis)?")
_AROUND = re.compile(r"^(?:(?:sorry|sori|soz|um+|erm+|uh+|oh|ok|okay|hi|hello|but) )+"
                     r"|(?: (?:sorry|sori|please|pls|plz|plis|os gwelwch yn dda))+$")
"""What may come before or after the words that ask, without changing what they ask."""
_SORRY = frozenset({"sorry", "sori", "soz"})
"""'sorry?' asks to hear it again; 'sorry' alone may only be an apology."""
STOP_ASKED = "_stop_asked"
"""Where the conversation was (:func:`flows.session_state.position`) when the participant was asked
'Do you want us to stop messaging you?' (kept in the session's fields, as ``_sent_at`` is: never
saved to the participant); only the reply right after, at that same question, answers it."""
CARRY_ON = frozenset({"carry on", "continue", "keep going", "go on", "go ahead", "im fine", "its fine", "no its fine",
                      "parhau", "dal ati", "daliwch ati", "ymlaen", "awn ymlaen", "maen iawn", "main iawn"})
"""Replies to 'Do you want us to stop messaging you?' that say carry on, as NO does."""
WRONG_NUMBER = "wrong number"
"""The reason an opt-out gives (:attr:`OptedOut.reason`, the audit event's) when the number is someone else's now."""


class EngineCommands(EngineUndo):
    """The global words, on top of BACK and corrections (:class:`flows.engine_undo.EngineUndo`)."""

    if TYPE_CHECKING:  # provided by flows.engine.Engine
        def _accept(self, turn: Turn, step: InputStep, reply: Reply, answer: Answer) -> None: ...

    # ------------------------------------------------------------------ erasure on request

    def _erasure(self, turn: Turn, erasure: str, given: TextInput, command: str | None) -> bool:
        """DELETE MY DATA at any point (even after STOP): ask to confirm; YES emits
        :class:`ErasureConfirmed` for the service to act on, and the confirmation to send
        (kind 'erased'); a spoken yes is asked to type YES
        (the question stays open); anything else cancels, and a
        global word that cancels (STOP, HELP...) still does what it says. False to carry on
        handling the reply."""
        state = turn.state
        if erasure == "ask":
            key = "erase_type_yes" if state.erase_pending and spoken_yes(given) else "erase_confirm"
            state.erase_pending = True
            self._say(turn, self._text(turn, key), kind="erase_confirm")
            return True
        state.erase_pending = False
        if erasure == "confirmed":  # the service erases, then sends this once to the address it came from
            turn.emit(ErasureConfirmed())
            self._say(turn, self._text(turn, "erased"), kind="erased")
            return True
        self._say(turn, self._text(turn, "erase_cancelled"), kind="erase_cancelled")
        if given.button is None and (command or self.words.language_switch(given.text)):
            return False
        self._reprompt(turn)
        return True

    # ------------------------------------------------------------------ global words

    def _global_word(self, turn: Turn, text: str, command: str | None, choosing: bool = False) -> bool:
        """STOP, START, HELP, LATER, BACK or a language (``command``: the global word ``text``
        is, read once by the caller); with ``choosing``, the reply right after the bot asked which
        language may name one. False when the reply is none of these: an answer."""
        state = turn.state
        asked = state.fields.pop(STOP_ASKED, None) == position(state)  # (only the reply right after asks it)
        if asked and command is None and (parse_yes_no(text) is True or may_ask_to_opt_out(text)):
            command = turn.command = "stop"  # 'yes', or 'I want out' again: a STOP
        if command == "stop":
            if state.status != "stopped":
                self._stop(turn, text)
            return True
        if state.status == "stopped":
            if command == "start":
                state.status, state.before_stop = state.before_stop or "waiting", None
                turn.emit(OptedIn())
                self._say(turn, self._text(turn, "restarted"), kind="info")
                self._reprompt(turn)
            return True
        if asked and command is None and _carries_on(text):
            self._carry_on(turn)
            return True
        if choosing and self._language_chosen(turn, text):
            return True
        if command is None and self._may_want_to_stop(turn, text):
            return True
        if self._answers_question(turn, text, command):
            return False
        if state.status == "ended" and command == "help":  # no question to repeat; the words that still work
            self._say(turn, self.words.text("help_ended", turn.state.language), kind="help")
            return True
        if state.status == "ended" and command in ("start", "later", "back"):
            return False  # nothing left to ask: the conversation has ended, and the reply says so
        if command == "start":
            self._reprompt(turn)
            return True
        if command == "help":
            self._say(turn, self.words.help(turn.state.language), kind="help")
            self._reprompt(turn)
            return True
        if command in ("later", None) and state.status in ("waiting", "snoozed") and self._snooze(turn, text, command):
            return True
        if command == "back" and state.status in ("waiting", "snoozed"):
            self._back(turn)
            return True
        switch = self.words.language_switch(text)
        if switch is None:
            return self._asks_for_another_language(turn, text)
        if isinstance(switch, str):
            self._switch_language(turn, switch)
        else:
            self._ask_language(turn, "language_ask" if switch is True else "language_unknown")
        return True

    def _stop(self, turn: Turn, text: str) -> None:
        """STOP: :class:`OptedOut`, and the one reply still sent (kind 'stopped'). To 'wrong number'
        ('who is this? wrong number', 'rhif anghywir': :func:`flows.opt_out_phrases.wrong_number_language`),
        whose writer is not the participant, an apology instead, in the language of their words
        if the study speaks it, and the opt-out gives that reason."""
        state = turn.state
        state.before_stop, state.status = state.status, "stopped"
        language = wrong_number_language(text)
        if language is None:
            turn.emit(OptedOut())
            self._say(turn, self._text(turn, "stopped"), kind="stopped")
            return
        turn.emit(OptedOut(WRONG_NUMBER))
        said_in = language if language in self.words.languages else state.language
        self._say(turn, self.words.text("wrong_number", said_in), kind="stopped")

    def _may_want_to_stop(self, turn: Turn, text: str) -> bool:
        """A reply that may ask to stop taking part or may answer the question ('I want out',
        "I don't want to do this anymore" to 'How do you feel about your treatment?', 'dw i eisiau
        gadael'; :func:`flows.opt_out_phrases.may_ask_to_opt_out`): 'Do you want us to stop messaging you?
        Reply STOP to stop, or carry on answering.' Nothing is kept as the answer and no try is
        used; YES (or the same again) then is a STOP, NO the question again, anything else an
        answer. A question whose own options take the reply ('Not interested') is answered."""
        state = turn.state
        if state.status not in ("waiting", "snoozed") or not may_ask_to_opt_out(text):
            return False
        step = self._current(state)
        if not isinstance(step, InputStep) or (not self._takes_free_text(state, step) and self._reads_itself(turn, text)):
            return False
        state.fields[STOP_ASKED] = position(state)
        self._say(turn, self._text(turn, "stop_confirm"), step.id, kind="info")
        return True

    def _carry_on(self, turn: Turn) -> None:
        """NO (or 'carry on') to 'Do you want us to stop messaging you?': the question again,
        woken if it was put off with LATER (the participant is here to answer it)."""
        if turn.state.status == "snoozed":
            turn.state.status, turn.woke = "waiting", True
        self._say(turn, self._text(turn, "stop_confirm_no"), kind="info")
        self._reprompt(turn)

    def _language_chosen(self, turn: Turn, text: str) -> bool:
        """The reply to 'Which language would you like?': a study language named by its code or
        its name ('en', 'cy', 'Welsh', 'polski') chooses it; a language the study lacks gets
        the choices again. False when the reply names no language (it answers the question)."""
        named = language_named(text, self.words.languages)
        if named is None:
            return False
        if isinstance(named, str):
            self._switch_language(turn, named)
        else:
            self._ask_language(turn, "language_unknown")
        return True

    def _switch_language(self, turn: Turn, language: str) -> None:
        turn.state.language = language
        turn.emit(LanguageChanged(language))
        self._say(turn, self._text(turn, "language_changed"), kind="info")
        self._reprompt(turn)

    def _ask_language(self, turn: Turn, key: str) -> None:
        """Which language ('language_ask'), or that the one named is not offered; the next reply may name one.
        In a study with one language there is nothing to choose: :meth:`_only_language`."""
        if len(self.words.languages) < 2:
            self._only_language(turn)
            return
        turn.state.choosing_language = True
        choices = self.words.language_choices(turn.state.language)
        self._say(turn, self._text(turn, key).format(choices=choices), kind="help")

    def _asks_for_another_language(self, turn: Turn, text: str) -> bool:
        """CYMRAEG (or another built-in language's word) in a study with one language, which
        lacks it: answered as LANGUAGE is (:meth:`_only_language`), unless the question takes
        the reply as its answer ('Welsh' to 'What language do you speak at home?')."""
        if len(self.words.languages) != 1:
            return False
        said = normalised_word(text)
        others = {normalised_word(word) for code, words in LANGUAGE_WORDS.items() if code not in self.words.languages
                  for word in words}
        if not others & {said, *without_polite_words(said)} or self._reads_itself(turn, text):
            return False
        self._only_language(turn)
        return True

    def _only_language(self, turn: Turn) -> None:
        """LANGUAGE (or another language asked for) in a study with one language: 'Sorry, this
        study runs in English only.', then the question again; with no question waiting (the
        conversation has ended) that is said too; a question put off with LATER stays put off."""
        state = turn.state
        name = language_name(self.words.languages[0] if self.words.languages else state.language, state.language)
        ended = state.status == "ended"
        self._say(turn, self._text(turn, "language_only_ended" if ended else "language_only").replace("{name}", name), kind="help")
        self._reprompt(turn)

    def _answers_question(self, turn: Turn, text: str, command: str | None) -> bool:
        """The whole reply is, word for word, one of the current question's own answers (a
        button's label or value) that is also a global word other than STOP: an option 'Back'
        (where the pain is), 'Busy', 'Not now' or 'English' answers the question. STOP words
        always stop (the providers stop delivering after them anyway); validation warns of
        an option that is one."""
        state = turn.state
        if state.status not in ("waiting", "snoozed"):
            return False
        if command is None and self.words.language_switch(text) is None and not snooze.may_be_snooze(text, self._later_words):
            return False
        step = self._current(state)
        if not isinstance(step, InputStep):
            return False
        return self._offers(turn, step, text)

    def _offers(self, turn: Turn, step: InputStep, text: str) -> bool:
        said = normalised_word(text)
        buttons = step.prompt(self._context(turn, step)).buttons
        return any(said in (normalised_word(button.label), normalised_word(button.value)) for button in buttons)

    def offered(self, state: SessionState, text: str, now: datetime, population: Any = None) -> bool:
        """Whether a reply is, word for word, one of the options the question being asked offers
        (a button's label or value, 'Can't decide' say): an answer, not words of the participant's
        own, which safeguarding need not read."""
        step = self._current(state)
        if not isinstance(step, InputStep) or isinstance(step, OpenStep) or state.status not in ("waiting", "snoozed"):
            return False
        return self._offers(Turn(copy_state(state), now, population), step, text)

    def _snooze(self, turn: Turn, text: str, command: str | None) -> bool:
        """LATER, or a reply that is all about when ('in 2 hours', 'tomorrow', 'later after
        5pm', 'not now, on shift. tomorrow at 3') or a LATER phrase with a short reason ('not
        now, driving') or a busy phrase ('on shift til 8', 'ask me later'): ask again then, moved
        into the participant's contact hours and the follow-up's window and out of the study's
        quiet hours, and before the question closes (or, with no time left, say so and do not
        snooze). On a free-text question too, where a sentence that only mentions a time is the
        answer. See flows/snooze.py and flows/schedule_timing.place_snooze."""
        state = turn.state
        if command != "later" and not snooze.may_be_snooze(text, self._later_words):
            return False
        if command != "later" and snooze.only_busy(text) and self._reads_itself(turn, text):
            return False  # 'on nights' picks Nights; 'on shift' answers 'Where were you?'
        named = state.fields.get("timezone")
        zone = self._zone if named is None else snooze.zone_of(named, self.study.timezone if self.study else "Europe/London")
        free_text = isinstance(self._current(state), OpenStep)
        contact = schedule_timing.contact_hours(state.fields)
        asked = snooze.parse_snooze(text, turn.now, zone, self._later_words, free_text=free_text, contact=contact)
        if asked is None and command != "later" and not snooze.puts_off(text, self._later_words):
            return False
        window, closes = schedule_timing.follow_up_limits(self.study, state.flow, state.fields, zone)
        placed = schedule_timing.place_snooze(asked.until if asked is not None else turn.now + snooze.DEFAULT_SNOOZE, turn.now,
                                              zone, window, self.study.quiet_hours if self.study else None, contact, closes)
        closing = snooze.describe(placed.closes, turn.now, zone, state.language) if placed.closes else ""
        if placed.at is None:  # the question closes first: say so, and leave it open to answer now
            state.status = "waiting"
            self._say(turn, self._text(turn, "later_closes").replace("{closes}", closing), kind="info")
            return True
        state.status, state.tries = "snoozed", 0
        turn.emit(ScheduleTask("snooze", placed.at, {"step": state.step}))
        when = snooze.describe(placed.at, turn.now, zone, state.language)
        if placed.closes:
            self._say(turn, self._text(turn, "later_before_close").replace("{closes}", closing).replace("{when}", when), kind="info")
        elif command == "later" and self._own_later_text():
            self._say(turn, self._text(turn, "later"), kind="info")
        else:  # a bare LATER names its default time too: 'We'll ask again at 16:10'
            self._say(turn, self._text(turn, "later_at").replace("{when}", when), kind="info")
        return True

    def _reads_itself(self, turn: Turn, text: str) -> bool:
        """Whether the question asked now takes a reply as its answer (or a part of it): a busy
        phrase that names an option, or any words on a free-text question."""
        step = self._current(turn.state)
        if not isinstance(step, InputStep):
            return False
        return isinstance(step.interpret(Reply(text), self._context(turn, step)), Answer | Continue)

    def _own_later_text(self) -> bool:
        """The study words its own reply to a bare LATER and not the one that says when: keep it."""
        return self.study is not None and "later" in self.study.texts and "later_at" not in self.study.texts

    # ------------------------------------------------------------------ 'I don't understand', and a second text

    def _explained(self, turn: Turn, step: InputStep, text: str) -> bool:
        """A reply that only asks what the question means ('I don't understand', 'what?',
        'dw i ddim yn deall', 'beth?'; a bare '?' is HELP, which asks the question again too):
        'No problem, here is the question again.' with what the step says to an unclear reply
        (its ``retry``, its hint), then the question. Not a try.
        An option's own name ('Not sure what this means', 'What?') picks it, but a longer phrase
        ('what does that mean?' with an option 'What?') asks what the question means. On a
        free-text question a sentence ('I don't understand why nobody told us') is an answer,
        and the bare phrase asks, as on a free-text part of a step (a Delphi score's reason).
        (A voice note is read here first for a wish to stop: :meth:`_spoken_stop`.)"""
        if self._spoken_stop(turn, text):
            return True
        if not asks_what_it_means(text) or self._names_option(turn, step, text):
            return False
        how = step.interpret(Reply(""), self._context(turn, step))
        hint = how.hint if isinstance(how, Unclear) else ""
        retry = self._render(turn, step.retry, step) if step.retry is not None else ""
        told = " ".join(part for part in dict.fromkeys((self._text(turn, "explain_again"), retry, hint)) if part)
        self._say(turn, told, step.id, kind="help")
        self._prompt(turn, step)
        return True

    def _spoken_stop(self, turn: Turn, text: str) -> bool:
        """A voice note whose whole transcript may ask to stop ('I want out'; one that asks
        outright, 'stop texting me', is a spoken STOP already: :func:`flows.inputs.spoken_as_typed`)
        is asked 'Do you want us to stop messaging you?' as a typed one is (:meth:`_may_want_to_stop`),
        and kept nowhere; said right after that question, yes or the same again is a STOP and no or
        'carry on' the question again. (The engine reads a voice note's global words nowhere else;
        a typed reply, read in :meth:`_global_word` already, finds nothing more here.)"""
        asked = turn.state.fields.pop(STOP_ASKED, None) == position(turn.state)  # (only the reply right after asks it)
        if asked and (parse_yes_no(text) is True or may_ask_to_opt_out(text)):
            turn.command = "stop"
            self._stop(turn, text)
            return True
        if asked and _carries_on(text):
            self._carry_on(turn)
            return True
        return self._may_want_to_stop(turn, text)

    def _names_option(self, turn: Turn, step: InputStep, text: str) -> bool:
        """Whether a reply is an option's name, word for word or with only little words besides
        ('I don't understand it' for an option 'I don't understand')."""
        if self._offers(turn, step, text):
            return True
        return any(says_only(text, button.label) for button in step.prompt(self._context(turn, step)).buttons)

    def _keep_open_answer(self, turn: Turn, step: InputStep, reply: Reply, text: str) -> None:
        """After an answer: a typed free-text one is kept (:attr:`SessionState.last_open`) for a
        text that follows it to add to; any other answer ends that."""
        typed = reply.source == "text" and reply.button is None
        state = turn.state
        state.last_open = OpenAnswer(step=step.id, text=text, at=turn.now, position=len(state.history)) \
            if isinstance(step, OpenStep) and typed and text else None

    def _continued(self, turn: Turn, step: InputStep, text: str, unclear: Unclear) -> bool:
        """A typed text that answers nothing (the question asked now finds it ``unclear`` and
        makes nothing of it: no number in the wrong unit, no score too many), sent within
        :data:`CONTINUATION_WINDOW` of a typed answer to the free-text question just before:
        the rest of that answer, sent in a second SMS. The answer is recorded again
        with it added (the first withdrawn, as a correction's is, and kept), 'Thanks, I've
        added that to your last answer.', and the question asked now again. Not a try."""
        state, kept = turn.state, turn.state.last_open
        if kept is None or state.tries or state.undo or state.step_data or not _says_more(text):
            return False
        if not timedelta(0) <= turn.now - kept.at <= CONTINUATION_WINDOW or self._tries_question(turn, step, text):
            return False
        if unclear != step.interpret(Reply(""), self._context(turn, step)):  # a try at this question
            return False
        found = self._previous_question(state)
        if found is None or found[0].id != kept.step or found[1] + 1 != kept.position or step.id == kept.step:
            return False
        previous = found[0]
        added = f"{kept.text} {text.strip()}"
        turn.emit(AnswersWithdrawn((previous.id,), from_position=kept.position))
        turn.emit(RecordAnswer(previous.id, added, added, added, "text", path_position=kept.position))
        state.values[previous.id], state.displays[previous.id] = added, added
        if previous.save_to:
            name = previous.save_to.removeprefix("participant.")
            state.fields[name] = added
            turn.emit(SetField(name, added))
        state.last_open = OpenAnswer(step=previous.id, text=added, at=turn.now, position=kept.position)
        self._say(turn, self._text(turn, "added_to_answer"), step.id, kind="info")
        self._prompt(turn, step)
        return True

    def _tries_question(self, turn: Turn, step: InputStep, text: str) -> bool:
        """Whether a text reads as a try at the question asked now: a number in it ('2 not great',
        '3 or 4'), a word that rates ('not very well'), or a word of its options' or labels' names."""
        said = {_stem(word) for word in re.findall(r"[\w'-]+", normalise(text))}
        if any(any(c.isdigit() for c in word) or word in _WORD_NUMBERS and word not in _STORY_NUMBERS for word in said):
            return True
        ctx = self._context(turn, step)
        names = [button.label for button in step.prompt(ctx).buttons]
        names += list(step.point_labels(ctx).values()) if isinstance(step, ScaleStep) else []
        named = {_stem(word) for name in names for word in re.findall(r"[\w'-]+", normalise(name))}
        own = {word for word in named if len(word) > 2 and word not in _LITTLE_WORDS and word not in _NOT_RATING}
        return bool(said & (own | RATING_WORDS))


_STORY_NUMBERS = frozenset({"one", "once", "none", "un", "dim"})
"""Number words a story has without giving a number: 'no one came', 'once we got in', Welsh 'dim'."""


def _carries_on(text: str) -> bool:
    """Whether a reply to 'Do you want us to stop messaging you?' says no, or carry on."""
    said = normalised_word(text).replace("'", "")
    return parse_yes_no(text) is False or said in CARRY_ON or any(phrase in CARRY_ON for phrase in without_polite_words(said))


def _says_more(text: str) -> bool:
    """Whether a text may be the rest of an answer: a few words, not 'not sure' or 'I don't
    mind' (a try at the question asked now)."""
    said = without_politeness(text)
    if len(said.split()) < CONTINUATION_WORDS:
        return False
    unsure = re.sub(r"^(?:i |im |i'm |i am |really )+", "", said) in UNSURE_REPLIES
    return not unsure and not says_indifferent(text) and not says_undecided(text)


def language_name(code: str, language: str) -> str:
    """A study language's name as said in ``language``: 'English', 'Saesneg'; Welsh as it reads
    after 'yn', 'Gymraeg'. Another language by its English name ('Polish', for a study's own
    text to name as it needs), or by its code."""
    built_in = LANGUAGE_NAMES.get(code.lower(), {})
    if built_in:
        return built_in.get(language, built_in["en"])
    known = LANGUAGE_NAMES_KNOWN.get(code.lower().split("-")[0].split("_")[0])
    return known[0].title() if known else code


@lru_cache(maxsize=4096)
def asks_what_it_means(text: str) -> bool:
    """Whether a whole reply only asks what the question means or to hear it again, in English
    or Welsh: '?', 'what?', 'sorry?', 'huh', 'I don't understand', 'dont get it', 'what does
    that mean?', 'dw i ddim yn deall', "sa i'n deall", 'beth?', "beth mae hynny'n ei olygu?".
    Not 'I don't know' or 'not sure' (answers to many questions), nor a sentence that goes on
    ('I don't understand why nobody told us')."""
    raw = text.strip()
    if raw and not raw.strip("?!. "):
        return "?" in raw
    folded = unicodedata.normalize("NFKD", raw.replace("\u2019", "'").replace("\u2018", "'").lower())
    said = "".join(c for c in folded if not unicodedata.combining(c)).replace("'", "")
    said = re.sub(r"[\s,.!?;:-]+", " ", said).strip()
    if said in _SORRY:
        return "?" in raw
    while (shorter := _AROUND.sub("", said)) != said:
        said = shorter
    return bool(said) and (_CONFUSED_EN.fullmatch(said) is not None or _CONFUSED_CY.fullmatch(said) is not None)
