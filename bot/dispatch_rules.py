"""What the dispatcher decides before sending: opted out, quiet hours, WhatsApp's 24-hour rule.

Pure functions of a claimed row and the clock, so they are easy to test on their own.

WhatsApp templates are declared per study (proposed ``whatsapp:`` block in study.yaml)::

    whatsapp:
      templates:                 # outside the 24-hour window, by purpose: a step id, a
        default:                 # message kind (prompt, reminder, info...), or 'default'
          content_sid: HXaaaa...
          variables: {"1": "{text}"}
        reminder:
          content_sid: HXbbbb...
          variables: {"1": "{study}"}
      quick_reply: {content_sid: HXcccc..., options: 3}   # twilio/quick-reply with 3 buttons
      list_picker:                                        # twilio/list-picker: one per count
        - {content_sid: HXdddd..., options: 7}
        - {content_sid: HXeeee..., options: 10}

Variables may use ``{text}`` (the message as plain text) and ``{study}`` (the study's
title). The quick-reply and list-picker templates take variable 1 as the body and, for
the n-th option (from 1), variable 2n as its title and 2n+1 as its id (the value). A
template's buttons or items are fixed, and Twilio fills those given no variable with the
template's samples, so one with ``options: n`` is used only for questions of n options
(checked by flows/whatsapp_checks.py); one without is used for any count up to the most.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from channels.base import Attachment, render_plain
from channels.telegram import KEYBOARD as TELEGRAM_KEYBOARD
from channels.twilio import INVALID_CODES, STOPPED_CODES, Content
from flows.events import Button
from flows.inputs import Keyboard
from flows.model import TimeWindow
from flows.whatsapp_checks import LIST_PICKER_MAX, QUICK_REPLY_MAX
from flows.words import ENGLISH_OPTIONS, OptionTexts
from storage.outbox import RESENDS_USED_UP, WAITING_FOR_REPLY, FailedMessage
from storage.quiet_holds import NO_LONGER_ASKED as QUIET_NO_LONGER_ASKED
from storage.quiet_holds import QUIET_HELD
from storage.template_resends import TemplatesSent

WHATSAPP_WINDOW = timedelta(hours=24)
QUICK_REPLY_TITLE, LIST_ITEM_TITLE = 20, 24
EXEMPT_KINDS = frozenset({"stopped", "erase_confirm", "erase_cancelled"})
"""Sent even to someone who just opted out, and at any hour: the STOP confirmation and the
erasure exchange (DELETE MY DATA works after STOP too)."""
ANY_HOUR_KINDS = EXEMPT_KINDS | {"signposting"}
"""Never held for quiet hours: besides those, the crisis signposting safeguarding sends (who
to call now) when a message reads like a risk."""
QUIET_PREFIX = QUIET_HELD
NO_LONGER_ASKED = QUIET_NO_LONGER_ASKED
"""Why a question held through quiet hours was not sent when they ended (its row is ``cancelled``)."""
OPTED_OUT = "participant opted out"
NO_TEMPLATE = "whatsapp 24-hour window closed: no approved template for "
BEHIND_TEMPLATE = WAITING_FOR_REPLY
"""Why a WhatsApp message outside the window is held when a template sent to its participant
awaits their reply: one template opens the conversation, the rest go when they answer it
(storage.window_holds). Never for :data:`ANY_HOUR_KINDS`."""
TEMPLATES_UNANSWERED = RESENDS_USED_UP
"""Why it is held once the first template and each sent again after it went unanswered
(:class:`TemplateResends`): held for the coordinator to see, and sent when the participant writes."""


@dataclass(frozen=True)
class TemplateResends:
    """When a participant leaves a template unanswered, another goes with their next message
    due (the first held behind it whose purpose has one), ``after`` the last, at most ``most``
    times; after those, what is due for them waits for them to write
    (``CHORUS_WHATSAPP_RESEND_HOURS``, ``CHORUS_WHATSAPP_RESENDS``)."""

    after: timedelta = timedelta(hours=24)
    most: int = 3

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> TemplateResends:
        """``CHORUS_WHATSAPP_RESEND_HOURS`` and ``CHORUS_WHATSAPP_RESENDS`` (checked at start by
        bot/settings.py), else the defaults."""
        hours, most = environ.get("CHORUS_WHATSAPP_RESEND_HOURS"), environ.get("CHORUS_WHATSAPP_RESENDS")
        default = cls()
        return cls(timedelta(hours=float(hours)) if hours else default.after, int(most) if most else default.most)

    def hold(self, sent: TemplatesSent, now: datetime) -> str | None:
        """Why a message that needs a template waits, given the templates ``sent`` to its
        participant since their window closed: :data:`BEHIND_TEMPLATE` while the last is recent,
        :data:`TEMPLATES_UNANSWERED` when no more may go; None when one may go now."""
        if sent.count == 0:
            return None
        if sent.last is not None and now - sent.last < self.after:
            return BEHIND_TEMPLATE
        return TEMPLATES_UNANSWERED if sent.count > self.most else None


@dataclass(frozen=True)
class ContentSpec:
    content_sid: str
    variables: dict[str, str] = field(default_factory=dict)
    options: int | None = None
    """How many buttons (items) a quick-reply (list-picker) template has, if the study says."""

    def fits(self, count: int, most: int) -> bool:
        return count == self.options if self.options is not None else count <= most

    def fill(self, text: str, study: str) -> Content:
        """The approved template's variables with the message (``{text}``) and the study's title
        (``{study}``) filled in, each on one line (:func:`template_value`)."""
        values = {key: template_value(value.replace("{text}", text).replace("{study}", study))
                  for key, value in self.variables.items()}
        return Content(self.content_sid, values)


def template_value(value: str) -> str:
    """A value WhatsApp takes in an approved template's variable: no line breaks or tabs, and no
    run of more than four spaces (Meta refuses those, Twilio error 63013, and the message would
    fail for good). A question's lines (its options, numbered) are joined by spaces."""
    return " ".join(value.split())


@dataclass(frozen=True)
class WhatsAppConfig:
    templates: dict[str, ContentSpec] = field(default_factory=dict)
    quick_reply: tuple[ContentSpec, ...] = ()
    list_picker: tuple[ContentSpec, ...] = ()

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> WhatsAppConfig:
        raw = raw or {}

        def spec(value: Any) -> ContentSpec | None:
            if not isinstance(value, dict) or not value.get("content_sid"):
                return None
            count = value.get("options")
            return ContentSpec(str(value["content_sid"]), {str(k): str(v) for k, v in (value.get("variables") or {}).items()},
                               count if isinstance(count, int) and not isinstance(count, bool) else None)

        def specs(value: Any) -> tuple[ContentSpec, ...]:
            return tuple(s for v in (value if isinstance(value, list) else [value]) if (s := spec(v)) is not None)

        templates = {str(k): s for k, v in (raw.get("templates") or {}).items() if (s := spec(v)) is not None}
        return cls(templates, specs(raw.get("quick_reply")), specs(raw.get("list_picker")))

    def keyboards(self) -> tuple[Keyboard, ...]:
        """The questions these templates show as buttons (:func:`_interactive`), for the engine's
        hints: a single choice whose options a quick-reply or list-picker template fits, each
        label short enough for its titles."""
        return (*(Keyboard(QUICK_REPLY_MAX, QUICK_REPLY_TITLE, spec.options) for spec in self.quick_reply),
                *(Keyboard(LIST_PICKER_MAX, LIST_ITEM_TITLE, spec.options) for spec in self.list_picker))

    def template_for(self, step_id: str | None, kind: str) -> ContentSpec | None:
        for purpose in (step_id, kind, "default"):
            if purpose and purpose in self.templates:
                return self.templates[purpose]
        return None


@dataclass(frozen=True)
class Candidate:
    """A claimed outbox row and what the rules need to know about its participant."""

    id: int
    participant_id: str
    channel: str
    address: str
    text: str
    buttons: tuple[Button, ...]
    multiple: bool
    kind: str
    step_id: str | None
    study_id: str | None
    created_at: datetime
    opted_out: bool
    last_inbound: datetime | None
    """When the participant last wrote on any channel."""
    last_inbound_here: datetime | None
    """When the participant last wrote on this row's channel (WhatsApp's window)."""
    timezone: str | None = None
    attachment: Attachment | None = None
    delivery_key: str | None = None
    """The idempotency key every attempt to send this row carries."""
    option_texts: OptionTexts = ENGLISH_OPTIONS
    """How options read in the participant's language, where they are sent as text."""


@dataclass(frozen=True)
class StudyRules:
    quiet_hours: TimeWindow | None
    timezone: str
    title: str
    whatsapp: WhatsAppConfig = field(default_factory=WhatsAppConfig)


@dataclass(frozen=True)
class Decision:
    hold: str | None = None
    """Why the row is held (stored as its error), or None to send."""
    content: Content | None = None
    media: bool = True
    """Whether the row's image may go too: not with a template outside WhatsApp's 24-hour
    window, where only the approved template may be sent."""
    template: bool = False
    """Sent as an approved template, outside WhatsApp's 24-hour window."""


def quiet_until(window: TimeWindow | None, zone: str, now: datetime) -> datetime | None:
    """When the quiet hours around ``now`` end (UTC), or None when it is not quiet now."""
    if window is None:
        return None
    local = now.astimezone(ZoneInfo(zone))
    if not window.contains(local.time().replace(tzinfo=None)):
        return None
    end = local.replace(hour=window.end.hour, minute=window.end.minute, second=0, microsecond=0)
    if end <= local:
        end = (local + timedelta(days=1)).replace(hour=window.end.hour, minute=window.end.minute, second=0, microsecond=0)
    return end.astimezone(UTC)


def is_reply(row: Candidate, within: timedelta) -> bool:
    """Queued in answer to something the participant has just sent: their latest message is
    at most ``within`` from it, before (what it answers) or after (a second message sent
    before this one went out: "sorry", say, right after the answer it replies to)."""
    last = row.last_inbound
    return last is not None and abs(row.created_at - last) <= within


def writing_now(row: Candidate, now: datetime, within: timedelta) -> bool:
    """The participant wrote after the row was queued, at most ``within`` ago: they are awake,
    so what quiet hours held for them goes now (the service released it when they wrote,
    storage/quiet_holds.py). Quiet hours keep people from being woken, not from replies."""
    last = row.last_inbound
    return last is not None and last >= row.created_at and now - last <= within


def outside_window(row: Candidate, now: datetime) -> bool:
    """Whether the row goes on WhatsApp to someone who has not written there for 24 hours."""
    return row.channel == "whatsapp" and (row.last_inbound_here is None or now - row.last_inbound_here >= WHATSAPP_WINDOW)


def decide(row: Candidate, rules: StudyRules | None, now: datetime, reply_window: timedelta,
           template_awaits_reply: bool = False, resends_used_up: bool = False) -> Decision:
    """Hold or send, and with which WhatsApp content template. ``template_awaits_reply``: a
    template sent to the participant outside the window awaits their reply, so this row, when
    it too would need one, waits for that reply (:data:`BEHIND_TEMPLATE`, or
    :data:`TEMPLATES_UNANSWERED` when ``resends_used_up``) unless it is urgent."""
    exempt = row.kind in EXEMPT_KINDS
    if row.opted_out and not exempt:
        return Decision(hold=OPTED_OUT)
    if (rules is not None and row.kind not in ANY_HOUR_KINDS and not is_reply(row, reply_window)
            and not writing_now(row, now, reply_window)):
        until = quiet_until(rules.quiet_hours, row.timezone or rules.timezone, now)
        if until is not None:
            return Decision(hold=QUIET_PREFIX + until.isoformat())
    if row.channel != "whatsapp":
        return Decision()
    config = rules.whatsapp if rules else WhatsAppConfig()
    title = rules.title if rules else ""
    text = render_plain(row.text, row.buttons, row.multiple, row.option_texts)
    if outside_window(row, now):
        if template_awaits_reply and row.kind not in ANY_HOUR_KINDS:
            return Decision(hold=TEMPLATES_UNANSWERED if resends_used_up else BEHIND_TEMPLATE)
        spec = config.template_for(row.step_id, row.kind)
        if spec is None:
            return Decision(hold=NO_TEMPLATE + f"'{row.step_id or row.kind}'")
        return Decision(content=spec.fill(text, title), media=False, template=True)
    return Decision(content=_interactive(row, config))


WEB_KEYBOARD = Keyboard(TELEGRAM_KEYBOARD.most)
"""How the web simulator shows options: every one as a button, but a multiple choice as numbered
text, as SMS does (bot/simulator.py: the page has no ticks)."""


def keyboards_on(channel: str, whatsapp: WhatsAppConfig) -> tuple[Keyboard, ...]:
    """How a participant's channel shows a question's options as buttons, for the engine's hints
    (:attr:`flows.inputs.TextInput.keyboards`): Telegram and the web simulator always; WhatsApp
    as the study's quick-reply and list-picker templates allow; SMS never (numbered text).

    On WhatsApp this is what a question shows inside the 24-hour window, where every reply and
    the hint after it go. A question that opened a conversation outside it went as an approved
    template, as numbered text; the hint after buttons still names the options' words, which
    are read there too."""
    if channel == "telegram":
        return (TELEGRAM_KEYBOARD,)
    if channel == "web":
        return (WEB_KEYBOARD,)
    return whatsapp.keyboards() if channel == "whatsapp" else ()


def interactive_template(buttons: tuple[Button, ...], multiple: bool, config: WhatsAppConfig) -> tuple[str, ContentSpec] | None:
    """The study's template a question's options go out with on WhatsApp, and which kind it is
    ('quick_reply' or 'list_picker'); None where they go as numbered text (a multiple choice,
    too many options, a label too long for a title, or no such template)."""
    if not buttons or multiple:
        return None
    count = len(buttons)
    sized_first = lambda spec: spec.options is None  # noqa: E731 (a template made for this count wins)
    quick = sorted((s for s in config.quick_reply if s.fits(count, QUICK_REPLY_MAX)), key=sized_first)
    listed = sorted((s for s in config.list_picker if s.fits(count, LIST_PICKER_MAX)), key=sized_first)
    if quick and all(len(b.label) <= QUICK_REPLY_TITLE for b in buttons):
        return "quick_reply", quick[0]
    if listed and all(len(b.label) <= LIST_ITEM_TITLE for b in buttons):
        return "list_picker", listed[0]
    return None


def _interactive(row: Candidate, config: WhatsAppConfig) -> Content | None:
    """Quick replies or a list picker for options, when the study has those templates."""
    buttons = row.buttons
    chosen = interactive_template(buttons, row.multiple, config)
    if chosen is None:
        return None
    spec = chosen[1]
    variables = {"1": row.text}
    for n, button in enumerate(buttons, start=1):
        variables[str(2 * n)] = button.label
        variables[str(2 * n + 1)] = button.value
    return Content(spec.content_sid, variables)


def quiet_release_time(error: str | None) -> datetime | None:
    """The release time written into a quiet-hours hold, if that is what the error is."""
    if not error or not error.startswith(QUIET_PREFIX):
        return None
    try:
        return datetime.fromisoformat(error[len(QUIET_PREFIX):])
    except ValueError:
        return None


# ----------------------------------------------------------------------------- sending again what failed

STOPPED_AT_PROVIDER = "opted out or blocked us at the provider"
SAID_STOP = "the participant opted out (STOP), then or since"
CANNOT_RECEIVE = "the address cannot receive messages"
TEXT_GONE = "its text was deleted (retention)"
NO_LONGER_CURRENT = "the conversation has moved past this question"
ALREADY_ASKED = "its question was asked again since, or is asked once"
_CODE = re.compile(r"\(code ([^()\s]+)\)\s*$")


def error_code(error: str | None) -> str | None:
    """The provider's error code at the end of an outbox row's error ("... (code 20003)")."""
    found = _CODE.search(error or "")
    return found.group(1) if found else None


def why_not_again(message: FailedMessage, wanted_code: str | None = None) -> str | None:
    """Why a failed message must not be sent again, or None when it may: never to someone who
    opted out or blocked us (STOP, Twilio 21610 and its kin, Telegram 403), nor with its text
    gone; not to an address that cannot receive messages either, unless ``wanted_code`` names
    that very error (the operator asks for it)."""
    code, error = error_code(message.error), message.error or ""
    if message.stopped:
        return SAID_STOP
    if error.startswith("ContactStopped") or code in STOPPED_CODES or (message.channel == "telegram" and code == "403"):
        return STOPPED_AT_PROVIDER
    if message.blank:
        return TEXT_GONE
    if (error.startswith("InvalidAddress") or (message.channel != "telegram" and code in INVALID_CODES)) and code != wanted_code:
        return CANNOT_RECEIVE
    return None
