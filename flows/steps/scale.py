from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, model_validator

from flows.events import Button
from flows.model import Invalid, Text
from flows.parsing import (
    UNSURE_REPLIES,
    NumberReading,
    match_option,
    normalise,
    parse_number,
    read_number,
    says_only,
    scale_point,
    without_politeness,
)
from flows.steps import register
from flows.steps.base import Answer, InputStep, Prompt, Reply, StepContext, Unclear
from flows.steps.unsure import says_only_unsure, says_unsure


def _labels_by_language_schema(schema: dict[str, Any]) -> None:
    """Editors: labels may also be a list for each language (see :func:`labels_per_point`)."""
    by_language = {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                   "description": "a list for each language, e.g. {en: [Poor, Good], cy: [Gwael, Da]}"}
    schema["anyOf"] = [*schema.get("anyOf", []), by_language]


@register
class ScaleStep(InputStep):
    """A rating: a numeric range (1-9, 0-10) or a Likert scale given by its labels.

    ``labels`` is either a list (a Likert scale: the first label scores ``min``), a list
    for each language (``{en: [Poor, Good], cy: [Gwael, Da]}``, read as that list with one
    map of languages per point), or a map from some scores to their anchor text
    (``{1: Not important, 9: Critical}``).
    With ``unsure: true`` the participant may answer "unsure"; the answer is then ``None``.
    """

    type: Literal["scale"] = "scale"
    min: int | None = None
    max: int | None = None
    labels: list[Text] | dict[int, Text] | None = Field(default=None, json_schema_extra=_labels_by_language_schema)
    unsure: bool | Text = False

    @model_validator(mode="before")
    @classmethod
    def _range_from_labels(cls, data: Any) -> Any:
        if isinstance(data, dict) and by_language(data.get("labels")):
            data = {**data, "labels": labels_per_point(data["labels"])}
        if isinstance(data, dict) and isinstance(data.get("labels"), list):
            data = dict(data)
            data.setdefault("min", 1)
            data.setdefault("max", data["min"] + len(data["labels"]) - 1)
        return data

    @model_validator(mode="after")
    def _check_range(self) -> ScaleStep:
        if self.min is None or self.max is None:
            raise ValueError("a scale needs min and max (e.g. min: 1, max: 9) or a list of labels")
        if self.max <= self.min:
            raise Invalid(f"max ({self.max}) must be greater than min ({self.min})",
                          f"swap them: min: {self.max} and max: {self.min}" if self.max < self.min else "give a wider range",
                          ("max",))
        if self.max - self.min > 20:
            raise ValueError("a scale may have at most 21 points; use a number step for wider ranges")
        if isinstance(self.labels, list) and len(self.labels) != self.max - self.min + 1:
            raise ValueError(f"{len(self.labels)} labels for {self.max - self.min + 1} points from {self.min} to {self.max}; give one label per point")
        if isinstance(self.labels, dict):
            outside = [k for k in self.labels if not self.min <= k <= self.max]
            if outside:
                raise ValueError(f"label for {outside[0]} lies outside {self.min}-{self.max}")
        return self

    @property
    def low(self) -> int:
        assert self.min is not None
        return self.min

    @property
    def high(self) -> int:
        assert self.max is not None
        return self.max

    def texts(self) -> list[tuple[str, Text]]:
        found = super().texts()
        if isinstance(self.labels, list):
            found += [(f"labels[{i}]", label) for i, label in enumerate(self.labels)]
        elif isinstance(self.labels, dict):
            found += [(f"labels.{k}", label) for k, label in self.labels.items()]
        if isinstance(self.unsure, str | dict):
            found.append(("unsure", self.unsure))
        return found

    def point_labels(self, ctx: StepContext) -> dict[int, str]:
        if isinstance(self.labels, list):
            return {self.low + i: ctx.render(label) for i, label in enumerate(self.labels)}
        if isinstance(self.labels, dict):
            return {k: ctx.render(v) for k, v in self.labels.items()}
        return {}

    def unsure_label(self, ctx: StepContext) -> str:
        return ctx.render(self.unsure) if isinstance(self.unsure, str | dict) else ctx.words("unsure")

    def prompt(self, ctx: StepContext) -> Prompt:
        anchors = self.point_labels(ctx)
        text = ctx.render(self.text)
        if anchors and not isinstance(self.labels, list):
            text += "\n" + "\n".join(f"{n} = {label}" for n, label in sorted(anchors.items()))
        return Prompt(text, self._buttons(ctx, anchors))

    def _buttons(self, ctx: StepContext, anchors: dict[int, str]) -> tuple[Button, ...]:
        """A button for each point (its label on a scale labelled in a list, else its number), and 'unsure'."""
        likert = isinstance(self.labels, list)
        buttons = [Button(anchors[n] if likert else str(n), str(n)) for n in range(self.low, self.high + 1)]
        if self.unsure:
            buttons.append(Button(self.unsure_label(ctx), "unsure"))
        return tuple(buttons)

    @staticmethod
    def _says_unsure(text: str, label: str) -> bool:
        """Words only: a number is never 'unsure', even though it could name the unsure button,
        nor a place ('the last one' is the top of the scale): see :func:`flows.steps.unsure.says_unsure`."""
        return says_unsure(text, [label, *UNSURE_REPLIES])

    def _point_in_words(self, text: str, anchors: dict[int, str]) -> float | None:
        """A point named by its place ('the last one', 'the middle one'), by its label ('Good'),
        or on an agreement scale by how much the reply agrees ('agree' is 4 of 5)."""
        point = scale_point(text, self.low, self.high)
        if point is None and anchors:
            point = self._labelled_point(text, anchors)
        if point is None:
            point = agreement_point(text, self.low, self.high, self._agreement_ends())
        return None if point is None else float(point)

    def _labelled_point(self, text: str, anchors: dict[int, str]) -> int | None:
        """The point whose label a reply names. When every point has a label, the labels decide
        ('Good', 'good thanks', 'poor' for 'Poorly', and with hedges: 'pretty poor tbh'); when
        only some have, the reply must say a label's words and no others ('I strongly agree'),
        never a part of one: 'agree' is not 'Strongly agree' nor 'important' 'Not important', so
        it is not snapped to an end of the scale. No letters were shown for a scale, so 'a' names
        no point (it was 'Very poorly')."""
        labels = list(anchors.values())
        every_point = len(anchors) == self.high - self.low + 1
        if not every_point:
            index = match_option(text, [[label] for label in labels], letters=False)
            return list(anchors)[index] if index is not None and says_only(text, labels[index]) else None
        names = [[label, *adjectives(label)] for label in labels]
        index = match_option(text, names, letters=False)
        hedged = _tidy_words(LABEL_HEDGES.sub(" ", normalise(text)))
        if index is None and hedged and hedged != normalise(text):
            index = match_option(hedged, names, letters=False)
        return None if index is None else list(anchors)[index]

    def _agreement_ends(self) -> int:
        """1 for a scale from 'Strongly disagree' to 'Strongly agree' (in English or Welsh, in any of
        its languages), -1 for one the other way round, 0 for any other scale."""
        ends: tuple[Text | None, Text | None]
        if isinstance(self.labels, list):
            ends = (self.labels[0], self.labels[-1])
        elif isinstance(self.labels, dict):
            ends = (self.labels.get(self.low), self.labels.get(self.high))
        else:
            return 0
        low, high = (_texts(end) for end in ends)
        if low & STRONGLY_DISAGREE and high & STRONGLY_AGREE:
            return 1
        return -1 if low & STRONGLY_AGREE and high & STRONGLY_DISAGREE else 0

    def interpret(self, reply: Reply, ctx: StepContext) -> Answer | Unclear:
        unsure = self.unsure_label(ctx)
        value = float(reply.button) if reply.button and reply.button.lstrip("-").isdigit() else None
        anchors = self.point_labels(ctx)
        if self.unsure and reply.button is None and says_only_unsure(reply.text, [unsure, *UNSURE_REPLIES]):
            return Answer(None, unsure)  # before any number: 'dim syniad' (no idea) is no score of 0
        reading = self._typed_number(reply.text, ctx, anchors) if value is None and reply.button is None else None
        if reading is not None and reading.doubt == "other_unit":
            return Unclear(f"{ctx.words('hint_other_unit').format(said=reading.said)} {self._hint(ctx, unsure, anchors)}")
        if reading is not None:
            value = reading.value
        if self.unsure and value is None and (reply.button == "unsure" or self._says_unsure(reply.text, unsure)):
            return Answer(None, unsure)
        if value is None:
            value = self._point_in_words(reply.text, anchors)
        if value is None or not value.is_integer() or not self.low <= value <= self.high:
            return Unclear(self._hint(ctx, unsure, anchors))
        number = int(value)
        display = f"{number} ({anchors[number]})" if number in anchors and isinstance(self.labels, list) else str(number)
        return Answer(number, display, guessed=reading is not None and reading.doubt == "confirm")

    def _hint(self, ctx: StepContext, unsure: str, anchors: dict[int, str] | None = None) -> str:
        """How to answer: the range, 'unsure' where it is allowed, and where every point has a label
        (which a reply may name instead: 'not great' is asked again, 'pretty poor' is read), the
        end labels as examples, so that words are known to work. Where the points were buttons
        (:meth:`StepContext.tapped`), a tap first, and numbers only where the buttons showed them."""
        points = anchors if anchors is not None else self.point_labels(ctx)
        if self.unsure:
            key = "hint_scale_unsure"
        elif anchors and len(anchors) == self.high - self.low + 1:
            key = "hint_scale_words"
        else:
            key = "hint_scale"
        if ctx.tapped(self._buttons(ctx, points)):
            tap_key = self._tap_key(points)
            if not ctx.keeps_own_words(key, tap_key):
                return ctx.words(tap_key).format(low=self.low, high=self.high, unsure=unsure, first=points.get(self.low, ""),
                                                 last=points.get(self.high, ""))
        return ctx.words(key).format(low=self.low, high=self.high, unsure=unsure, first=points.get(self.low, ""),
                                     last=points.get(self.high, ""))

    def _tap_key(self, anchors: dict[int, str]) -> str:
        """The hint after buttons: of words ('Very poor' ... 'Very good', a scale labelled in a list),
        whose ends are named as what may be typed; otherwise of numbers, with 'unsure' where it is allowed."""
        if isinstance(self.labels, list) and len(anchors) == self.high - self.low + 1:
            return "hint_scale_words_tap"
        return "hint_scale_unsure_tap" if self.unsure else "hint_scale_tap"

    def _typed_number(self, text: str, ctx: StepContext, anchors: dict[int, str]) -> NumberReading | None:
        """The number a typed reply gives, and how sure that reading is: a number of hours is no
        rating, and one in a sentence that says more is checked first. The point's own label
        may go with it ('4, well')."""
        value = parse_number(text, out_of=self.high)
        if value is None:
            return None
        label = anchors.get(int(value), "") if value.is_integer() else ""
        return read_number(text, ctx.render(self.text), rating=True, own_words=label, out_of=self.high)


LABEL_HEDGES = re.compile(
    r"\b(?:pretty|fairly|rather|somewhat|a bit|a little|kind of|sort of|kinda|sorta|tbh|to be honest|honestly|tbf|"
    r"to be fair|overall|on the whole|mostly|generally|i'd say|i would say|i think|i guess|eithaf|braidd|a dweud y gwir)\b"
)
"""Words that soften a label without making it another point: 'pretty poor tbh' is 'Poor'
('really poor' and 'so poor' may be 'Very poor', so they stay unclear)."""


def adjectives(label: str) -> list[str]:
    """A label of adverbs as adjectives, the way people answer it: 'Very poorly' -> 'very poor'
    ('Well' and words like 'Likely', 'Easily' are left as they are)."""
    words = label.split()
    plain = [w[:-2] if len(w) > 4 and w.lower().endswith("ly") and not w.lower().endswith(("ely", "ily", "lly")) else w for w in words]
    return [" ".join(plain)] if plain != words else []


def _tidy_words(text: str) -> str:
    return " ".join(text.replace(",", " ").split())

STRONGLY_AGREE = frozenset({"strongly agree", "agree strongly", "cytuno'n gryf", "cytuno yn gryf"})
STRONGLY_DISAGREE = frozenset({"strongly disagree", "disagree strongly", "anghytuno'n gryf", "anghytuno yn gryf"})
"""The end labels of an agreement (Likert-type) scale, in English and Welsh."""
AGREEMENT_STEPS = {5: (1, 1, 2), 7: (1, 2, 3)}
"""Points from the middle for agreeing somewhat, plainly and strongly, on a scale of 5 or 7 points:
on 5 'agree' is 4 (as 'somewhat agree'), on 7 'somewhat agree' is 5 and 'agree' 6. Other sizes
have no one reading, so the words are asked again."""
SOMEWHAT, PLAINLY, STRONGLY = 0, 1, 2

_STRONG = r"strongly|completely|totally|fully|entirely|wholly|absolutely|100%"
_MILD = r"somewhat|slightly|partly|partially|mildly|tend to|a little|a bit|kind of|sort of|kinda|sorta"
_ENGLISH = re.compile(
    rf"(?:i'd |i would |i do |i )?(?:(?P<before>{_STRONG}|{_MILD}) )?"
    rf"(?P<verb>agree|agreed|disagree|disagreed|(?P<not>don'?t|do not) agree)(?: (?P<after>{_STRONG}|{_MILD}))?"
)
_WELSH = re.compile(
    r"(?:(?:rwy|rydw i|rwyf i|dw i|dwi|wi|yr wyf)(?:'n| yn) )?"
    r"(?:(?P<before>cwbl|hollol|llwyr|tueddu i|braidd yn) )?(?P<verb>cytuno|gytuno|anghytuno)"
    r"(?:(?:'n| yn) (?P<strong>gryf|gryf iawn|llwyr|hollol)| (?P<mild>rhywfaint|ychydig|i raddau|i ryw raddau|braidd))?"
)
_WELSH_NOT = re.compile(r"(?:(?:dydw i|dw i|dwi|wi|rwy|sa i|smo fi) )?(?:ddim|dim) yn cytuno")
_NEITHER = re.compile(
    r"neutral|neither|neither agree n?or disagree|neither nor|in between|niwtral|"
    r"(?:ddim|dim|nac) yn cytuno nac? (?:yn )?anghytuno"
)
_ABOUT_IT = re.compile(r" (?:with (?:this|that|it|the statement)|(?:a|â) (?:hynny|hyn))$")


def _texts(label: Text | None) -> set[str]:
    """A label in each of its languages, normalised."""
    if label is None:
        return set()
    return {normalise(label)} if isinstance(label, str) else {normalise(text) for text in label.values()}


def agreement(text: str) -> tuple[int, int] | None:
    """How a reply agrees: (1 agree, -1 disagree or 0 neither; :data:`SOMEWHAT`, :data:`PLAINLY`
    or :data:`STRONGLY`), in English or Welsh ('I tend to agree', 'disagree strongly', "cytuno'n
    gryf", 'ddim yn cytuno'); None for anything else ('agree and disagree', "don't strongly agree")."""
    said = _ABOUT_IT.sub("", without_politeness(text))
    if _NEITHER.fullmatch(said):
        return 0, PLAINLY
    if _WELSH_NOT.fullmatch(said):
        return -1, PLAINLY
    found = _ENGLISH.fullmatch(said)
    if found:
        before, after = found.group("before"), found.group("after")
        if (before and after) or (found.group("not") and (before or after)):
            return None
        degree = before or after
        strength = PLAINLY if not degree else STRONGLY if re.fullmatch(_STRONG, degree) else SOMEWHAT
        return (-1 if found.group("verb").startswith(("dis", "don", "do not")) else 1), strength
    found = _WELSH.fullmatch(said)
    if not found or (found.group("before") and (found.group("strong") or found.group("mild"))):
        return None
    before = found.group("before") or ""
    strength = STRONGLY if found.group("strong") or before in ("cwbl", "hollol", "llwyr") else (
        SOMEWHAT if found.group("mild") or before else PLAINLY)
    return (-1 if found.group("verb").startswith("ang") else 1), strength


def agreement_point(text: str, low: int, high: int, ends: int) -> int | None:
    """The point an agreeing reply names on an agreement scale of 5 or 7 points (``ends`` 1 when
    ``low`` is 'Strongly disagree', -1 when it is 'Strongly agree', 0 for no agreement scale)."""
    steps = AGREEMENT_STEPS.get(high - low + 1)
    said = agreement(text) if ends and steps else None
    if said is None or steps is None:
        return None
    direction, strength = said
    return (low + high) // 2 + direction * ends * steps[strength]


LABELS_EXAMPLE = "labels: {en: [Poor, Fair, Good], cy: [Gwael, Iawn, Da]}"


def _is_point(key: Any) -> bool:
    """A key that names a point of the scale: 1, -2 or '3'."""
    return isinstance(key, int) or (isinstance(key, str) and key.strip().lstrip("-").isdigit())


def by_language(labels: Any) -> bool:
    """Labels written as a map whose keys are all words (language codes), not points."""
    return isinstance(labels, dict) and bool(labels) and not any(_is_point(key) for key in labels)


def labels_per_point(labels: dict[Any, Any]) -> list[dict[str, Any]]:
    """``{en: [Poor, Good], cy: [Gwael, Da]}`` as ``[{en: Poor, cy: Gwael}, {en: Good, cy: Da}]``:
    the same scale written as one list per language. Each language needs a list, all as long."""
    for code, words in labels.items():
        if not isinstance(words, list):
            raise Invalid(
                f"labels.{code} should be a list with one label per point of the scale, not {_shape(words)}",
                f"write a list for each language, in the same order, e.g. '{LABELS_EXAMPLE}'; "
                "or one label per point: 'labels: [{en: Poor, cy: Gwael}, {en: Good, cy: Da}]'",
                ("labels", str(code)),
            )
    counts = {str(code): len(words) for code, words in labels.items()}
    first = next(iter(counts))
    for code, count in counts.items():
        if count != counts[first]:
            raise Invalid(
                f"labels.{code} has {count} labels but labels.{first} has {counts[first]}",
                "give every language one label per point of the scale, in the same order",
                ("labels", code),
            )
    return [{str(code): words[point] for code, words in labels.items()} for point in range(counts[first])]


def stored_labels(labels: Any) -> Any:
    """A scale's labels as a published flow stores them (its step as written): a list for
    each language as the list per point the step reads; anything else as it is. Never raises."""
    lists = by_language(labels) and all(isinstance(words, list) for words in labels.values())
    return labels_per_point(labels) if lists and len({len(words) for words in labels.values()}) == 1 else labels


def _shape(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return "one text"
    return "a mapping" if isinstance(value, dict) else repr(value)
