"""Warnings about messages as the participant will see them: SMS segments, buttons and
reading level; and options with nothing to show, an error.

Each step's prompt is built the way the engine builds it (the step's own ``prompt()``,
then the skip hint), in every language, and then laid out for SMS as options are sent.
A many-item step sends a prompt per item: each Delphi item and each statement is counted.
Template parts (``{{ participant.name }}``) count as :data:`TEMPLATE_STAND_IN`, a typical
first name or short answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from flows.events import Button
from flows.loader import LoadedFlow, Marks, Problem, YamlPath, field_path, step_path
from flows.model import Flow, Option, StepBase, Text, resolve_text
from flows.readability import MAX_GRADE, too_hard
from flows.said_once import with_skip_hint
from flows.sms import (
    LOOKALIKES,
    avoidable_characters,
    count_segments,
    describe_char,
    gsm7_reply_words,
    native_letters,
    segments_as_gsm7,
    sms_text,
    word_with,
)
from flows.steps.base import InputStep, StepContext
from flows.steps.choice_experiment import ChoiceExperimentStep
from flows.steps.delphi import DelphiStep
from flows.steps.statements import StatementsStep
from flows.translation_checks import items_from_file, language_names
from flows.words import BUILT_IN_TEXTS, Words

TEMPLATE_STAND_IN = "Alexandra"
_PARSER = ImmutableSandboxedEnvironment(autoescape=False, keep_trailing_newline=True)
_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)

TELEGRAM_BUTTONS = 8
"""Telegram allows up to 100 inline buttons, but past about 8 a stacked keyboard hides the
question on a phone screen."""
WHATSAPP_LIST_ROWS = 10
"""WhatsApp shows 3 options as quick-reply buttons and at most 10 in a list; more are sent
as numbered text."""
SEPARATE_MESSAGES = ("retry", "declined", "submitted_text")
"""Text fields sent as messages of their own, besides the prompt."""
OWN_LETTERS_SEGMENTS = 2
"""A text that fits one GSM-7 segment but needs UCS-2 for its language's own letters (Welsh
ŵ) may take this many before a warning: most Welsh sentences over 70 characters do, and
the letters are right. Past it, or when the text is long even in GSM-7, the warning names them."""
LETTERS_NAMED = 3
"""How many such letters a warning names (each with a word it is in)."""


def sample(source: str) -> str:
    """A text with every word it may hold: template parts replaced by a typical value."""
    return _TEMPLATE.sub(TEMPLATE_STAND_IN, source)


def longest_reading(source: str) -> str:
    """A text as the participant who gets the most of it is sent it: of each ``{% if %}``'s
    branches only the longest (a text worded per group is one group's words, not all of
    them), values filled in by :data:`TEMPLATE_STAND_IN`. A text Jinja cannot read is
    :func:`sample`'d."""
    if "{%" not in source:
        return sample(source)
    try:
        return _longest(_PARSER.parse(source).body)
    except Exception:  # (a syntax error: reported by the template checks)
        return sample(source)


def _longest(body: list[nodes.Node]) -> str:
    parts: list[str] = []
    for node in body:
        if isinstance(node, nodes.Output):
            parts += [child.data if isinstance(child, nodes.TemplateData) else TEMPLATE_STAND_IN for child in node.nodes]
        elif isinstance(node, nodes.If):
            branches = [node.body, *(other.body for other in node.elif_), node.else_]
            parts.append(max((_longest(branch) for branch in branches), key=len))
        elif isinstance(getattr(node, "body", None), list):  # a {% for %} or {% with %}: its words once
            parts.append(_longest(node.body))  # type: ignore[attr-defined]
    return "".join(parts)


def composed_prompt(
    step: StepBase, language: str, default: str, words: Words, data: dict[str, Any] | None = None
) -> tuple[str, list[Button], bool]:
    """The prompt text (with the skip hint), its options' buttons and whether several may be
    picked; ``data``: the step's working data (which item it is on)."""

    def render(text: Text | None) -> str:
        return longest_reading(resolve_text(text, language, default))

    ctx = StepContext(language, default, render, lambda key: words.text(key, language), data=dict(data or {}))
    if isinstance(step, InputStep):
        prompt = step.prompt(ctx)
        text, buttons, multiple = prompt.text, list(prompt.buttons), prompt.multiple
    else:
        text, buttons, multiple = render(step.text), [], False
    if step.skip:
        own = step.skip if isinstance(step.skip, str | dict) else None
        text = with_skip_hint(text, render(own) if own else words.text("skip_hint", language), own is not None)
    return text, buttons, multiple


class _NotingWords(Words):
    """The study's words, noting the built-in texts (those the study has not overridden
    under ``texts:``) a prompt is made with, so a warning can name the ones to override."""

    def __init__(self, words: Words) -> None:
        super().__init__(words.study)
        self.built_in: dict[str, str] = {}

    def text(self, key: str, language: str) -> str:
        found = super().text(key, language)
        if key in BUILT_IN_TEXTS and not (self.study is not None and key in self.study.texts) and found.strip():
            self.built_in[key] = found
        return found


DCE_SHORTEN = ("a choice task goes as one message, with every level of its alternatives: shorten the question or "
               "the levels' labels ('2 wks', '1 mile'), or use fewer attributes")
"""A choice experiment's task is one message: splitting the step is no fix."""

BUILT_IN_NAMED = 3
"""How many built-in texts a warning names for the study to override."""


def _pieces(value: str) -> list[str]:
    """The fixed words of a built-in text (a format's words between its ``{fields}``)."""
    return [part.strip() for part in re.split(r"\{[^}]*\}", value) if len(part.strip()) >= 3]


def _own_words(text: str, built_in: dict[str, str]) -> tuple[dict[str, str], str]:
    """The built-in texts ``text`` holds (key: value), and ``text`` without them: the flow's own words."""
    used = {key: value for key, value in built_in.items() if _pieces(value) and all(
        re.search(re.escape(piece), text, re.IGNORECASE) for piece in _pieces(value))}
    own = text
    for piece in sorted((piece for value in used.values() for piece in _pieces(value)), key=len, reverse=True):
        own = re.sub(re.escape(piece), "", own, flags=re.IGNORECASE)
    return used, own


def _built_in_hint(text: str, built_in: dict[str, str]) -> str | None:
    """When the flow's own words would fit one segment and the built-in texts in ``text`` make
    it longer (or bring the letters that force UCS-2): the ``texts:`` keys to override."""
    used, own = _own_words(text, built_in)
    if not used or count_segments(own).segments > 1:
        return None
    wider = {char for char in set(text) - set(own) if count_segments(char).encoding != "GSM-7"}  # (letters GSM-7 lacks)
    blamed = sorted(used, key=lambda key: (not wider & set(used[key] + used[key].upper()), -len(used[key])))
    named = ", ".join(f"'{key}'" for key in blamed[:BUILT_IN_NAMED])
    return (f"the flow's own words fit one segment; Chorus's built-in wording makes it longer: to shorten it, override "
            f"{named} under 'texts:' in study.yaml ('chorus texts' prints them)")


def _segments(
    text: str, language: str, place: tuple[int, int], what: str, marks: Marks, built_in: dict[str, str] | None = None,
    shorten: str = "shorten it, or split it over two steps",
) -> list[Problem]:
    """More than one segment. Where only the language's own letters force UCS-2 (Welsh ŵ),
    they are named but never blamed: writing them is right, so the hint is to shorten, and
    up to :data:`OWN_LETTERS_SEGMENTS` of a text that would fit one in GSM-7 is their price,
    when the flow's own words hold them. Where the built-in texts (``built_in``: an option
    such as Welsh 'Ddim yn siŵr', a hint) make it long or bring those letters, the hint names
    them instead."""
    text = gsm7_reply_words(text)  # as the SMS goes (channels/twilio.py)
    count = count_segments(text)
    if count.segments <= 1:
        return []
    avoidable, own = avoidable_characters(text, language), native_letters(text, language)
    written = native_letters(_own_words(text, built_in or {})[1], language)
    if written and not avoidable and count.segments <= OWN_LETTERS_SEGMENTS and segments_as_gsm7(text) <= 1:
        return []
    unit = "characters" if count.encoding == "GSM-7" else "UTF-16 units"
    message = (
        f"{what} takes {count.segments} SMS segments ({count.units} {unit} in {count.encoding})"
    )
    hint = shorten
    if avoidable:
        char = avoidable[0]
        message += f"; {describe_char(char)} forces UCS-2, which fits 70 characters a segment instead of 160"
        if char in LOOKALIKES:
            hint = f"replace {describe_char(char)} with {LOOKALIKES[char]}"
        else:
            hint = f"remove {describe_char(char)}, or shorten the text"
    if own:
        listed, one = _own_letters(text, own)
        name = language_names([language])
        if avoidable:
            message += f"; so {'does' if one else 'do'} {listed}, {'a ' if one else ''}{name} letter{'' if one else 's'}"
            hint += f"; the {name} letters still need UCS-2, so only a shorter text takes fewer segments"
        else:
            message += (f"; {listed}, {'a ' if one else ''}{name} letter{'' if one else 's'}, force{'s' if one else ''} UCS-2, "
                        "which fits 70 characters a segment instead of 160")
            hint += f"; keep the {name} letters: they are right"
    if count.encoding == "UCS-2":
        message += _ucs2_cost(count.segments, segments_as_gsm7(text))
    return [marks.problem(place, message, _built_in_hint(text, built_in or {}) or hint, "warning")]


def _ucs2_cost(segments: int, in_gsm7: int) -> str:
    """What UCS-2 costs this message: ", so it takes 3 segments instead of 1", or nothing when
    it would take as many in GSM-7."""
    return f", so it takes {segments} segments instead of {in_gsm7}" if in_gsm7 < segments else ""


def _own_letters(text: str, letters: list[str]) -> tuple[str, bool]:
    """"ŵ in 'dŵr'" or "ŵ in 'dŵr' and â in 'â'", and whether it names one letter."""
    named = [f"{char} in '{word_with(text, char)}'" for char in letters[:LETTERS_NAMED]]
    if len(letters) > LETTERS_NAMED:
        named.append(f"{len(letters) - LETTERS_NAMED} more")
    return (named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]), len(named) == 1


def _prompt_states(step: StepBase, index: int, marks: Marks) -> list[tuple[str, YamlPath, dict[str, Any]]]:
    """Each prompt the step can send, as (what it is, where its words are written, the step's
    data that makes it): one per Delphi item (the first under the step's text) and its "why?";
    a statements step's first (under its text) and each statement as shown after it; one
    prompt for any other step (a pairwise step's first pair, a choice experiment's first task)."""
    if isinstance(step, DelphiStep):
        ids = [item.id for item in step.items]
        place: tuple[str, ...] = ("items_file",) if items_from_file(step, index, marks) else ()
        states = [(f"item {n + 1} of step '{step.id}'", place or ("items", str(n), "text"), {"queue": ids, "scores": dict.fromkeys(ids[:n])})
                  for n in range(len(ids))]
        reason = ("reason_text",) if step.reason_text is not None else ("ask_reason",)
        return states + ([(f"the reason question of step '{step.id}'", reason, {"await": "reason"})] if step.ask_reason else [])
    if isinstance(step, StatementsStep):  # (after the first: which comes first is drawn)
        later = [(f"statement {n + 1} of step '{step.id}'", ("statements", str(n), "text"), {"current": item.id, "seen": [""]})
                 for n, item in enumerate(step.statements)]
        return [(f"step '{step.id}'", ("text",), {}), *later]
    return [(f"step '{step.id}'", ("text",), {})]


def _first_message_step(flow: Flow) -> int | None:
    """The index of the step whose message a conversation in ``flow`` starts with (the first
    question, or a message step's text before it), as the engine enters it; None when a
    condition decides which it is."""
    index, seen = 0, set()
    while 0 <= index < len(flow.steps) and index not in seen:
        step = flow.steps[index]
        if isinstance(step, InputStep) or step.text is not None:
            return index
        rules = step.next_rules()
        if rules and rules[0].when is not None:
            return None
        seen.add(index)
        index = flow.index(rules[0].goto) if rules and rules[0].goto in flow.step_ids() else index + 1
    return None


def join_offer(flow: Flow, words: Words, language: str) -> str:
    """What the engine adds to the first message of ``flow`` for someone joining in ``language``
    by a way in that names no language (flows/engine.py ``offer_languages``): how to switch to
    each of the study's other languages ('Am Gymraeg, atebwch CYMRAEG.'). Empty when ``flow`` is
    no such way in, or the study has one language, or ``language`` is not the study's first:
    such a way in starts in that one, but for someone who chose another in another study."""
    study = words.study
    if study is None or language != study.default_language:
        return ""
    ways_in = [route.flow or study.join.start_flow for route in study.join.all_routes() if route.language is None]
    return words.language_offer(language) if flow.flow in ways_in else ""


def _buttons(
    step: StepBase, labels: list[str], place: tuple[int, int], marks: Marks
) -> list[Problem]:
    """Too many options to tap. Numbers (a 0-10 scale) are not counted: they are typed."""
    named = [label for label in labels if not label.strip().isdigit()]
    if len(named) <= TELEGRAM_BUTTONS:
        return []
    where = (
        "WhatsApp will send them as numbered text"
        if len(named) > WHATSAPP_LIST_ROWS
        else "WhatsApp shows them as a list, not buttons"
    )
    message = f"step '{step.id}' has {len(named)} options: more than Telegram shows comfortably as buttons ({TELEGRAM_BUTTONS}); {where}"
    return [marks.problem(place, message, "split the question or group the options", "warning")]


def _stop_words(
    step: StepBase, buttons: list[Button], language: str, place: tuple[int, int], words: Words, marks: Marks
) -> list[Problem]:
    """An option that is also a STOP word: typing it opts the participant out (on every
    channel; the providers stop delivering after it too). Other global words (BACK, LATER,
    a language) are fine: typed word for word, the question's own option wins."""
    problems = []
    for button in buttons:
        for said, what in ((button.label, f"the {language} label"), (button.value, "the value")):
            if words.command(said) == "stop" and (what != "the value" or language == words.default_language):
                message = (f"{what} '{said}' of an option of step '{step.id}' is also a STOP word: a participant "
                           "who types it is opted out of every message")
                problems.append(marks.problem(place, message, "reword it", "warning"))
                break
    return problems


def _readability(
    step: StepBase, path_of: Callable[[str], YamlPath], english: list[str], marks: Marks
) -> list[Problem]:
    problems: list[Problem] = []
    for name, text in step.texts():
        for code in english:
            source = text if isinstance(text, str) else text.get(code)
            if source is None:
                continue
            reading = too_hard(source)
            if reading is not None:
                where = path_of(name) + ((code,) if isinstance(text, dict) else ())
                message = f"'{name}' of step '{step.id}' reads at US grade {reading.grade:.1f} (Flesch-Kincaid), above {MAX_GRADE:g}"
                problems.append(
                    marks.problem(
                        marks.value(where),
                        message,
                        "use shorter sentences and everyday words",
                        "warning",
                    )
                )
    return problems


def message_warnings(flow: Flow, marks: Marks, languages: list[str], words: Words, sms: bool = True) -> list[Problem]:
    """SMS, button and reading-level warnings for every step in every language; no SMS ones
    when ``sms`` is False (a study reached only through Telegram links)."""
    default = languages[0]
    english = [code for code in languages if code == "en" or code.startswith("en-")]
    problems: list[Problem] = []
    words = _NotingWords(words)
    first = _first_message_step(flow)
    for index, step in enumerate(flow.steps):

        def path_of(name: str, index: int = index) -> YamlPath:
            return step_path(index, *field_path(name))

        for language in languages:
            for number, (what, rest, data) in enumerate(_prompt_states(step, index, marks)):
                words.built_in = {}
                try:
                    text, buttons, multiple = composed_prompt(step, language, default, words, data)
                except Exception:  # a step type whose prompt needs more than a sample; skip it
                    continue
                if number == 0:
                    labels = [button.label for button in buttons]
                    problems += _stop_words(step, buttons, language, marks.key(path_of("options")), words, marks)
                    if language == default:
                        problems += _buttons(step, labels, marks.key(path_of("options")), marks)
                if not sms:
                    continue
                written = marks.values.get(step_path(index, *rest, language)) is not None
                offer = join_offer(flow, words, language) if index == first and number == 0 else ""
                if offer:  # sent together with the prompt when someone joins (flows/engine.py)
                    text = f"{text}\n\n{offer}"
                    what += f", with the offer of {language_names([c for c in languages if c != language])} it ends with at joining,"
                problems += _segments(
                    sms_text(text, buttons, multiple, words.option_texts(language)),
                    language,
                    marks.value(step_path(index, *rest, *((language,) if written else ()))),
                    f"on SMS, the {language_names([language])} prompt of {what}",
                    marks,
                    words.built_in,
                    DCE_SHORTEN if isinstance(step, ChoiceExperimentStep) else "shorten it, or split it over two steps",
                )
            for name, value in step.texts():
                if sms and name in SEPARATE_MESSAGES:
                    place = marks.value(
                        path_of(name) + ((language,) if isinstance(value, dict) else ())
                    )
                    problems += _segments(
                        longest_reading(resolve_text(value, language, default)),
                        language,
                        place,
                        f"on SMS, the {language_names([language])} '{name}' of step '{step.id}'",
                        marks,
                    )
        problems += _readability(step, path_of, english, marks)
    return problems


def _raw_options(raw: dict[str, Any], index: int) -> list[Any]:
    steps = raw.get("steps")
    step = steps[index] if isinstance(steps, list) and index < len(steps) else None
    options = step.get("options") if isinstance(step, dict) else None
    return options if isinstance(options, list) else []


def _blank(text: Text | None, languages: list[str]) -> bool:
    """Whether a label shows nothing. A map of languages is left to the translation checks
    when the study's languages are known (they name the empty language)."""
    if isinstance(text, dict):
        return not languages and not any(str(value).strip() for value in text.values())
    return text is not None and not text.strip()


def _option_problem(
    step: StepBase, number: int, option: Option, written_as_map: bool, languages: list[str]
) -> tuple[YamlPath, str, str] | None:
    """What is wrong with how one option shows (where, what, the fix); None if nothing."""
    place: YamlPath = ("options", str(number))
    nothing = "write the words participants should see"
    if option.label is None and not option.value.strip():
        message = f"option {number + 1} of step '{step.id}' is empty: participants would see a blank option"
        return (*place, "value"), message, f"{nothing}, or remove the option"
    if _blank(option.label, languages):
        message = f"the label of option '{option.value}' of step '{step.id}' is empty: participants would see a blank option"
        return (*place, "label"), message, f"{nothing}, or remove 'label:' to show '{option.value}'"
    if option.label is None and written_as_map:
        message = (
            f"option '{option.value}' of step '{step.id}' has a value but no label, "
            f"so participants would see '{option.value}'"
        )
        hint = f"add 'label:' with the words to show, or write the option as plain text ('- {option.value}') if those are the words"
        return (*place, "value"), message, hint
    return None


def blank_options(loaded: LoadedFlow, marks: Marks, languages: list[str]) -> list[Problem]:
    """Options with nothing meant for people to see: an empty option or label, or a
    ``value`` (a code such as ``very_good``) written without its ``label``."""
    problems: list[Problem] = []
    for index, step in enumerate(loaded.flow.steps):
        options = getattr(step, "options", None)
        if not isinstance(options, list):
            continue
        written = _raw_options(loaded.raw, index)
        for number, option in enumerate(options):
            if not isinstance(option, Option):
                continue
            as_map = number < len(written) and isinstance(written[number], dict)
            found = _option_problem(step, number, option, as_map, languages)
            if found is not None:
                path, message, hint = found
                problems.append(marks.problem(marks.value(step_path(index, *path)), message, hint))
    return problems
