"""The engine's LATER: a snooze asked for in words ('LATER', 'in 2 hours', 'not now, driving',
'on shift til 8'), placed in the participant's contact hours and before the question closes.
The words are read in flows/snooze.py; when to ask again is placed in flows/schedule_timing.py."""

from __future__ import annotations

from flows import schedule_timing, snooze
from flows.engine_core import Turn
from flows.engine_opt_out import EngineOptOut
from flows.events import ScheduleTask
from flows.steps.open import OpenStep


class EngineLater(EngineOptOut):
    """LATER and the replies that put a question off, on top of :class:`flows.engine_opt_out.EngineOptOut`."""

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

    def _own_later_text(self) -> bool:
        """The study words its own reply to a bare LATER and not the one that says when: keep it."""
        return self.study is not None and "later" in self.study.texts and "later_at" not in self.study.texts
