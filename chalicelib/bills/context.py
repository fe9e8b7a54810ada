"""What the bills use cases take from outside: the time, their settings, and the repayment rules they pay with."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from chalicelib.kernel import clock
from chalicelib.bills import catalogue as catalogue_module
from chalicelib.bills.model import parse_reminder_days
from chalicelib.config import settings
from chalicelib.notices import QuietHours
from chalicelib.repay import context as repay_context


@dataclass(frozen=True)
class Context:
    now: dt.datetime
    repay: repay_context.Context        # fee schedule (limits, arrival rules), calendar, step-up threshold
    catalogue: catalogue_module.Catalogue
    reminder_days: tuple[int, ...]
    quiet: QuietHours
    time_zone: str
    margin: dt.timedelta                # "arrive by the due date" runs this long before the last on-time moment
    check_after: dt.timedelta           # how soon the sweep looks at a repayment it started
    max_retries: int
    lookback_days: int

    def at(self, now: dt.datetime) -> "Context":
        """The same rules at another moment (tests, devtools)."""
        return Context(now, repay_context.Context(now, self.repay.rules), self.catalogue, self.reminder_days,
                       self.quiet, self.time_zone, self.margin, self.check_after, self.max_retries, self.lookback_days)


def current(now: dt.datetime | None = None) -> Context:
    cfg = settings()
    now = now or clock.now()
    return Context(now=now, repay=repay_context.Context(now, repay_context.rules()),
                   catalogue=catalogue_module.load(cfg.catalogue_path),
                   reminder_days=parse_reminder_days(cfg.reminder_days),
                   quiet=QuietHours.parse(cfg.quiet_hours, cfg.time_zone), time_zone=cfg.time_zone,
                   margin=dt.timedelta(minutes=cfg.schedule_margin_minutes),
                   check_after=dt.timedelta(seconds=cfg.schedule_check_seconds),
                   max_retries=cfg.schedule_max_retries, lookback_days=cfg.wake_lookback_days)
