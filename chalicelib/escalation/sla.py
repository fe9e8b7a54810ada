"""Service levels per step and priority, as data (``sla.yaml`` beside this file); imports nothing of escalation.

- Step limits per step **and** priority: the time a step's team has for a support response
  (``hours.Clocks.for_step`` reads them). Security cases count round the clock (``security`` column).
- Targets per priority: **first response** (opening → the first support answer at any step) and
  **resolution** (opening → the first resolve, not counting time paused while waiting on the
  user or between a resolve and a reopen). How a case measures against them (and when a target is
  breached) is counted by the step clock, ``hours.measure`` / ``hours.breaches_due``.

Other domains read these through the facade (``chalicelib.escalation.service``).
"""
from __future__ import annotations

import functools
from pathlib import Path

SLA_PATH = Path(__file__).with_name("sla.yaml")
PRIORITIES = ("P1", "P2", "P3")


@functools.cache
def table() -> dict:
    import yaml  # third-party, imported on first use (cold start: README, Search)
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
