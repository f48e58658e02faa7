"""The engine's answer to a reply that asks what the question means ('I don't understand',
'what?', 'dw i ddim yn deall', 'beth?'): the question again, with what it says to an unclear
reply. No try is used; an option with that name is picked instead."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from flows.acknowledgements import only_acknowledges
from flows.bereavement import tells_of_loss
from flows.engine_core import Turn
from flows.engine_languages import EngineLanguages
from flows.events import RaiseFlag, RecordComment
from flows.model import resolve_text
from flows.parsing_little_words import says_only
from flows.sender_questions import asks_who_we_are
from flows.sent_twice import sent_twice
from flows.steps.base import InputStep, Reply, Unclear
from flows.steps.consent import ConsentStep
from flows.steps.open import OpenStep

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


class EngineWhatItMeans(EngineLanguages):
    """'I don't understand', on top of :class:`flows.engine_languages.EngineLanguages`."""

    def _explained(self, turn: Turn, step: InputStep, text: str) -> bool:
        """A reply that only asks what the question means ('I don't understand', 'what?',
        'dw i ddim yn deall', 'beth?'; a bare '?' is HELP, which asks the question again too):
        'No problem, here is the question again.' with what the step says to an unclear reply
        (its ``retry``, its hint) but what the question says itself, then the question. Not a try.
        An option's own name ('Not sure what this means', 'What?') picks it, but a longer phrase
        ('what does that mean?' with an option 'What?') asks what the question means. On a
        free-text question a sentence ('I don't understand why nobody told us') is an answer,
        and the bare phrase asks, as on a free-text part of a step (a Delphi score's reason).
        (A voice note is read here first for a wish to stop: :meth:`_spoken_stop`.)"""
        if self._spoken_stop(turn, text):
            return True
        if self._told_of_loss(turn, step, text):
            return True
        if sent_twice(turn.state, step, text, turn.now):  # '1' again, seconds after picking 1: not this question's answer
            self._say_and_ask(turn, self._text(turn, "sent_twice"), step, kind="help")
            return True
        if asks_who_we_are(text) and not self._names_option(turn, step, text):  # 'who is this', 'is this a scam'
            self._say_and_ask(turn, self._who_we_are(turn), step, kind="help")
            return True
        if only_acknowledges(text) and self._not_read(turn, step, text):  # 'ok', 'k', 'thanks': its hint, no try
            return True
        if not asks_what_it_means(text) or self._names_option(turn, step, text):
            return False
        how = step.interpret(Reply(""), self._context(turn, step))
        hint = how.hint if isinstance(how, Unclear) else ""
        retry = self._render(turn, step.retry, step) if step.retry is not None else ""
        told = " ".join(part for part in dict.fromkeys((self._text(turn, "explain_again"), retry, hint)) if part)
        self._say_and_ask(turn, told, step, kind="help")
        return True

    def _not_read(self, turn: Turn, step: InputStep, text: str) -> bool:
        """Says what the question takes (its hint), using no try, for a reply it cannot read (an
        'ok' it takes as yes, or an option of that name, it reads: False)."""
        if self._names_option(turn, step, text) or self._takes_free_text(turn.state, step):
            return False
        how = step.interpret(Reply(text), self._context(turn, step))
        if not isinstance(how, Unclear) or not how.hint:
            return False
        retry = self._render(turn, step.retry, step) if step.retry is not None else ""
        told = " ".join(part for part in dict.fromkeys((retry, how.hint)) if part)
        if self._asked_long_ago(turn):  # (as any unclear reply: the question again, when far back)
            self._say_and_ask(turn, told, step, kind="retry")
        else:
            self._say(turn, told, step.id, kind="retry")
        return True

    def _who_we_are(self, turn: Turn) -> str:
        """Who the messages are from (the built-in ``who_we_are``, which a study may word its own
        way under ``texts:``), named by the study's title, or the flow's without a study."""
        language = turn.state.language
        title = resolve_text(self.study.title, language) if self.study is not None else resolve_text(self.flow.title, language)
        return self._text(turn, "who_we_are").replace("{title}", title or self._text(turn, "who_we_are.untitled"))

    def _told_of_loss(self, turn: Turn, step: InputStep, text: str) -> bool:
        """A reply that says someone has died (flows/bereavement.py): sorry, the team told (a
        ``bereavement`` flag), the words kept as a comment (not before consent), and the question
        not asked again. Not at a free-text question: what it says there is its answer, in the
        participant's words, for the team to read ('What changed this year?' 'my husband died')."""
        if isinstance(step, OpenStep) or not tells_of_loss(text) or self._names_option(turn, step, text):
            return False
        if not isinstance(step, ConsentStep):
            turn.emit(RecordComment(step.id, text.strip()))
        turn.emit(RaiseFlag("bereavement", f"a participant said someone has died, at '{step.id}'", step.id))
        self._say(turn, self._text(turn, "bereavement"), step.id, kind="info")
        return True

    def _names_option(self, turn: Turn, step: InputStep, text: str) -> bool:
        """Whether a reply is an option's name, word for word or with only little words besides
        ('I don't understand it' for an option 'I don't understand')."""
        if self._offers(turn, step, text):
            return True
        return any(says_only(text, button.label) for button in step.prompt(self._context(turn, step)).buttons)


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
