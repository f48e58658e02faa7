"""Global words (STOP, START, HELP, LATER, BACK, language), in English and Welsh, and how the
built-in texts (:mod:`flows.built_in_texts`) are found. A study may add synonyms and override
any text."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from flows.built_in_texts import BUILT_IN_TEXTS
from flows.corrections import asks_to_go_back
from flows.model import Study, resolve_text
from flows.opt_out_phrases import asks_to_opt_out, wrong_number_language
from flows.parsing import parse_yes_no
from flows.reply_tidying import normalised_word

COMMANDS = ("stop", "start", "help", "later", "back", "language", "erase")

BUILT_IN_WORDS: dict[str, dict[str, list[str]]] = {
    "stop": {
        "en": ["stop", "stopall", "stop all", "unsubscribe", "cancel", "end", "quit", "opt out", "opt-out", "optout",
               "revoke", "/stop"],
        "cy": ["stopio", "stopiwch", "dad-danysgrifio", "diwedd"],
    },
    "start": {"en": ["start", "unstop", "resume", "/start"], "cy": ["dechrau", "ailddechrau"]},
    "help": {"en": ["help", "info", "/help", "?"], "cy": ["help", "cymorth"]},
    "later": {
        "en": ["later", "later on", "l8r", "brb", "not now", "busy", "snooze", "remind me later", "not right now", "busy now",
               "busy right now", "busy at the moment", "can't talk", "cant talk", "can't talk now", "cant talk now"],
        "cy": ["wedyn", "nes ymlaen", "dim nawr", "ddim nawr", "methu siarad"],
    },
    "back": {"en": ["back", "go back", "previous", "undo"], "cy": ["yn ôl", "yn ol", "nôl", "nol"]},
    "erase": {"en": ["delete my data", "erase my data", "forget me"],
              "cy": ["dileu fy nata", "dileu fy ngwybodaeth", "dilëwch fy nata", "dilewch fy nata", "dilëwch fy ngwybodaeth",
                     "dilewch fy ngwybodaeth", "anghofiwch fi"]},
}
POLITE = frozenset({"please", "pls", "plz", "plis", "thanks", "thank", "you", "thx", "diolch", "it", "now", "me", "just",
                    "ok", "okay", "sorry", "messaging", "texting", "messages", "texts", "sending", "msg", "msgs", "msging", "ta",
                    "cheers", "ty", "x", "xx", "xxx"})
"""Words that may go with a global word without changing it: 'stop it please', 'go back please',
and the kiss a text is often signed with: 'later x', 'stop xx'."""
POLITE_PHRASES = ("os gwelwch yn dda", "os gwelwch chi'n dda", "if you can", "if you don't mind")
"""Polite phrases of several words, dropped from either end of a reply like :data:`POLITE`."""
LANGUAGE_WORDS: dict[str, list[str]] = {
    "en": ["english", "saesneg"],
    "cy": ["cymraeg", "welsh"],
}
LANGUAGE_COMMAND = ["language", "iaith", "/language"]
LANGUAGE_NAMES: dict[str, dict[str, str]] = {"en": {"en": "English", "cy": "Saesneg"}, "cy": {"en": "Welsh", "cy": "Gymraeg"}}
"""Each built-in language's name, in each built-in language (Welsh after 'Am': Gymraeg)."""
OTHER_LANGUAGE_CODES = {"cym": "cy", "wel": "cy", "welsh": "cy", "cymraeg": "cy", "eng": "en", "english": "en", "saesneg": "en"}
"""Other names a coordinator may give a built-in language in ``languages:``: ISO 639-2 codes
and the languages' names (``chorus validate`` says which code to write)."""

DONE_WORDS: dict[str, list[str]] = {
    "en": ["done", "i'm done", "im done", "all done", "finished", "i've finished", "ive finished", "that's all", "thats all",
           "that's it", "thats it", "that is all", "nothing else", "ok done"],
    "cy": ["wedi gorffen", "gorffen", "dyna'r cyfan", "dyna i gyd", "dyna fe", "dim byd arall"],
}
"""What people type to say a multiple choice is complete, as the Done button under it does."""
SKIP_WORDS = {"skip", "pass", "hepgor", "hepgorer", "pasio", "sgip", "sgipio", "/skip"}
"""A reply that skips a question that may be skipped, in English and Welsh: 'sgip' and 'sgipio'
are SKIP as Welsh spells it, which a Welsh participant types as often as HEPGOR."""


@lru_cache(maxsize=8192)
def without_polite_words(said: str) -> tuple[str, ...]:
    """A normalised reply with polite words dropped from its start, its end or both, fewest
    dropped first ('forget me please': 'forget me', then 'forget'). Only the ends: words in
    the middle are part of what was said. Empty when no polite word is at either end."""
    words = [word for word in re.split(r"[\s,.!]+", _without_polite_phrases(said)) if word]
    leading = next((i for i, word in enumerate(words) if word not in POLITE), len(words))
    trailing = next((i for i, word in enumerate(reversed(words)) if word not in POLITE), len(words))
    if leading == len(words):
        return ()
    found = [" ".join(words)] if said != " ".join(words) else []
    for dropped in range(1, leading + trailing + 1):
        for front in range(max(0, dropped - trailing), min(dropped, leading) + 1):
            found.append(" ".join(words[front:len(words) - (dropped - front)]))
    return tuple(found)


def _without_polite_phrases(said: str) -> str:
    for phrase in POLITE_PHRASES:
        if said.endswith(" " + phrase):
            said = said[:-len(phrase) - 1].rstrip(" ,")
        if said.startswith(phrase + " "):
            said = said[len(phrase) + 1:].lstrip(" ,")
    return said


def listed(choices: Sequence[str], or_word: str) -> str:
    """Choices as a sentence lists them: 'A', 'A or B', 'A, B or C' (``or_word`` in the reader's language)."""
    if len(choices) < 2:
        return "".join(choices)
    return f"{', '.join(choices[:-1])} {or_word} {choices[-1]}"


def not_wanted_hint(text: Callable[[str], str], labels: Sequence[str], rejected: Sequence[int], multiple: bool = False,
                    most: int | None = None) -> str | None:
    """What to say to a choice answered only by what is not wanted (flows.parsing.rejected_options:
    'anything but carer', 'not weekends', 'dim 1'): that it was understood, and the numbers left:
    'OK, not Carer. Which one, then? Please reply 1 or 3.'; 'None of these? ...' when every option
    is rejected. None when nothing is (the step's usual hint is said). ``text`` gives texts by key
    in the reader's language; ``most``: how many a multiple choice takes at most."""
    if not rejected:
        return None
    left = [str(number + 1) for number in range(len(labels)) if number not in rejected]
    if not left:
        return text("hint_choice_none").format(n=len(labels))
    said = listed([labels[number] for number in sorted(rejected)], text("nor"))
    if multiple:
        return text("hint_choices_not").format(rejected=said, example=" ".join(left[:most or len(left)]))
    return text("hint_choice_not").format(rejected=said, choices=listed(left, text("or")))


def is_done(text: str, also: Sequence[str] = ()) -> bool:
    """Whether a whole reply says a multiple choice is complete ('done', 'that's all please',
    'wedi gorffen'), in any built-in language or as one of ``also`` (the Done button's own label)."""
    said = normalised_word(text).replace("’", "'")
    if not said:
        return False
    done = _DONE | {normalised_word(label) for label in also}
    return said in done or any(phrase in done for phrase in without_polite_words(said))


_DONE = frozenset(normalised_word(word) for words in DONE_WORDS.values() for word in words)
_TRAILING_DONE = re.compile(
    r"[\s,.;:!-]+(?:" + "|".join(re.escape(word) for word in sorted(_DONE, key=len, reverse=True)) + r")[\s.!]*$", re.IGNORECASE)


def without_done(text: str) -> str:
    """A multiple choice typed with a done word after it ('1 3 done', 'days, nights - that's
    all') without that word; the text unchanged when it has none."""
    return _TRAILING_DONE.sub("", text.replace("\u2019", "'")) or text


@dataclass(frozen=True)
class OptionTexts:
    """How options read, in one language, where a channel shows them as text (SMS; WhatsApp
    without content templates): "(Reply A, B or Can't decide)", "(Reply 1-9 or NOT SURE)",
    the hint under a multiple choice; and the label of the Done button under one (Telegram)."""

    reply: str = "(Reply {choices})"
    or_word: str = "or"
    several: str = "(You can pick more than one, e.g. 1 3)"
    done: str = "Done"

    @classmethod
    def of(cls, text: Callable[[str], str]) -> OptionTexts:
        """From texts by key (built-in, or a study's own for its languages)."""
        return cls(text("options.reply"), text("or"), text("options.several"), text("options.done"))

    def reply_with(self, choices: Sequence[str]) -> str:
        return self.reply.format(choices=listed(choices, self.or_word))


BUILT_IN_LANGUAGES = ("en", "cy")
"""The languages Chorus's own texts are written in; a study in another adds its own under ``texts:``."""


def untranslated(study: Study, language: str) -> list[str]:
    """The built-in texts a study in ``language`` has not given in it (shown in English)."""
    if language in BUILT_IN_LANGUAGES:
        return []
    missing = []
    for key in BUILT_IN_TEXTS:
        own = study.texts.get(key)
        if own is None or (isinstance(own, dict) and language not in own):
            missing.append(key)
    return missing


def built_in(key: str, language: str = "en") -> str:
    """A built-in text in ``language`` (English when it has no such version); the key itself if unknown."""
    found = BUILT_IN_TEXTS.get(key)
    return key if found is None else resolve_text(found, language, "en")


ENGLISH_OPTIONS = OptionTexts.of(built_in)
"""Options as English reads them: what a channel uses when it is not told the participant's language."""


def option_texts(language: str = "en") -> OptionTexts:
    """The built-in option texts in ``language`` (English where it has none)."""
    return OptionTexts.of(lambda key: built_in(key, language))


ERASE_KINDS = frozenset({"erase_confirm", "erase_cancelled", "erased"})
"""Message kinds of the erasure exchange: sent even to someone who said STOP ('erased', the
confirmation that their data is gone, is sent once to the address they wrote from and kept nowhere)."""


def erasure_reply(words: Words, text: str, button: str | None, source: str, pending: bool) -> str | None:
    """Where a reply leaves a request to delete one's data: 'ask' (DELETE MY DATA: ask to
    confirm), 'confirmed' (YES to that question), 'cancelled' (anything else), or None
    (nothing to do with erasure). A voice note never confirms: the YES must be typed or tapped."""
    if pending:
        typed_yes = button is None and source == "text" and parse_yes_no(text) is True
        return "confirmed" if button == "yes" or typed_yes else "cancelled"
    if button is None and source != "voice" and words.command(text) == "erase":
        return "ask"
    return None


class Words:
    """The study's view of global words and built-in texts."""

    def __init__(self, study: Study | None = None) -> None:
        self.study = study
        self.default_language = study.default_language if study else "en"
        self.languages = study.languages if study else ["en", "cy"]
        self._lookup: dict[str, str] = {}
        self._texts: dict[tuple[str, str], str] = {}
        """Texts already resolved: a study's texts do not change once it is loaded."""
        for command, by_language in BUILT_IN_WORDS.items():
            for words in by_language.values():
                for word in words:
                    self._lookup[normalised_word(word)] = command
        if study:
            for command, by_language in study.words.items():
                for words in by_language.values():
                    for word in words:
                        self._lookup[normalised_word(word)] = command
        self._join_keywords = frozenset(
            normalised_word(route.keyword) for route in (study.join.all_routes() if study else ()) if route.keyword
        )
        self._languages = {
            normalised_word(word): code for code, words in LANGUAGE_WORDS.items() if code in self.languages for word in words
        }

    def command(self, text: str) -> str | None:
        """The global word a whole reply is, if any: 'STOP', 'stop.' or 'Stop!' all stop, and
        so do 'Stop please', 'stop it' and 'STOP STOP' (a global word said politely or twice:
        'please delete my data', 'go back please' too); 'stop making us wait' does not. A
        request in words to be sent nothing more is STOP too ('take me off your list',
        'gadewch lonydd i mi': :func:`asks_to_opt_out`), and so is saying the number is not theirs
        ('wrong number', 'rhif anghywir': :func:`wrong_number_language`)."""
        said = normalised_word(text)
        if not said:  # an empty message (a sticker, a photo alone) is no word; a bare '?' asks for HELP
            return "help" if "?" in text else None
        found = self._lookup.get(said)
        if found is None and " " in said:
            found = self._polite_command(said)
        if found is None and (asks_to_opt_out(said) or wrong_number_language(said)):  # 'stop texting me', 'wrong number'
            found = "stop"
        if found is None and asks_to_go_back(said):  # 'go back i made a mistake', 'can I go back', 'NOL'
            found = "back"
        return found

    def _polite_command(self, said: str) -> str | None:
        """A global phrase with polite words around it, or one global word said with polite
        words or more than once ('stop, stop please')."""
        for phrase in without_polite_words(said):
            if phrase in self._lookup:
                return self._lookup[phrase]
        words = {word for word in re.split(r"[\s,.!]+", said) if word and word not in POLITE}
        meanings = {self._lookup.get(word) for word in words}
        return meanings.pop() if len(meanings) == 1 else None

    def words_for(self, command: str) -> list[str]:
        """Every word (built-in and the study's) that means ``command``, normalised."""
        return [word for word, meaning in self._lookup.items() if meaning == command]

    def language_switch(self, text: str) -> str | None | bool:
        """A language code for 'CYMRAEG', 'Welsh please' or 'language cy'; True for a bare
        'LANGUAGE'; False for a language the study does not have ('language xx')."""
        clean = normalised_word(text)
        found = [self._switch(phrase) for phrase in (clean, *without_polite_words(clean))]
        chosen = next((switch for switch in found if switch is not None and switch is not False), None)
        return chosen if chosen is not None else (False if False in found else None)

    def _switch(self, clean: str) -> str | None | bool:
        if clean in self._languages:
            return self._languages[clean]
        parts = clean.split()
        if parts and parts[0] in LANGUAGE_COMMAND:
            if len(parts) == 1:
                return True
            wanted = parts[1]
            if wanted in self.languages:
                return wanted
            return self._languages.get(wanted, False)
        return None

    def is_join_keyword(self, text: str) -> bool:
        """Whether a whole reply is one of the study's join keywords ('WAIT', 'join wait'),
        as someone who is already taking part may text it again."""
        said = normalised_word(text)
        return said in self._join_keywords or (said.startswith("join ") and said[5:].strip() in self._join_keywords)

    def is_skip(self, text: str) -> bool:
        return normalised_word(text) in SKIP_WORDS

    def text(self, key: str, language: str) -> str:
        found = self._texts.get((key, language))
        if found is None:
            found = self._texts[(key, language)] = self._text(key, language)
        return found

    def worded_by_study(self, key: str) -> bool:
        """Whether the study gives a built-in text in its own words (under ``texts:``)."""
        return self.study is not None and key in self.study.texts

    def _text(self, key: str, language: str) -> str:
        if self.study and key in self.study.texts:
            return resolve_text(self.study.texts[key], language, self.default_language)
        built_in = BUILT_IN_TEXTS.get(key)
        if built_in is None:
            return key
        return resolve_text(built_in, language, "en")

    def language_choices(self, language: str, leaving_out: str | None = None) -> str:
        """What to reply for each of the study's languages (but ``leaving_out``), in
        ``language``: 'ENGLISH or CYMRAEG', or 'LANGUAGE PL' for a language with no word of its own."""
        replies = [self._language_reply(code) for code in self.languages if code != leaving_out]
        return listed(replies, self.text("or", language))

    def option_texts(self, language: str) -> OptionTexts:
        """How options read in ``language``, with the study's own texts where it has them."""
        return OptionTexts.of(lambda key: self.text(key, language))

    @staticmethod
    def _language_reply(code: str) -> str:
        words = LANGUAGE_WORDS.get(code)
        return words[0].upper() if words else f"{LANGUAGE_COMMAND[0].upper()} {code.upper()}"

    def language_offer(self, language: str) -> str:
        """Said when someone joins in ``language``: how to switch to each of the study's other
        languages, each said in that language ('Am Gymraeg, atebwch CYMRAEG.'), so Welsh is
        offered, in Welsh, to whoever joined by the English keyword. Empty in a study of one language."""
        offers = []
        for code in self.languages:
            if code != language:
                name = LANGUAGE_NAMES.get(code, {}).get(code)
                offer = self.text("help_language" if name else "help_languages", code)
                offers.append(offer.format(choices=self._language_reply(code), name=name))
        return " ".join(offers)

    def help(self, language: str) -> str:
        """HELP's reply: the study's own text if it has one; otherwise the built-in one, with
        how to switch language when the study has more than one."""
        if self.study and "help" in self.study.texts or len(self.languages) < 2:
            return self.text("help", language)
        others = [code for code in self.languages if code != language]
        name = LANGUAGE_NAMES.get(others[0], {}).get(language) if len(others) == 1 else None
        choices = self.language_choices(language, leaving_out=language)
        offer = self.text("help_languages", language) if name is None else self.text("help_language", language)
        return f"{self.text('help', language)} {offer.format(choices=choices, name=name)}"
