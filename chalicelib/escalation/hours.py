"""Step clocks: when a step's time limit lapses, and how much of it has been used.

Three ways to count, chosen per case and step:
- business hours (default): only 09:00–18:00 on business days of the shared
  calendar (``chalicelib/kernel/business_calendar.py``, Asia/Shanghai, holidays and 调休 from
  the ``escalation_calendar_path`` setting);
- round the clock: ``account_security`` cases;
- wall-clock seconds from the ``step_limit_overrides`` setting (demos, e2e).

``clocks(cfg)`` gathers the two settings into a ``Clocks`` the rules in ``model.py`` are given.

Pausing (waiting on the user) stores the used time in the clock's own unit;
resuming starts the remainder from the resume moment.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

from chalicelib.kernel.business_calendar import BusinessCalendar
from chalicelib.config import Settings
from chalicelib.escalation import steps as step_defs

OPENS = dt.time(9, 0)
CLOSES = dt.time(18, 0)


@dataclass(frozen=True)
class StepClock:
    kind: str          # "business" | "continuous" | "override"
    limit_seconds: float
    warn_fraction: float
    calendar: BusinessCalendar | None = None  # what "business" counts on

    def deadline(self, start: dt.datetime, used_seconds: float = 0) -> dt.datetime:
        return self._add(start, max(0.0, self.limit_seconds - used_seconds))

    def warn_at(self, start: dt.datetime, used_seconds: float = 0) -> dt.datetime:
        return self._add(start, max(0.0, self.limit_seconds * self.warn_fraction - used_seconds))

    def used(self, start: dt.datetime, end: dt.datetime) -> float:
        """Seconds of this clock between ``start`` and ``end``."""
        if end <= start:
            return 0.0
        if self.kind != "business":
            return (end - start).total_seconds()
        return business_seconds_between(self.calendar, start, end)

    def _add(self, start: dt.datetime, seconds: float) -> dt.datetime:
        if self.kind != "business":
            return start + dt.timedelta(seconds=seconds)
        if seconds <= 0:
            return start
        return self.calendar.add_business_hours(start, seconds / 3600, opens=OPENS,
                                                closes=CLOSES).astimezone(dt.timezone.utc)


@dataclass(frozen=True)
class Clocks:
    """How every step's limit is counted: the business calendar and any wall-clock overrides."""
    calendar: BusinessCalendar
    overrides: dict[str, float] = field(default_factory=dict)  # step name → seconds

    def for_step(self, step_name: str, *, security: bool, priority: str | None = None) -> StepClock:
        """The step's clock for a case of ``priority`` (limits per step and priority in ``sla.yaml``;
        no priority: P2's)."""
        from chalicelib.escalation import sla
        step = step_defs.get(step_name)
        override = self.overrides.get(step_name)
        if override is not None:
            return StepClock("override", override, step.warn_fraction)
        limit = sla.step_limit_hours(step_name, priority, security=security) * 3600
        if security:
            return StepClock("continuous", limit, step.warn_fraction)
        return StepClock("business", limit, step.warn_fraction, self.calendar)


def clocks(cfg: Settings) -> Clocks:
    """The step clocks the settings describe (a bad ``step_limit_overrides`` is a ValueError)."""
    return _clocks(cfg.escalation_calendar_path, cfg.step_limit_overrides)


@functools.cache
def _clocks(calendar_path: str, overrides_spec: str) -> Clocks:
    return Clocks(BusinessCalendar.from_file(calendar_path), step_defs.overrides(overrides_spec))


def business_seconds_between(cal: BusinessCalendar, start: dt.datetime, end: dt.datetime) -> float:
    """Seconds inside opening hours of business days between two aware moments."""
    current, end = cal.local(start), cal.local(end)
    total = 0.0
    day = current.date()
    while day <= end.date():
        if cal.is_business_day(day):
            opens = dt.datetime.combine(day, OPENS, cal.zone)
            closes = dt.datetime.combine(day, CLOSES, cal.zone)
            lo, hi = max(opens, current), min(closes, end)
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += dt.timedelta(days=1)
    return total
