"""The step clock, in one module: when a step's time limit lapses, how much of it has been used, and how a
case measures against its SLA targets (``measure``, ``breaches_due``).

Imports only the step definitions (``steps.py``) and the service levels (``sla.py``), which import nothing
of this package that counts time: no import circle (``tests/escalation/unit/test_layers.py`` checks).

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

from chalicelib.config import Settings
from chalicelib.escalation import sla
from chalicelib.escalation import steps as step_defs
from chalicelib.kernel import clock
from chalicelib.kernel.business_calendar import BusinessCalendar

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
        return business_seconds_between(self._calendar(), start, end)

    def _add(self, start: dt.datetime, seconds: float) -> dt.datetime:
        if self.kind != "business":
            return start + dt.timedelta(seconds=seconds)
        if seconds <= 0:
            return start
        return self._calendar().add_business_hours(start, seconds / 3600, opens=OPENS,
                                                   closes=CLOSES).astimezone(dt.UTC)

    def _calendar(self) -> BusinessCalendar:
        if self.calendar is None:  # ``Clocks.for_step`` and ``target_clock`` always give business clocks one
            raise ValueError("a business-hours step clock counts on a calendar")
        return self.calendar


@dataclass(frozen=True)
class Clocks:
    """How every step's limit is counted: the business calendar and any wall-clock overrides."""
    calendar: BusinessCalendar
    overrides: dict[str, float] = field(default_factory=dict)  # step name → seconds

    def for_step(self, step_name: str, *, security: bool, priority: str | None = None) -> StepClock:
        """The step's clock for a case of ``priority`` (limits per step and priority in ``sla.yaml``;
        no priority: P2's)."""
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


# ---------------------------------------------------------------- how a case measures against its SLA targets
# - A **breach** is recorded once per case and key (``step:<step>``, ``first_response``, ``resolution``): in
#   ``Case.breaches``, written with the case's conditional write, and as a ``breach`` event
#   (``chalicelib/adapters/events.py``) in the same transaction. A target lapses *at* its limit: an answer at
#   the exact limit is a breach, as the sweep escalates at that very moment.
ANSWERS = ("replied", "paused", "resolved")      # support events that answer the user
_STARTS = ("created", "escalated", "resumed", "reopened")  # the case is open (its clock runs) after these
_STOPS = ("paused", "resolved")                  # ... and waits (user or confirmation) after these


@dataclass(frozen=True)
class Measures:
    first_response_at: dt.datetime | None      # the first support answer, at any step
    first_response_seconds: float | None       # on the case's clock (business hours, or round the clock)
    resolved_at: dt.datetime | None            # the first resolve
    resolution_seconds: float | None           # running time up to the first resolve
    running_seconds: float                     # running time up to ``now`` (or the last stop)


def target_clock(case, clocks: Clocks) -> StepClock:
    """The clock a case's targets count on: round the clock for security cases, else business hours."""
    if case.security:
        return StepClock("continuous", 0, 1.0)
    return StepClock("business", 0, 1.0, clocks.calendar)


def measure(case, now: dt.datetime, clocks) -> Measures:
    """Walk the timeline: when support first answered, when it was first resolved, how long the
    case's clock ran (open, not waiting on the user, not resolved)."""
    clk = target_clock(case, clocks)
    created = clock.parse(case.created_at)
    first_at = resolved_at = None
    first_seconds = resolution_seconds = None
    running_since: dt.datetime | None = None
    used = 0.0
    for entry in case.timeline:
        at, event = clock.parse(entry["at"]), entry.get("event")
        if first_at is None and event in ANSWERS and entry.get("actor") == "support":
            first_at, first_seconds = at, clk.used(created, at)
        if event in _STARTS and running_since is None:
            running_since = at
        elif event in _STOPS and running_since is not None:
            used += clk.used(running_since, at)
            running_since = None
        if event == "resolved" and resolved_at is None:
            resolved_at, resolution_seconds = at, used
    if running_since is not None:
        used += clk.used(running_since, now)
    return Measures(first_at, first_seconds, resolved_at, resolution_seconds, used)


def breaches_due(old, new, now: dt.datetime, clocks) -> dict[str, dict]:
    """Breaches that ``new`` (the case after a change at ``now``) must record and has not yet:
    key → {"target", "step", "limit_hours"}. ``old`` is the case before the change (None: opened)."""
    found: dict[str, dict] = {}
    recorded = set(new.breaches)
    if old is not None and old.status == "open" and old.deadline and clock.parse(old.deadline) <= now:
        key = f"step:{old.step}"
        if key not in recorded:
            found[key] = {"target": "step", "step": old.step,
                          "limit_hours": sla.step_limit_hours(old.step, old.priority, security=old.security)}
    first_hours, resolution_hours = sla.targets(new.priority, security=new.security)
    m = measure(new, now, clocks)
    where = old.step if old is not None else new.step
    first = m.first_response_seconds if m.first_response_at is not None else (
        m.running_seconds if new.status == "open" and m.resolved_at is None else None)
    if first is not None and first >= first_hours * 3600 and "first_response" not in recorded:
        found["first_response"] = {"target": "first_response", "step": where, "limit_hours": first_hours}
    # (``measure`` sets ``resolved_at`` and ``resolution_seconds`` together)
    resolution = m.resolution_seconds if m.resolution_seconds is not None else m.running_seconds
    if resolution >= resolution_hours * 3600 and "resolution" not in recorded:
        found["resolution"] = {"target": "resolution", "step": where, "limit_hours": resolution_hours}
    return found
