"""The engine's languages: LANGUAGE (or CYMRAEG, ENGLISH...) to switch or to be asked which,
the reply to 'Which language would you like?', and a language asked for in a study that runs
in one language only ('Sorry, this study runs in English only.')."""

from __future__ import annotations

from flows.engine_core import Turn
from flows.engine_later import EngineLater
from flows.events import LanguageChanged
from flows.replies import LANGUAGE_NAMES_KNOWN, language_named
from flows.words import LANGUAGE_NAMES, LANGUAGE_WORDS, normalised_word, without_polite_words


class EngineLanguages(EngineLater):
    """Choosing and switching the conversation's language, on top of :class:`flows.engine_later.EngineLater`."""

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


def language_name(code: str, language: str) -> str:
    """A study language's name as said in ``language``: 'English', 'Saesneg'; Welsh as it reads
    after 'yn', 'Gymraeg'. Another language by its English name ('Polish', for a study's own
    text to name as it needs), or by its code."""
    built_in = LANGUAGE_NAMES.get(code.lower(), {})
    if built_in:
        return built_in.get(language, built_in["en"])
    known = LANGUAGE_NAMES_KNOWN.get(code.lower().split("-")[0].split("_")[0])
    return known[0].title() if known else code
