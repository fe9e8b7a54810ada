"""Business-day calendar shared by every domain (weekends, public holidays, make-up working days).

Configuration, not code: ``chalicelib/kernel/holidays.yaml`` (see the comments there).

    cal = BusinessCalendar.from_file(settings().holidays_path)
    cal.is_business_day(date)            # weekday and not a holiday, or a make-up working day
    cal.next_business_day(date)          # first business day strictly after ``date``
    cal.on_or_after(date)                # ``date`` itself if it is a business day, else the next one
    cal.add_business_days(date, n)
    cal.add_business_hours(moment, hours, opens="09:00", closes="18:00")
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _as_time(value: str | dt.time) -> dt.time:
    return value if isinstance(value, dt.time) else dt.time.fromisoformat(str(value))


@dataclass(frozen=True)
class BusinessCalendar:
    holidays: frozenset[dt.date] = frozenset()
    working_days: frozenset[dt.date] = frozenset()   # make-up working days on a weekend (调休)
    weekend: frozenset[int] = frozenset({6, 7})        # ISO weekdays
    time_zone: str = "Asia/Shanghai"

    @classmethod
    def from_file(cls, path: str | Path) -> BusinessCalendar:
        return _load(str(path))

    @classmethod
    def from_dict(cls, data: dict) -> BusinessCalendar:
        return cls(
            holidays=frozenset(_as_date(d) for d in data.get("holidays") or ()),
            working_days=frozenset(_as_date(d) for d in data.get("working_days") or ()),
            weekend=frozenset(int(d) for d in data.get("weekend", (6, 7))),
            time_zone=str(data.get("time_zone") or "Asia/Shanghai"),
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def local(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` (aware) in the calendar's time zone."""
        if moment.tzinfo is None:
            raise ValueError("aware datetime required")
        return moment.astimezone(self.zone)

    def is_business_day(self, day: dt.date | dt.datetime) -> bool:
        day = _as_date(day)
        if day in self.working_days:
            return True
        return day.isoweekday() not in self.weekend and day not in self.holidays

    def next_business_day(self, day: dt.date | dt.datetime) -> dt.date:
        day = _as_date(day) + dt.timedelta(days=1)
        for _ in range(366):
            if self.is_business_day(day):
                return day
            day += dt.timedelta(days=1)
        raise ValueError("no business day within a year: check the holiday file")

    def on_or_after(self, day: dt.date | dt.datetime) -> dt.date:
        day = _as_date(day)
        return day if self.is_business_day(day) else self.next_business_day(day)

    def add_business_days(self, day: dt.date | dt.datetime, count: int) -> dt.date:
        day = _as_date(day)
        for _ in range(count):
            day = self.next_business_day(day)
        return day

    def add_business_hours(self, moment: dt.datetime, hours: float, *, opens: str | dt.time = "09:00",
                           closes: str | dt.time = "18:00") -> dt.datetime:
        """``moment`` plus ``hours`` counted only inside business days' opening hours (local time)."""
        opens, closes = _as_time(opens), _as_time(closes)
        current = self.local(moment)
        remaining = dt.timedelta(hours=hours)
        for _ in range(3660):
            day = current.date()
            start = dt.datetime.combine(day, opens, self.zone)
            end = dt.datetime.combine(day, closes, self.zone)
            if not self.is_business_day(day) or current >= end:
                current = dt.datetime.combine(self.next_business_day(day), opens, self.zone)
                continue
            current = max(current, start)
            available = end - current
            if remaining <= available:
                return current + remaining
            remaining -= available
            current = dt.datetime.combine(self.next_business_day(day), opens, self.zone)
        raise ValueError("business hours do not fit within ten years")


@functools.cache
def _load(path: str) -> BusinessCalendar:
    import yaml  # imported when the file is first read, not at cold start
    with open(path, encoding="utf-8") as handle:
        return BusinessCalendar.from_dict(yaml.safe_load(handle) or {})
