"""The one source of "now", so that tests can move time (deadlines, expiry, calendars)."""
from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo

UTC = dt.timezone.utc
_offset = dt.timedelta(0)
_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    """Aware UTC now (shifted or frozen in tests)."""
    if _frozen is not None:
        return _frozen
    return dt.datetime.now(UTC) + _offset


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


def parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- test controls -------------------------------------------------------
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


def reset() -> None:
    global _frozen, _offset
    _frozen = None
    _offset = dt.timedelta(0)
