"""Local time for the clock: what "later" means, and moving a moment into allowed hours.

Pure functions of ``now`` and a time zone: nothing here reads a clock. Times go in and
come out as aware datetimes; wall-clock arithmetic (``28 days after``, ``every 7 days``,
``tomorrow``) is done in the participant's zone, so 09:00 stays 09:00 across a
daylight-saving change.

A snooze is a whole reply such as ``in 2 hours``, ``later 30 mins``, ``tonight``,
``tomorrow``, ``tomorrow afternoon``, ``after 5pm``, ``remind me at 17:30``, ``next week``,
``next friday afternoon``, ``in twenty minutes``, ``in a bit``, ``at 5pm``, ``yfory`` or
``heno``; a word of the study's LATER list may come first (and must, before a bare weekday:
'monday' may answer a question, and before ``today``: 'later today'). A bare hour from 1 to 7
with no am or pm means the afternoon: nobody asks to be messaged at 3 in the morning.

After a LATER word the time may come last, after a reason: ``not now, on shift. tomorrow at
3``, ``busy now, after 7pm``. A LATER phrase with a short reason and no time (``not now,
driving``, ``can't talk, at work``) puts the question off by the default two hours
(:func:`puts_off`). On a free-text question a time said alone snoozes too (``in 20 mins``,
``tomorrow``), but not a bare hour (``after 7`` may say when something happened) nor a
sentence that only mentions a time (``we waited 4 hours``).

Busy staff put a question off without a LATER word: ``on shift til 8``, ``Im busy rn``, ``in a
meeting``, ``after my shift``, ``ask me later``, ``yn y gwaith``, ``ar shifft``, ``gofynnwch
wedyn`` (:func:`busy_until`). The whole reply must be such a phrase, so that a story that
mentions work answers a free-text question; a bare ``at work`` or ``driving`` may answer a
question ('Where did it happen?', an option 'Driving'), so it snoozes only one it does not
answer. A time given (``til 8``) is read on the participant's clock, am or pm as their
contact hours suggest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from flows.model import TimeWindow

DEFAULT_SNOOZE = timedelta(hours=2)
MORNING, AFTERNOON, EVENING = time(9, 0), time(14, 0), time(19, 0)
SOON = timedelta(minutes=30)
"""'tonight' said after 19:00 (or 'this afternoon' after 14:00) means a little later."""
MAX_SNOOZE = timedelta(days=8)
"""'next week' from Monday at 08:00 is next Monday at 09:00: a week and an hour."""
MAX_HOPS = 16

_UNITS = {
    "m": 1, "min": 1, "mins": 1, "minute": 1, "minutes": 1, "munud": 1,
    "h": 60, "hr": 60, "hrs": 60, "hour": 60, "hours": 60, "awr": 60, "oriau": 60,
    "d": 1440, "day": 1440, "days": 1440, "diwrnod": 1440, "dydd": 1440,
}
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "twenty five": 25,
    "twenty-five": 25, "thirty": 30, "forty": 40, "forty five": 45, "forty-five": 45, "fifty": 50, "sixty": 60,
    "ninety": 90, "a couple of": 2, "a few": 3,
    "un": 1, "dwy": 2, "dau": 2, "tri": 3, "tair": 3, "pedwar": 4, "pedair": 4, "pump": 5, "deg": 10, "ugain": 20,
}
_AMOUNT = rf"(?P<n>\d+(?:\.\d+)?|{'|'.join(sorted(_NUMBER_WORDS, key=len, reverse=True))})"
_IN = re.compile(rf"^(?:in|for|mewn|after|ymhen)?\s*{_AMOUNT}\s*(?P<unit>[a-z]+)$")
_HALF_HOUR = re.compile(r"^(?:in|for|mewn)?\s*(?:half an hour|hanner awr)$")
_EARLY_HOURS = range(1, 8)
"""A bare hour (no am or pm) that means the afternoon in a snooze: 'tomorrow at 3' is 15:00."""
_A_WHILE = frozenset(("in a bit", "in a while", "in a little while", "in a little bit", "a bit later", "mewn ychydig"))
"""Replies that ask for the default snooze without naming a time."""
_LATER_TODAY = frozenset(("today", "later today", "heddiw", "rywbryd heddiw"))
"""After a LATER word ('later today'): the default snooze."""
_CLOCK = re.compile(r"^(?:(?:after|at|from|around|about|until|till|til|ar ôl|ar ol|am|tan)\s+)?(?P<h>\d{1,2})(?::|\.)?(?P<m>\d{2})?\s*(?P<ampm>am|pm|yb|yh)?$")
_DAY_PART = {
    "": MORNING, "morning": MORNING, "am": MORNING, "bore": MORNING,
    "afternoon": AFTERNOON, "prynhawn": AFTERNOON, "pnawn": AFTERNOON,
    "evening": EVENING, "night": EVENING, "nos": EVENING, "noson": EVENING,
}
_TODAY_LATE = {
    "tonight": EVENING, "this evening": EVENING, "heno": EVENING, "later tonight": EVENING,
    "this afternoon": AFTERNOON, "prynhawn yma": AFTERNOON, "pnawn ma": AFTERNOON,
}
_TOMORROW = ("tomorrow", "tmrw", "tomoz", "yfory", "fory")
_NEXT_WEEK = ("next week", "wythnos nesaf", "wythnos nesa")
_WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2, "thursday": 3, "thu": 3,
    "thur": 3, "thurs": 3, "friday": 4, "fri": 4, "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
    "dydd llun": 0, "dydd mawrth": 1, "dydd mercher": 2, "dydd iau": 3, "dydd gwener": 4, "dydd sadwrn": 5, "dydd sul": 6,
}
_WEEKDAY = re.compile(rf"^(?P<next>next |on |ar )?(?P<day>{'|'.join(sorted(_WEEKDAYS, key=len, reverse=True))})(?: (?P<part>.+))?$")
_FILLERS = ("please", "plz", "pls", "thanks", "diolch", "os gwelwch yn dda", "plis", "x", "xx", "xxx")
_MORNING_PHRASES = ("in the morning", "yn y bore", "first thing in the morning")
_UNPREFIXED_WHOLE = frozenset((*_TODAY_LATE, *_TOMORROW, *_MORNING_PHRASES, *_NEXT_WEEK, *_A_WHILE))
_UNPREFIXED_STARTS = ("in ", "mewn ", "ymhen ", "after ", "next ", *(word + " " for word in _TOMORROW))
"""Without a LATER word, only a reply that is one of these or starts so can name a time (see _when). Not
"at ...": "at 10" may answer the question (a number, a time); "later at 10" and "remind me at 5pm" snooze."""
_PREFIXES = ("remind me", "ask me again", "ask me", "message me", "text me", "try again", "atgoffa fi", "gofynnwch eto")
_CLAUSES = re.compile(r"[,.;:!?]+|\s+-\s+")
"""Where a reason ends and a time may begin: 'not now, on shift. tomorrow at 3'."""
_JOINING = re.compile(r"^(?:(?:and|but|so|maybe|just|how about|try|perhaps|a|ac|efallai) )+")
"""Words that may lead into the time at the end of a reply: 'not now, maybe after 7pm'."""
_REASON_WORDS = 6
"""At most this many words after a LATER phrase put the question off (:func:`puts_off`):
'not now, driving'. More is a sentence, which on a free-text question is the answer."""
AFTER_WORK = time(18, 0)
"""'after work', 'after my shift' with no time: not before 18:00 (and at least the default two hours)."""
_BUSY_LEAD = (r"(?:(?:sorry|soz|sori|hi|hey|oh|um|erm)\s*,?\s+)?"
              r"(?:(?:i'm|im|i am|am|i'm still|im still|still|currently|dwi|dw i|rydw i|rwy|rwy'n|dwi'n|dw i'n)\s+)?")
_BUSY_CORE = (r"(?P<core>busy|at work|in work|working|on shift|on a shift|on (?:a |the )?(?:night|day|late|early|long|twilight)"
              r" shift|on nights|on lates|on earlies|on duty|on the ward|on call|in a meeting|in meetings|in clinic|in theatre"
              r"|with a patient|with patients|on a call|driving|yn y gwaith|yn gweithio|gweithio|ar shifft|ar shift|ar ddyletswydd"
              r"|ar y ward|mewn cyfarfod|yn gyrru|gyrru|yn brysur|brysur)")
_BUSY_NOW = r"(?:\s+(?P<now>rn|right now|now|atm|at the moment|still|ar hyn o bryd|nawr|rwan|rŵan))?"
_UNTIL = r"(?:til|till|'til|until|tan|nes)"
_BUSY = re.compile(rf"^{_BUSY_LEAD}{_BUSY_CORE}{_BUSY_NOW}(?:[\s,]+(?:{_UNTIL}\s+(?P<until>.+)|for (?:another )?(?P<span>.+)))?$")
"""'on shift til 8', 'Im busy rn', 'in a meeting for another hour', 'dwi yn y gwaith tan 6'."""
_AFTER_WORK = re.compile(
    r"^(?:(?:later|wedyn)\s*,?\s+)?(?:after (?:my |the |this )?(?:shift|work|meeting|clinic)|when i(?:'m| am|m)? (?:finish|off|done|get off)"
    r"(?: work| my shift)?|after i finish(?: work)?|ar [oô]l (?:fy |y )?(?:gwaith|shifft|shift|cyfarfod)|ar [oô]l gorffen)"
    r"(?:[\s,]+(?:at |around |about |tua |am )?(?P<at>\d.*))?$")
"""'after my shift', 'after work at 6', 'when i finish', 'ar ôl gwaith'."""
_FINISH = re.compile(r"^(?:i |dwi'n |dwi )?(?:finish|finishing|off|gorffen) (?:work |my shift )?(?:at |am )?(?P<at>\d.*)$")
"""'finish at 8', 'off at 7pm', 'gorffen am 6'."""
_ASK_LATER = re.compile(
    r"^(?:please |plz |pls )?(?:(?:(?:can|could) (?:you|u) )?(?:ask|message|msg|text|try|catch|get back to|contact)(?: me)?(?: again)?"
    r" (?:later|another time)|another time|some other time|gofynnwch(?: eto)? (?:wedyn|nes ymlaen|rywbryd eto)"
    r"|gofyn(?: eto)? wedyn|holwch wedyn|rywbryd eto"
    r"|(?:i'll |ill |i will |will |can i |could i |i can |let me )?(?:answer|reply|respond|do (?:this|it|that)"
    r"|finish (?:this|it)|get back to you)(?: to (?:this|it|you))? later(?: on)?)$")
"""'ask me later', 'text me later', 'try again later', 'another time', 'gofynnwch wedyn', 'will answer
later', 'can i do this later'."""
_ANSWERS_TOO = frozenset(("at work", "in work", "working", "driving", "yn y gwaith", "yn gweithio", "gweithio", "yn gyrru",
                          "gyrru", "on call", "on duty", "on the ward", "ar y ward"))
"""Alone, these may answer a free-text question ('Where did it happen?' 'at work'): there they are
the answer; on other questions they put it off."""


@dataclass(frozen=True)
class Snooze:
    until: datetime
    """Aware, in UTC: when to ask again (before moving out of quiet hours)."""
    phrase: str


class NoAllowedTime(ValueError):
    """The window, quiet hours and contact hours leave no time of day at all."""


# ----------------------------------------------------------------------------- wall-clock arithmetic


def zone_of(name: str | None, fallback: str = "Europe/London") -> ZoneInfo:
    """A zone by IANA name; the fallback when the name is missing or unknown."""
    for candidate in (name, fallback):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ValueError, KeyError, OSError):
                continue
    return ZoneInfo("UTC")


def at_local(day: date, moment: time, zone: ZoneInfo) -> datetime:
    """``day`` at wall-clock ``moment`` in ``zone``, in UTC. A time skipped by the clocks
    going forward (01:30 on the spring change) lands an hour later, as a clock on the wall would."""
    return datetime.combine(day, moment, tzinfo=zone).astimezone(UTC)


def add_local(moment: datetime, delta: timedelta, zone: ZoneInfo) -> datetime:
    """Whole days are added on the wall clock, the rest in real time: 09:00 + 28d is 09:00."""
    local = moment.astimezone(zone)
    days = timedelta(days=delta.days)
    shifted = datetime.combine(local.date() + days, local.time().replace(tzinfo=None), tzinfo=zone)
    return shifted.astimezone(UTC) + (delta - days)


def next_wall_time(moment: datetime, wall: time, zone: ZoneInfo) -> datetime:
    """The first moment at or after ``moment`` when the clock in ``zone`` reads ``wall``."""
    local = moment.astimezone(zone)
    for offset in range(3):
        candidate = at_local(local.date() + timedelta(days=offset), wall, zone)
        if candidate >= moment.astimezone(UTC):
            return candidate
    raise AssertionError("unreachable: a wall time recurs within two days")


def next_allowed(
    moment: datetime, zone: ZoneInfo, window: TimeWindow | None = None, quiet: TimeWindow | None = None,
    contact: TimeWindow | None = None,
) -> datetime:
    """The first moment at or after ``moment`` inside ``window`` and ``contact`` hours and
    outside ``quiet`` hours, all read on the wall clock in ``zone``."""
    current = moment.astimezone(UTC)
    for _ in range(MAX_HOPS):
        wall = current.astimezone(zone).time().replace(tzinfo=None)
        waits = []
        if window is not None and not window.contains(wall):
            waits.append(next_wall_time(current, window.start, zone))
        if contact is not None and not contact.contains(wall):
            waits.append(next_wall_time(current, contact.start, zone))
        if quiet is not None and quiet.contains(wall):
            waits.append(next_wall_time(current, quiet.end, zone))
        if not waits:
            return current
        current = max(waits)
    raise NoAllowedTime(f"no time of day is inside {window or 'any time'} and {contact or 'any time'} but outside {quiet}")


# ----------------------------------------------------------------------------- snoozes


@lru_cache(maxsize=8192)
def _norm(text: str) -> str:
    clean = re.sub(r"\s+", " ", text.replace("\u2019", "'").strip().lower()).strip(" .!?,")
    for filler in _FILLERS:
        clean = re.sub(rf"(?:^|\s){re.escape(filler)}$", "", clean).strip(" .!?,")
    return clean


def _strip_prefix(clean: str, later_words: Iterable[str]) -> tuple[str, bool]:
    """Remove one LATER word or 'remind me' from the front; say whether one was there."""
    return _strip_prefix_cached(clean, tuple(later_words))


@lru_cache(maxsize=8192)
def _strip_prefix_cached(clean: str, later_words: tuple[str, ...]) -> tuple[str, bool]:
    for word in sorted({*later_words, *_PREFIXES}, key=len, reverse=True):
        found = re.match(rf"{re.escape(word)}(?:[\s,:;-]+|$)", clean) if word else None
        if found:
            return clean[found.end():].strip(), True
    return clean, False


def _amount(value: str) -> float:
    return float(_NUMBER_WORDS[value]) if value in _NUMBER_WORDS else float(value)


def _clock_time(match: re.Match[str], local: datetime, prefer: TimeWindow | None = None) -> datetime:
    """'5pm', '17:30', 'after 5': the next such time. A bare hour from 1 to 7 means the
    afternoon; any other bare hour the sooner of am and pm, or the sooner inside ``prefer``
    (contact hours: a night worker 'on shift til 8' at 14:00 is free at 20:00, not 08:00)."""
    hour, minute, ampm = int(match["h"]), int(match["m"] or 0), match["ampm"]
    if hour > 23 or minute > 59 or (ampm and not 1 <= hour <= 12):
        raise ValueError("not a time")
    if ampm in ("pm", "yh") and hour < 12:
        hour += 12
    elif ampm in ("am", "yb") and hour == 12:
        hour = 0
    if ampm or hour > 12 or hour == 0:
        hours = [hour]
    elif hour in _EARLY_HOURS and not match["h"].startswith("0"):  # ('03:30' says the early hours)
        hours = [hour + 12]
    else:
        hours = [hour % 12, hour % 12 + 12]
    zone = local.tzinfo
    assert isinstance(zone, ZoneInfo)
    times = sorted(next_wall_time(local, time(h, minute), zone) for h in hours)
    if prefer is not None:
        times = [t for t in times if prefer.contains(t.astimezone(zone).time())] or times
    return times[0]


def _when(rest: str, local: datetime, prefixed: bool) -> datetime | None:
    """The moment a snooze phrase (without its LATER word) names, or None. Without a LATER
    word only unmistakable phrases count ('in 2 hours', 'tonight', 'tomorrow'), so that
    '2 hours' or '5pm' can still answer a question."""
    zone = local.tzinfo
    assert isinstance(zone, ZoneInfo)
    now = local.astimezone(UTC)
    if rest in _TODAY_LATE:
        return max(at_local(local.date(), _TODAY_LATE[rest], zone), now + SOON)
    if rest in _A_WHILE or (prefixed and rest in _LATER_TODAY):
        return now + DEFAULT_SNOOZE
    if _HALF_HOUR.match(rest) and (prefixed or rest.startswith(("in ", "mewn "))):
        return now + timedelta(minutes=30)
    match = _IN.match(rest)
    if match and _UNITS.get(match["unit"]) and (prefixed or rest.startswith(("in ", "mewn ", "ymhen "))):
        return now + timedelta(minutes=_amount(match["n"]) * _UNITS[match["unit"]])
    for word in _TOMORROW:
        if rest == word or rest.startswith(word + " "):
            return _tomorrow(rest[len(word):].strip(), local)
    if rest in _MORNING_PHRASES:
        return next_wall_time(now, MORNING, zone)
    if rest in _NEXT_WEEK:
        return at_local(local.date() + timedelta(days=7), MORNING, zone)
    if (day := _WEEKDAY.match(rest)) and (prefixed or day["next"] == "next "):
        return _on_weekday(_WEEKDAYS[day["day"]], (day["part"] or "").strip(), local)
    if (prefixed or rest.startswith(("after ", "at "))) and (match := _CLOCK.match(rest)):
        try:
            return _clock_time(match, local)
        except ValueError:
            return None
    return None


def _tomorrow(part: str, local: datetime) -> datetime | None:
    zone = local.tzinfo
    assert isinstance(zone, ZoneInfo)
    day = local.date() + timedelta(days=1)
    part = part.removeprefix("in the ").removeprefix("y ").strip()
    if part in _DAY_PART:
        return at_local(day, _DAY_PART[part], zone)
    if match := _CLOCK.match(part):
        try:
            wall = _clock_time(match, datetime.combine(day, time(0), tzinfo=zone))
        except ValueError:
            return None
        return wall
    return None


def _on_weekday(weekday: int, part: str, local: datetime) -> datetime | None:
    """'monday', 'next tuesday afternoon', 'friday at 5pm': that day's next coming (not today)."""
    ahead = (weekday - local.weekday()) % 7 or 7
    return _tomorrow(part, local + timedelta(days=ahead - 1))


def busy_until(text: str, now: datetime, zone: ZoneInfo, contact: TimeWindow | None = None,
               bare: bool = False) -> datetime | None:
    """When to ask again someone who says they are busy, with no LATER word: 'on shift til 8'
    (the next 8 o'clock, am or pm as ``contact`` hours suggest), 'in a meeting for another
    hour', 'after my shift' (:data:`AFTER_WORK`), 'Im busy rn' or 'ask me later' (the default
    two hours). None when the whole reply is not such a phrase, or is one that may answer a
    question ('at work', 'driving': :data:`_ANSWERS_TOO`) unless ``bare`` (the engine asks
    with it once the question found no answer in the reply)."""
    clean = _norm(text)
    local = now.astimezone(zone)
    if _ASK_LATER.match(clean):
        return now.astimezone(UTC) + DEFAULT_SNOOZE
    if (after := _AFTER_WORK.match(clean) or _FINISH.match(clean)) is not None:
        if after["at"] is None:
            return max(now.astimezone(UTC) + DEFAULT_SNOOZE, at_local(local.date(), AFTER_WORK, zone))
        return _busy_time(after["at"], local, contact)
    busy = _BUSY.match(clean)
    if busy is None or (clean in _ANSWERS_TOO and not bare):
        return None
    if busy["until"]:
        return _busy_time(busy["until"], local, contact)
    if busy["span"]:  # 'for 2 hours', 'for another hour'
        span = busy["span"].strip()
        return _when(span, local, True) or _when(f"an {span}", local, True)
    return now.astimezone(UTC) + DEFAULT_SNOOZE


def only_busy(text: str) -> bool:
    """Whether a whole reply is a busy phrase that says nothing of when, nor 'now' ('on shift',
    'on nights', 'in a meeting', 'ar shifft', not 'on shift til 8' or 'Im busy rn'): it may
    answer the question asked ('Where were you?', an option 'Nights'), which reads it first."""
    busy = _BUSY.match(_norm(text))
    return busy is not None and not (busy["until"] or busy["span"] or busy["now"])


def _busy_time(said: str, local: datetime, contact: TimeWindow | None) -> datetime | None:
    """'8', '8pm', '20:00', 'tomorrow', 'half 7'... after 'til' or 'after work at': when that is."""
    said = said.strip()
    if (clock := _CLOCK.match(said)) is not None:
        try:
            return _clock_time(clock, local, contact)
        except ValueError:
            return None
    return _when(said, local, True)


def may_be_snooze(text: str, later_words: Iterable[str] = ()) -> bool:
    """False when :func:`parse_snooze` is sure to find no snooze in ``text``, whatever the
    time and zone: a cheap test to run on every reply before the full one."""
    clean = _norm(text)
    if not clean:
        return False
    rest, prefixed = _strip_prefix(clean, later_words)
    if prefixed or (bool(rest) and (rest in _UNPREFIXED_WHOLE or rest.startswith(_UNPREFIXED_STARTS))) or _busy_phrase(clean):
        return True
    last = _CLAUSES.split(clean)[-1].strip()  # 'on shift, ask me later'
    return last != clean and (_ASK_LATER.match(last) is not None or _strip_prefix(last, later_words)[1])


@lru_cache(maxsize=8192)
def _busy_phrase(clean: str) -> bool:
    """Whether a reply reads as one :func:`busy_until` may take (whatever the time)."""
    return any(pattern.match(clean) for pattern in (_ASK_LATER, _AFTER_WORK, _FINISH, _BUSY))


def starts_with_later(text: str, later_words: Iterable[str]) -> bool:
    """Whether a reply begins with one of the study's LATER words ('later, on a night shift',
    'busy at work'): a participant putting the question off, in words of their own."""
    clean = _norm(text)
    words = tuple(later_words)
    return bool(clean) and any(re.match(rf"{re.escape(word)}(?:[\s,:;-]+|$)", clean) for word in words if word)


def parse_snooze(
    text: str, now: datetime, zone: ZoneInfo, later_words: Iterable[str] = (), strict: bool = False,
    free_text: bool = False, contact: TimeWindow | None = None,
) -> Snooze | None:
    """When a reply such as 'later 30 mins' or 'tomorrow' asks to be messaged again, or None
    if the reply is not a snooze. A bare LATER word gives the default two hours; after one, a
    time may end a reason ('not now, on shift. tomorrow at 3'). With ``strict`` a LATER word
    or 'remind me' must come first. With ``free_text`` (a free-text question: the engine's
    way) a time said alone must be unmistakable: 'after 7pm', not 'after 7'. A busy phrase
    without a LATER word ('on shift til 8', 'ask me later') snoozes too (:func:`busy_until`;
    ``contact``: the participant's contact hours, which say whether '8' is am or pm)."""
    clean = _norm(text)
    if not clean:
        return None
    rest, prefixed = _strip_prefix(clean, later_words)
    if strict and not prefixed:
        return None
    if not rest:
        return Snooze(now.astimezone(UTC) + DEFAULT_SNOOZE, clean) if prefixed else None
    local, until = now.astimezone(zone), None
    if prefixed or rest in _UNPREFIXED_WHOLE or rest.startswith(_UNPREFIXED_STARTS):
        if free_text and not prefixed and (clock := _CLOCK.match(rest)) and not clock["ampm"]:
            return None  # 'after 7' may be when it happened
        until = _when(rest, local, prefixed)
        if until is None and prefixed:
            until = _time_after_reason(rest, local, tuple(later_words))
    if until is None and _busy_phrase(clean):  # 'Im busy rn', 'ask me later'
        until = busy_until(clean, now, zone, contact)
    elif until is None and prefixed and _busy_phrase(rest):  # 'not now, on shift til 8'
        until = busy_until(rest, now, zone, contact, bare=True)
    if until is None:  # 'on shift til 8, ask me later', 'busy, ask me tomorrow'
        until = _busy_then_asked(clean, now, zone, tuple(later_words), contact)
    if until is None or until <= now or until - now > MAX_SNOOZE:
        return None
    return Snooze(until, clean)


_STATES = frozenset(("busy", "brysur", "yn brysur"))
"""LATER words that also describe how things were: 'Kind staff. Busy.' may answer a question."""


def _busy_then_asked(clean: str, now: datetime, zone: ZoneInfo, later_words: tuple[str, ...],
                     contact: TimeWindow | None) -> datetime | None:
    """A busy phrase (or a LATER word) and then, in a clause of its own, a request to be asked
    later: 'on shift til 8, ask me later' (at 8), 'busy, ask me tomorrow' (tomorrow); or any
    short reason and then a bare LATER or a request naming no time: 'feeding the baby, later',
    'baby crying, will answer later'; or one that names a time: 'between patients, ask me after 6'."""
    *reason, last = [part.strip() for part in _CLAUSES.split(clean) if part.strip()] or [""]
    head = " ".join(reason)
    asked, prefixed = _strip_prefix(last, later_words)
    bare_later = prefixed and not asked and last not in _STATES
    if head and len(head.split()) <= _REASON_WORDS and (bare_later or _ASK_LATER.match(last)):
        busy = busy_until(head, now, zone, contact, bare=True) if _busy_phrase(head) else None
        return busy or now.astimezone(UTC) + DEFAULT_SNOOZE
    requested, asking = _strip_prefix(last, ())
    if head and asking and requested and len(head.split()) <= _REASON_WORDS:
        when = _when(requested, now.astimezone(zone), True)  # 'between patients, ask me after 6'
        if when is not None:
            return when
    if not head or not (_busy_phrase(head) or _strip_prefix(head, later_words) == ("", True)):
        return None
    if prefixed and asked and not _ASK_LATER.match(last):
        return _when(asked, now.astimezone(zone), True)
    if not _ASK_LATER.match(last) and not (prefixed and not asked):
        return None
    busy = busy_until(head, now, zone, contact, bare=True) if _busy_phrase(head) else None
    return busy or now.astimezone(UTC) + DEFAULT_SNOOZE


def _time_after_reason(rest: str, local: datetime, later_words: tuple[str, ...]) -> datetime | None:
    """The time that ends a reason given after a LATER word ('on shift. tomorrow at 3',
    'now, after 7pm', 'driving, text me at 6'): only the last part, and only when it is all a
    time, so that a time told in a sentence ('later, at 3, the doctor came') is none."""
    clauses = [part.strip() for part in _CLAUSES.split(rest) if part.strip()]
    if len(clauses) < 2:
        return None
    last = _JOINING.sub("", clauses[-1])
    last, _ = _strip_prefix(last, later_words)
    return _when(last, local, True) if last else None


def puts_off(text: str, later_words: Iterable[str]) -> bool:
    """Whether a reply puts the question off with a LATER phrase and a short reason, naming no
    time: 'not now, driving', "can't talk, at work", 'not now - in a meeting'. Only a phrase of
    several words (or SNOOZE) will do: 'later that night he fell' and 'busy and loud' may
    answer a free-text question."""
    clean = _norm(text)
    strong = [word for word in later_words if " " in word or word == "snooze"]
    for word in sorted(strong, key=len, reverse=True):
        found = re.match(rf"{re.escape(word)}(?:[\s,:;.!-]+|$)", clean)
        if found:
            reason = clean[found.end():].strip()
            return 0 < len(reason.split()) <= _REASON_WORDS
    return False


# ----------------------------------------------------------------------------- saying when

_DAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "cy": ("Llun", "Mawrth", "Mercher", "Iau", "Gwener", "Sadwrn", "Sul"),
}
_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "cy": ("Ionawr", "Chwefror", "Mawrth", "Ebrill", "Mai", "Mehefin", "Gorffennaf", "Awst", "Medi", "Hydref",
           "Tachwedd", "Rhagfyr"),
}
_PHRASES = {
    "en": {"today": "at {t}", "tomorrow": "tomorrow at {t}", "day": "on {d} at {t}", "date": "on {d} {n} {m} at {t}"},
    "cy": {"today": "am {t}", "tomorrow": "yfory am {t}", "day": "ddydd {d} am {t}", "date": "ddydd {d} {n} {m} am {t}"},
}
A_WEEK = timedelta(days=7)
"""From this far ahead a weekday alone could be read as this week's: the date is named too."""


def describe(until: datetime, now: datetime, zone: ZoneInfo, language: str = "en") -> str:
    """'at 17:00', 'tomorrow at 09:00', 'on Tuesday at 09:00' or, a week or more away,
    'on Friday 20 March at 09:00' (a bare 'Friday' said on a Friday reads as today), on the
    participant's clock."""
    language = language if language in _PHRASES else "en"
    local, today = until.astimezone(zone), now.astimezone(zone).date()
    clock = f"{local:%H:%M}"
    if local.date() == today:
        return _PHRASES[language]["today"].format(t=clock)
    if local.date() == today + timedelta(days=1):
        return _PHRASES[language]["tomorrow"].format(t=clock)
    day = _DAYS[language][local.weekday()]
    if local.date() - today >= A_WEEK:
        return _PHRASES[language]["date"].format(d=day, n=local.day, m=_MONTHS[language][local.month - 1], t=clock)
    return _PHRASES[language]["day"].format(d=day, t=clock)
