"""The rules the bills use cases apply, derived from the settings of the one ``Context``
(``chalicelib/kernel/context.py``); the repayment rules they pay with are ``repay.service.rules_of(ctx)``."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from chalicelib.bills import catalogue as catalogue_module
from chalicelib.bills.model import parse_reminder_days
from chalicelib.config import Settings
from chalicelib.kernel.context import Context, PerSettings
from chalicelib.notices import QuietHours


@dataclass(frozen=True)
class Rules:
    catalogue: catalogue_module.Catalogue
    reminder_days: tuple[int, ...]
    quiet: QuietHours
    time_zone: str
    margin: dt.timedelta                # "arrive by the due date" runs this long before the last on-time moment
    check_after: dt.timedelta           # how soon the sweep looks at a repayment it started
    max_retries: int
    lookback_days: int


def rules(cfg: Settings) -> Rules:
    return Rules(catalogue=catalogue_module.load(cfg.catalogue_path),
                 reminder_days=parse_reminder_days(cfg.reminder_days),
                 quiet=QuietHours.parse(cfg.quiet_hours, cfg.time_zone), time_zone=cfg.time_zone,
                 margin=dt.timedelta(minutes=cfg.schedule_margin_minutes),
                 check_after=dt.timedelta(seconds=cfg.schedule_check_seconds),
                 max_retries=cfg.schedule_max_retries, lookback_days=cfg.wake_lookback_days)


of = PerSettings(rules)
"""The bills rules of a context's settings (the catalogue read once per settings object)."""


def current(now: dt.datetime | None = None) -> Context:
    """The context of a request or a run arriving now (``Context.current``)."""
    return Context.current(now)
