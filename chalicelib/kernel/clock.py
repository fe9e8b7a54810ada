"""The one source of "now", so that tests can move time (deadlines, expiry, calendars).

Three layers, from the bottom:

- the **base clock**: the machine's clock, or — when the ``CLOCK_START`` setting is given (local
  stacks and tests only: no deployed stage sets it, a test checks) — a clock that reads
  ``CLOCK_START`` at the real instant ``CLOCK_START_REAL`` (default: when this process first asks)
  and runs forward from there at the machine's pace. Every process of a local stack gets the same
  pair, so the API, the event runner and the test process agree to the millisecond, and business
  hours, dates and deadlines are the same whatever the hour the stack is started at. Tests set it
  in-process with ``run_from``.
- ``advance(delta)``: moves the clock forward (or back) from the base;
- ``freeze(moment)``: stops it at ``moment`` (``advance`` then moves the frozen moment).

``reset()`` removes the last two and keeps the base; ``reset(base=True)`` also forgets a base set
with ``run_from`` (the ``CLOCK_START`` setting is read again on the next call).

Only the application's own notion of time moves: tokens (Cognito, JWT expiry), presigned URLs and
AWS itself keep the machine's clock, which is why the base clock *runs* rather than jumps.
"""
from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo

UTC = dt.UTC
_ZERO = dt.timedelta(0)
_base: dt.timedelta | None = None   # base clock − machine clock; None: read the setting on next use
_offset = _ZERO
_frozen: dt.datetime | None = None


def _base_offset() -> dt.timedelta:
    global _base
    if _base is None:
        from chalicelib.config import settings  # imported here: config must not depend on the clock
        cfg = settings()
        if cfg.clock_start:
            real = (dt.datetime.fromtimestamp(cfg.clock_start_real, UTC) if cfg.clock_start_real is not None
                    else dt.datetime.now(UTC))
            _base = parse(cfg.clock_start) - real
        else:
            _base = _ZERO
    return _base


def now() -> dt.datetime:
    """Aware UTC now (shifted or frozen in tests)."""
    if _frozen is not None:
        return _frozen
    return dt.datetime.now(UTC) + _base_offset() + _offset


def epoch() -> int:
    return int(now().timestamp())


@functools.cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_now(tz_name: str) -> dt.datetime:
    return now().astimezone(zone(tz_name))


def isoformat(moment: dt.datetime) -> str:
    """UTC ISO-8601 with a Z, second precision and fixed width so strings sort as times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def local_days(since: dt.date | None, until: dt.date | None, tz_name: str) -> tuple[str | None, str | None]:
    """The UTC instants (``isoformat``) from the start of local day ``since`` to the last millisecond of local
    day ``until`` — what a person in ``tz_name`` means by "from 1 to 3 December"; None stays open."""
    zone_ = zone(tz_name)
    first = isoformat(dt.datetime.combine(since, dt.time(), zone_)) if since else None
    last = (isoformat(dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), zone_)
                      - dt.timedelta(milliseconds=1)) if until else None)
    return first, last


def parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- test controls -------------------------------------------------------
def run_from(moment: dt.datetime, *, real: dt.datetime | None = None) -> None:
    """A base clock that reads ``moment`` at the real instant ``real`` (default: now) and runs on."""
    global _base
    if moment.tzinfo is None:
        raise ValueError("run_from() needs an aware datetime")
    _base = moment - (real or dt.datetime.now(UTC))


def freeze(moment: dt.datetime) -> None:
    global _frozen
    if moment.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = moment.astimezone(UTC)


def advance(delta: dt.timedelta) -> None:
    global _frozen, _offset
    if _frozen is not None:
        _frozen = _frozen + delta
    else:
        _offset = _offset + delta


def reset(*, base: bool = False) -> None:
    """Unfreeze and undo ``advance``; ``base=True``: also back to the configured base clock."""
    global _base, _frozen, _offset
    _frozen = None
    _offset = _ZERO
    if base:
        _base = None
