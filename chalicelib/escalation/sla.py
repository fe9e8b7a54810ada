"""Service levels per priority (``sla.yaml`` beside this file) and how a case measures against them.

- Step limits per step **and** priority: the time a step's team has for a support response
  (``hours.Clocks.for_step`` reads them). Security cases count round the clock (``security`` column).
- Targets per priority: **first response** (opening → the first support answer at any step) and
  **resolution** (opening → the first resolve, not counting time paused while waiting on the
  user or between a resolve and a reopen).
- A **breach** is recorded once per case and key (``step:<step>``, ``first_response``,
  ``resolution``): in ``Case.breaches``, written with the case's conditional write, and as a
  ``breach`` event (``chalicelib/adapters/events.py``) in the same transaction. A target lapses *at* its
  limit: an answer at the exact limit is a breach, as the sweep escalates at that very moment.

Plain rules: given the case, the moment and the clocks; nothing here reads the clock or settings.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

from chalicelib.kernel import clock

SLA_PATH = Path(__file__).with_name("sla.yaml")
PRIORITIES = ("P1", "P2", "P3")
ANSWERS = ("replied", "paused", "resolved")      # support events that answer the user
_STARTS = ("created", "escalated", "resumed", "reopened")  # the case is open (its clock runs) after these
_STOPS = ("paused", "resolved")                  # ... and waits (user or confirmation) after these


@functools.cache
def table() -> dict:
    import yaml  # imported on first use (cold start: README, Search)
    data = yaml.safe_load(SLA_PATH.read_text(encoding="utf-8"))
    for name, limits in data["steps"].items():
        missing = {*PRIORITIES, "security"} - set(limits)
        if missing:
            raise ValueError(f"sla.yaml: step {name} lacks {sorted(missing)}")
    return data


def step_limit_hours(step: str, priority: str | None, *, security: bool) -> float:
    limits = table()["steps"][step]
    return float(limits["security" if security else (priority or "P2")])


def csat_target() -> float | None:
    """The CSAT target as a share (0.85), or None when ``sla.yaml`` sets none."""
    percent = table().get("csat_target_percent")
    if percent is None:
        return None
    if not 0 < float(percent) <= 100:
        raise ValueError(f"sla.yaml: csat_target_percent must be in (0, 100], got {percent!r}")
    return float(percent) / 100


def targets(priority: str, *, security: bool) -> tuple[float, float]:
    """(first-response hours, resolution hours) of a case."""
    row = table()["security"] if security else table()["priorities"][priority]
    return float(row["first_response_hours"]), float(row["resolution_hours"])


@dataclass(frozen=True)
class Measures:
    first_response_at: dt.datetime | None      # the first support answer, at any step
    first_response_seconds: float | None       # on the case's clock (business hours, or round the clock)
    resolved_at: dt.datetime | None            # the first resolve
    resolution_seconds: float | None           # running time up to the first resolve
    running_seconds: float                     # running time up to ``now`` (or the last stop)


def target_clock(case, clocks):
    """The clock a case's targets count on: round the clock for security cases, else business hours."""
    from chalicelib.escalation import hours
    if case.security:
        return hours.StepClock("continuous", 0, 1.0)
    return hours.StepClock("business", 0, 1.0, clocks.calendar)


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
                          "limit_hours": step_limit_hours(old.step, old.priority, security=old.security)}
    first_hours, resolution_hours = targets(new.priority, security=new.security)
    m = measure(new, now, clocks)
    where = old.step if old is not None else new.step
    first = m.first_response_seconds if m.first_response_at is not None else (
        m.running_seconds if new.status == "open" and m.resolved_at is None else None)
    if first is not None and first >= first_hours * 3600 and "first_response" not in recorded:
        found["first_response"] = {"target": "first_response", "step": where, "limit_hours": first_hours}
    resolution = m.resolution_seconds if m.resolved_at is not None else m.running_seconds
    if resolution >= resolution_hours * 3600 and "resolution" not in recorded:
        found["resolution"] = {"target": "resolution", "step": where, "limit_hours": resolution_hours}
    return found


