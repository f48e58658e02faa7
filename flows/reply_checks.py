"""Texts asking for replies that cannot be sent, or would not be read.

Voice notes offered where they cannot be sent: an open step takes voice notes (``accept``
lists voice, as it does by default), but SMS carries none: a text that says "or send a voice
note" would ask SMS participants for what their phone cannot send. The example study offers it only off SMS, with a template
condition on ``participant.channel`` (flows/examples/ae-waiting/understand.yaml); this warns
about a text that names voice notes outside such a condition, in a study that can be joined
by SMS (a keyword way in). A flow checked on its own is not warned about: its study's ways in
are not known.

Words a yes/no or consent step would not read: "Reply JOIN to take part" asks for a word that
is neither a yes or no the step understands (flows/parsing_yes_no.py reads YES, IE, YDW, AGREE,
NA, NAC YDW and many more) nor its buttons' words, so the participant who does as told is asked
again. Words it does read ("Atebwch IE neu NA" beside the buttons Ydw and Nac ydw) are fine.
"""

from __future__ import annotations

import re

from flows.loader import Marks, Problem, step_path
from flows.message_checks import sample
from flows.model import Flow, StepBase, Study, Text, resolve_text
from flows.steps.base import Answer, Reply, StepContext
from flows.steps.yesno import YesNoStep
from flows.translation_checks import language_names
from flows.words import Words

VOICE_WORDS = re.compile(
    r"\bvoice[\s-]*(?:notes?|messages?|memos?|recordings?|clips?)\b|\bvoicenotes?\b"
    r"|\baudio\s+(?:notes?|messages?|recordings?|clips?)\b"
    r"|\brecord\s+(?:a|an|your|yourself|it|one)\b"
    r"|\bneges(?:euon)?\s+l?lais\b|\bnod(?:yn|iadau)\s+llais\b|\brecordi(?:o|wch)\b",
    re.IGNORECASE,
)
"""English and Welsh ways to offer a voice note: 'send a voice note', 'record your answer',
'anfonwch neges llais' (or 'neges lais', its mutated form), 'nodyn llais', 'recordiwch'."""

_TAG = re.compile(r"\{%-?\s*(if|elif|else|endif)\b(.*?)-?%\}|\{\{.*?\}\}|\{#.*?#\}", re.DOTALL)
_CHANNEL = re.compile(r"\bchannel\b")

EXAMPLE = "{% if participant.channel != 'sms' %} Type, or send a voice note.{% endif %}"


def offered_off_sms(source: str) -> str | None:
    """The first words in ``source`` offering a voice note outside a template condition on
    the channel (None when there are none). Every branch of an ``if`` whose condition, or an
    earlier ``elif``'s, reads ``participant.channel`` counts as such a condition."""
    aware: list[bool] = []  # per open {% if %}: whether this branch turns on the channel
    start = 0
    for tag in _TAG.finditer(source):
        found = _named(source[start : tag.start()], aware)
        if found:
            return found
        start = tag.end()
        keyword, condition = tag.group(1), tag.group(2) or ""
        if keyword == "if":
            aware.append(bool(_CHANNEL.search(condition)))
        elif keyword == "elif" and aware:
            aware[-1] = aware[-1] or bool(_CHANNEL.search(condition))
        elif keyword == "endif" and aware:
            aware.pop()
        elif tag.group().startswith("{{") and not _CHANNEL.search(tag.group()):
            found = _named(tag.group(), aware)  # {{ 'or send a voice note' if ... }}; not {# a note #}
            if found:
                return found
    return _named(source[start:], aware)


def _named(part: str, aware: list[bool]) -> str | None:
    match = None if any(aware) else VOICE_WORDS.search(part)
    return match.group() if match else None


def reachable_by_sms(study: Study | None) -> bool:
    """Whether SMS participants may meet the study's flows: it has a keyword way in (keywords
    are texted, by SMS or WhatsApp; a study reached only through Telegram links has none)."""
    return study is not None and any(route.keyword for route in study.join.all_routes())


def voice_offered_on_sms(flow: Flow, marks: Marks, study: Study | None) -> list[Problem]:
    """A warning for each text of a step taking voice notes that offers them to SMS
    participants too."""
    if not reachable_by_sms(study):
        return []
    problems: list[Problem] = []
    for index, step in enumerate(flow.steps):
        if "voice" not in (getattr(step, "accept", None) or []):
            continue
        for name, text in step.texts():
            for language, source in _variants(text):
                said = offered_off_sms(source)
                if said is None:
                    continue
                path = step_path(index, name, *((language,) if language else ()))
                where = f"the {language_names([language])} '{name}'" if language else f"the '{name}'"
                problems.append(marks.problem(
                    marks.find(path, said),
                    f"{where} of step '{step.id}' offers a voice note (\"{said}\"), "
                    "but SMS participants cannot send one",
                    f"offer it on the other channels only, as the example study does: \"{EXAMPLE}\"",
                    "warning",
                ))
    return problems


def _variants(text: Text) -> list[tuple[str, str]]:
    """(language, source) of a text; the language is '' for a plain string."""
    return list(text.items()) if isinstance(text, dict) else [("", text)]


# ----------------------------------------------------------------------------- yes/no words

_CAPS = "A-ZÂÊÎÔÛŴŶÁÉÍÓÚẂÝÀÈÌÒÙẀỲÄËÏÖÜẄŸ"
_ASKED = (
    rf"(?:[\"“‘']([^\"”’'\n]{{1,30}})[\"”’']"  # a quoted word: 'reply "yes"'
    rf"|\b([{_CAPS}]+(?:[ -][{_CAPS}]{{2,}})*)\b(?![a-zâêîôûŵŷ]))"  # capitals: 'reply NAC YDW'
)
_REPLY_VERB = re.compile(
    r"(?i:\b(?:reply|answer|respond|text|send|type|say|write|tap|press|atebwch|ateb|anfonwch|teipiwch|"
    r"ysgrifennwch|dywedwch|tecstiwch|pwyswch))\s+(?i:(?:with|either|just|gyda|â|naill\s+ai)\s+)?" + _ASKED
)
_OR = re.compile(r"(?i:\b(?:or|neu)\s+)" + _ASKED)


def asked_words(text: str) -> list[str]:
    """The words a text tells participants to reply: a quoted word or one in capitals after
    'reply', 'answer', 'send'... ('atebwch', 'anfonwch'...), and each one after a later 'or'
    ('neu') on the same line: 'Reply YES to take part or NO' -> ['YES', 'NO']."""
    found: list[str] = []
    for line in text.splitlines():
        first = _REPLY_VERB.search(line)
        if first is None:
            continue
        found.append(first.group(1) or first.group(2))
        for match in _REPLY_VERB.finditer(line, first.end()):
            found.append(match.group(1) or match.group(2))
        found += [match.group(1) or match.group(2) for match in _OR.finditer(line, first.end())]
    return list(dict.fromkeys(word.strip() for word in found if word.strip()))


def understood(step: YesNoStep, word: str, ctx: StepContext, words: Words) -> bool:
    """Whether ``word``, replied at ``step``, is read: as its yes or no (the engine's own
    reading, buttons' words included) or as a global word (STOP, HELP, CYMRAEG, SKIP...)."""
    if words.command(word) or words.language_switch(word) or words.is_join_keyword(word):
        return True
    if step.skip and words.is_skip(word):
        return True
    return isinstance(step.interpret(Reply(word), ctx), Answer)


def unread_yes_no_words(flow: Flow, marks: Marks, languages: list[str], words: Words) -> list[Problem]:
    """A warning for each word a yes/no or consent step's text (or retry) asks for that the
    step would not read."""
    problems: list[Problem] = []
    default = languages[0] if languages else "en"
    for index, step in enumerate(flow.steps):
        if not isinstance(step, YesNoStep):
            continue
        for language in languages or [default]:
            ctx = _context(language, default, words)
            buttons = [button.label for button in step.prompt(ctx).buttons]
            for name in ("text", "retry"):
                text: Text | None = getattr(step, name)
                if text is None:
                    continue
                for word in asked_words(sample(resolve_text(text, language, default))):
                    if not understood(step, word, ctx, words):
                        problems.append(_unread(step, index, name, text, language, word, buttons, marks))
    return problems


def _context(language: str, default: str, words: Words) -> StepContext:
    def render(text: Text | None) -> str:
        return sample(resolve_text(text, language, default))

    return StepContext(language, default, render, lambda key: words.text(key, language))


def _unread(
    step: StepBase, index: int, name: str, text: Text, language: str, word: str, buttons: list[str], marks: Marks
) -> Problem:
    written_in = (language,) if isinstance(text, dict) and language in text else ()
    where = f"the {language_names([language])} '{name}'" if written_in else f"the '{name}'"
    kind = "consent step" if step.type == "consent" else "yes/no step"
    shown = " and ".join(f"'{label}'" for label in buttons)
    return marks.problem(
        marks.find(step_path(index, name, *written_in), word),
        f"{where} of {kind} '{step.id}' asks participants to reply \"{word}\", "
        "which the step does not read as yes or no, so they would be asked again",
        f"ask for its buttons' words ({shown}) or another yes or no (YES, NO, IE, NA...), "
        "or set yes_label and no_label to the words the text asks for",
        "warning",
    )
