"""The coordinator's language: study files and flow files as typed models.

Step types live in :mod:`flows.steps`, one module each, and register themselves
by their ``type`` string; :class:`Flow` dispatches each step to its model
through that registry, so a new step type never touches this file.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Text = str | dict[str, str]
"""Every participant-facing text: a plain string, or a map of language code to string."""

_DURATION = re.compile(r"^\s*(?:(\d+)\s*w)?\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*(?:(\d+)\s*s)?\s*$")
_DATE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
RETENTION_KEYS = ("audio", "messages", "participants")
STEP_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
ENROLMENT_WORDS = ("enrolment", "enrollment", "enrolled", "join", "joined")
"""What ``relative_to`` may say to count from the day a participant joined (the default).
The same words as bot/planning.py's, which counts from them."""


class Invalid(ValueError):
    """A mistake in a study or flow file, with a hint that says the fix.

    Raised from a validator: ``chorus validate`` shows the message with ``hint`` in
    brackets, and points at ``at`` (a path of keys below the place pydantic names, such as
    ``("max",)`` from a model validator) when it is given."""

    def __init__(self, message: str, hint: str = "", at: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.hint, self.at = hint, at


def parse_duration(value: str | int | float | timedelta) -> timedelta:
    """'28d', '2h30m', '1w', or a number of seconds, as a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float):
        return timedelta(seconds=float(value))
    match = _DURATION.match(value)
    if not match or not any(match.groups()):
        raise ValueError(f"'{value}' is not a duration; write it like 30m, 2h, 28d or 1w")
    weeks, days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class TimeWindow(Strict):
    """A daily window such as 09:00-19:00; it may wrap past midnight (21:00-08:00)."""

    start: time
    end: time

    @classmethod
    def parse(cls, value: str) -> TimeWindow:
        match = _WINDOW.match(value)
        if not match:
            raise ValueError(f"'{value}' is not a time window; write it like 09:00-19:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValueError(f"'{value}' has an impossible time; hours run 00-23, minutes 00-59")
        if (h1, m1) == (h2, m2):
            raise Invalid(
                f"'{value}' starts and ends at {h1:02d}:{m1:02d}, so no time lies inside it",
                f"give the time it ends, e.g. '{h1:02d}:{m1:02d}-{(h1 + 8) % 24:02d}:{m1:02d}'",
            )
        return cls(start=time(h1, m1), end=time(h2, m2))

    def contains(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def _window(value: Any) -> Any:
    return TimeWindow.parse(value) if isinstance(value, str) else value


def _duration(value: Any) -> Any:
    if isinstance(value, bool):
        raise Invalid(f"{str(value).lower()} is not a duration", "write it like 30m, 2h, 28d or 1w")
    return parse_duration(value) if isinstance(value, str | int | float) else value


# --------------------------------------------------------------------------- flows


class NextRule(Strict):
    """``{if: <expression>, goto: <step id>}``; without ``if`` it always applies."""

    when: str | None = Field(default=None, alias="if")
    goto: str


class Option(Strict):
    value: str
    label: Text | None = None
    exclusive: bool = Field(default=False, description=(
        "goes alone: at a multiple choice, 'None of these' or 'Don't know' picked with another option is asked again"))
    """An option that cannot be picked together with others at a multiple choice ("None of these",
    "Don't know"): a reply that does is asked again (flows/steps/choice.py), and Telegram's ticks
    of it and of the others clear each other (bot/tap_checks.py). Means nothing elsewhere, which
    ``chorus validate`` says (flows/exclusive_checks.py)."""

    def text(self, language: str, fallback: str) -> str:
        return resolve_text(self.label, language, fallback) if self.label is not None else self.value


class StepBase(Strict):
    """Fields every step type shares."""

    id: str
    type: str
    text: Text | None = None
    next: list[NextRule] | str | None = None
    save_to: str | None = None
    skip: bool | Text = False
    retry: Text | None = None
    max_tries: int = Field(default=3, ge=1, le=10)
    on_max_tries: Literal["skip", "flag", "end"] = "skip"
    timeout: timedelta | None = None
    on_timeout: str | None = None

    waits_for_input: ClassVar[bool] = True
    """Whether the engine waits for a reply after prompting."""

    _v_timeout = field_validator("timeout", mode="before")(_duration)

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not STEP_ID.match(value):
            raise ValueError(f"step id '{value}' must start with a letter and use only letters, digits, _ and -")
        return value

    @field_validator("next", mode="before")
    @classmethod
    def _next_rules(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return [value]
        return value

    def next_rules(self) -> list[NextRule]:
        if self.next is None:
            return []
        if isinstance(self.next, str):
            return [NextRule(goto=self.next)]
        return list(self.next)

    def texts(self) -> list[tuple[str, Text]]:
        """Every participant-facing text of the step, named by its field."""
        found: list[tuple[str, Text]] = []
        for name in ("text", "retry"):
            value = getattr(self, name)
            if value is not None:
                found.append((name, value))
        if isinstance(self.skip, str | dict):
            found.append(("skip", self.skip))
        return found


class Flow(Strict):
    flow: str
    title: Text | None = None
    description: str | None = None
    languages: list[str] | None = None
    steps: list[StepBase] = Field(min_length=1)

    @field_validator("steps", mode="before")
    @classmethod
    def _dispatch_steps(cls, value: Any) -> Any:
        from flows.steps import step_model

        if not isinstance(value, list):
            return value
        parsed: list[Any] = []
        for raw in value:
            if isinstance(raw, dict) and isinstance(raw.get("type"), str):
                parsed.append(step_model(raw["type"]).model_validate(raw))
            else:
                parsed.append(raw)
        return parsed

    @model_validator(mode="after")
    def _unique_ids(self) -> Flow:
        seen: set[str] = set()
        for step in self.steps:
            if step.id in seen:
                raise ValueError(f"two steps share the id '{step.id}'; give each step its own id")
            seen.add(step.id)
        return self

    def step(self, step_id: str) -> StepBase:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def step_ids(self) -> list[str]:
        return [step.id for step in self.steps]

    def index(self, step_id: str) -> int:
        return self.step_ids().index(step_id)


# --------------------------------------------------------------------------- studies


class Group(Strict):
    id: str
    label: Text | None = None


class JoinRoute(Strict):
    """One way in: an SMS/WhatsApp keyword or a Telegram start parameter, optionally setting the
    group and the language the participant is written to in (a Welsh keyword starts in Welsh)."""

    keyword: str | None = None
    telegram: str | None = None
    group: str | None = None
    flow: str | None = None
    language: str | None = None

    @model_validator(mode="after")
    def _has_a_way_in(self) -> JoinRoute:
        if not self.keyword and not self.telegram:
            raise ValueError("a join route needs a keyword (SMS/WhatsApp) or a telegram start parameter")
        if self.telegram and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", self.telegram):
            raise ValueError("a telegram start parameter may use only A-Z, a-z, 0-9, _ and - (at most 64)")
        return self


class Join(Strict):
    start_flow: str
    keyword: str | None = None
    telegram: str | None = None
    group: str | None = None
    language: str | None = None
    routes: list[JoinRoute] = Field(default_factory=list)

    def all_routes(self) -> list[JoinRoute]:
        routes = list(self.routes)
        if self.keyword or self.telegram:
            routes.insert(0, JoinRoute(keyword=self.keyword, telegram=self.telegram, group=self.group, language=self.language))
        return routes


class Schedule(Strict):
    """When a flow is sent: ``at`` a date, ``after`` a span (once), or ``every`` a span (again
    and again); ``after`` with ``every`` starts the series later (``after: 21d``, ``every: 7d``:
    days 21, 28, 35, ...)."""

    flow: str
    at: datetime | None = None
    after: timedelta | None = None
    relative_to: str = "enrolment"
    every: timedelta | None = None
    window: TimeWindow | None = None
    groups: list[str] | None = None
    reminders: list[timedelta] = Field(default_factory=list)
    closes: datetime | timedelta | None = None
    grace: timedelta = timedelta(days=1)
    times: int | None = Field(default=None, json_schema_extra={"minimum": 1})
    """How many times in all a repeating (``every``) schedule sends its flow: ``times: 6``
    with ``every: 7d`` is weekly for 6 weeks. A send missed (past its ``grace``) still counts."""
    until: datetime | date | timedelta | None = None
    """When a repeating schedule stops: no send falls due after a date (``2026-03-31``, the
    whole day in the study's time zone), a date and time, or a span after what ``every``
    counts from (``until: 12w``: 12 weeks after enrolment). With ``times`` too, the first to come ends it."""

    _v_window = field_validator("window", mode="before")(_window)
    _v_durations = field_validator("after", "every", "grace", mode="before")(_duration)

    @field_validator("times", mode="before")
    @classmethod
    def _times(cls, value: Any) -> Any:
        if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
            raise Invalid(f"times: {str(value).lower()} is not a number of sends", "write how many in all, e.g. 'times: 6'")
        return value

    @field_validator("until", mode="before")
    @classmethod
    def _until(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise Invalid(f"until: {str(value).lower()} is not a date or a duration",
                          "write a date such as 2026-03-31, or a span after enrolment such as 12w")
        if isinstance(value, int | float):
            return parse_duration(value)
        if isinstance(value, str) and _DATE.match(value):
            return date.fromisoformat(value.strip())
        if isinstance(value, str) and (found := _DURATION.match(value)) and any(found.groups()):
            return parse_duration(value)
        return value

    @field_validator("reminders", mode="before")
    @classmethod
    def _reminders(cls, value: Any) -> Any:
        if isinstance(value, str | int):
            value = [value]
        return [_duration(item) for item in value] if isinstance(value, list) else value

    @field_validator("closes", mode="before")
    @classmethod
    def _closes(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return parse_duration(value)
        if isinstance(value, str) and _DURATION.match(value) and any(_DURATION.match(value).groups()):  # type: ignore[union-attr]
            return parse_duration(value)
        return value

    def anchor_field(self) -> str | None:
        """The participant field ``after``/``every`` count from (``discharge_date`` for
        ``relative_to: participant.discharge_date``); None when they count from enrolment
        or the schedule has a fixed ``at``."""
        source = self.relative_to.strip()
        if self.at is not None or source.lower() in ENROLMENT_WORDS:
            return None
        return source.removeprefix("participant.")

    def first_send(self) -> timedelta:
        """How long after what it counts from the first send falls due: ``after`` (also when a
        series starts later), else one ``every``. (Nothing for an ``at`` round.)"""
        return self.after if self.after is not None else self.every or timedelta(0)

    def send_after(self, number: int) -> timedelta:
        """How long after what it counts from the ``number``-th send (from 1) falls due."""
        return self.first_send() + (self.every or timedelta(0)) * (number - 1)

    @model_validator(mode="after")
    def _one_when(self) -> Schedule:
        given = [name for name in ("at", "after", "every") if getattr(self, name) is not None]
        if not given:
            raise ValueError("a schedule needs one of 'at' (a date and time), 'after' (e.g. 28d) or 'every' (e.g. 7d)")
        if "at" in given and len(given) > 1:
            raise Invalid(
                f"'at' sends the flow once at a date, so it cannot go with {' or '.join(repr(g) for g in given[1:])}",
                "keep 'at' for a round on a date; to repeat a flow from some time after joining, write "
                "'after: 21d' with 'every: 7d' (days 21, 28, 35, ...)",
                ("at",),
            )
        if isinstance(self.closes, timedelta) and self.closes <= timedelta(0):
            raise Invalid(
                "closes must be a time after the flow is sent, not nothing",
                "write e.g. 'closes: 14d', or a date and time",
                ("closes",),
            )
        self._check_end()
        return self

    def _check_end(self) -> None:
        """``times`` and ``until`` end a repeating schedule: only with ``every``, and not before it starts."""
        from flows.schedule_timing import say_span  # it imports this module

        for key in ("times", "until"):
            if getattr(self, key) is not None and self.every is None:
                raise Invalid(f"'{key}' ends a flow sent again and again, but this schedule sends it once",
                              f"add e.g. 'every: 7d' to repeat it, or remove '{key}'", (key,))
        if self.times is not None and self.times < 1:
            raise Invalid(f"times: {self.times} would never send the flow; it is how many times in all it is sent",
                          "write e.g. 'times: 6', or remove this schedule", ("times",))
        if isinstance(self.until, timedelta) and self.every is not None and self.until < self.first_send():
            raise Invalid(f"until: {say_span(self.until)} ends before the first send, {say_span(self.first_send())} after "
                          f"{self.relative_to}, so the flow would never be sent",
                          "give a longer span, e.g. 'until: 12w' to repeat it for 12 weeks", ("until",))


class Study(Strict):
    study: str
    title: Text
    description: str | None = None
    languages: list[str] = Field(default_factory=lambda: ["en"], min_length=1)
    timezone: str = "Europe/London"
    quiet_hours: TimeWindow | None = None
    groups: list[Group] = Field(default_factory=list)
    join: Join
    flows: list[str] = Field(default_factory=list)
    schedule: list[Schedule] = Field(default_factory=list)
    words: dict[str, dict[str, list[str]]] = Field(default_factory=dict)
    texts: dict[str, Text] = Field(default_factory=dict)
    signposting: Text | None = None
    retention: dict[str, Any] = Field(default_factory=dict)
    """How long data is kept: ``audio`` (keep, or a duration; by default a voice note is
    deleted once transcribed), ``messages`` (inbox and outbox texts are blanked this long
    after; the answers stay) and ``participants`` (everything about a participant is erased
    this long after their last message). The scheduler enforces it (bot/retention.py)."""
    whatsapp: dict[str, Any] = Field(default_factory=dict)
    """Approved WhatsApp templates (``templates.<purpose>: {content_sid, variables}``) and
    content templates for buttons (``quick_reply``, ``list_picker``); see bot/dispatch_rules.py."""

    _v_quiet = field_validator("quiet_hours", mode="before")(_window)

    @field_validator("groups", mode="before")
    @classmethod
    def _groups(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"id": item} if isinstance(item, str) else item for item in value]
        return value

    @field_validator("retention")
    @classmethod
    def _retention(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key, given in value.items():
            if key not in RETENTION_KEYS:
                raise ValueError(f"unknown retention setting '{key}'; use {', '.join(RETENTION_KEYS)}")
            if key == "audio" and str(given).strip().lower() in ("keep", "delete"):
                continue
            if parse_duration(given) <= timedelta(0):
                raise ValueError(f"retention of {key} must be longer than nothing")
        return value

    @model_validator(mode="after")
    def _rounds_open_before_they_close(self) -> Study:
        from zoneinfo import ZoneInfo

        def local(moment: datetime) -> datetime:
            return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(self.timezone))

        for index, entry in enumerate(self.schedule):
            if entry.at is None or not isinstance(entry.closes, datetime):
                continue
            if local(entry.closes) <= local(entry.at):
                raise Invalid(
                    f"the flow '{entry.flow}' closes ({entry.closes:%Y-%m-%d %H:%M}) before it is sent "
                    f"({entry.at:%Y-%m-%d %H:%M}), so nobody could answer it",
                    "make 'closes' later than 'at'",
                    ("schedule", str(index), "closes"),
                )
        return self

    def retention_of(self, what: str) -> timedelta | None:
        """How long ``what`` (audio, messages, participants) is kept; None for no limit."""
        given = self.retention.get(what)
        if given is None or str(given).strip().lower() in ("keep", "delete"):
            return None
        return parse_duration(given)

    def keeps_audio(self) -> bool:
        given = self.retention.get("audio")
        return given is not None and str(given).strip().lower() != "delete"

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not a time zone; use an IANA name such as Europe/London") from None
        return value

    def group_ids(self) -> list[str]:
        return [group.id for group in self.groups]

    @property
    def default_language(self) -> str:
        return self.languages[0]


def resolve_text(text: Text | None, language: str, fallback: str = "en") -> str:
    """Pick the participant's language, then the study's default, then any."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    for code in (language, fallback):
        if code in text:
            return text[code]
    return next(iter(text.values()), "")
