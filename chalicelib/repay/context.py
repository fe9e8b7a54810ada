"""What a repayment use case takes from outside: the time and the rules it applies.

Use cases take a ``Context`` (and the domain ``Actor``) instead of reading the clock and the
configuration themselves; ``current()`` builds one at the edge (``app.py``, a test).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from chalicelib.kernel import clock
from chalicelib.kernel.business_calendar import BusinessCalendar
from chalicelib.config import settings
from chalicelib.repay.fees import FeeSchedule


@dataclass(frozen=True)
class Rules:
    """The settings the repayment use cases need, and the fee schedule and calendar they name."""
    step_up_threshold_fen: int        # above this a repayment waits for its SMS code
    verification_ttl_seconds: int
    verification_max_attempts: int
    verification_max_resends: int
    verification_resend_interval_seconds: int
    security_hotline: str
    settlement_queue: str
    settlement_recheck_seconds: int
    schedule: FeeSchedule
    calendar: BusinessCalendar
    receipt_secret: str | None = field(default=None, repr=False)   # never logged
    quiet_hours: str = "22:00-08:00"  # outcome notices wait until the end of these (chalicelib/notices.py)


@dataclass(frozen=True)
class Context:
    now: dt.datetime
    rules: Rules


def rules() -> Rules:
    cfg = settings()
    return Rules(step_up_threshold_fen=cfg.step_up_threshold_fen, verification_ttl_seconds=cfg.verification_ttl_seconds,
                 verification_max_attempts=cfg.verification_max_attempts,
                 verification_max_resends=cfg.verification_max_resends,
                 verification_resend_interval_seconds=cfg.verification_resend_interval_seconds,
                 security_hotline=cfg.security_hotline, receipt_secret=cfg.receipt_secret,
                 settlement_queue=cfg.settlement_queue, quiet_hours=cfg.quiet_hours, settlement_recheck_seconds=cfg.settlement_recheck_seconds,
                 schedule=FeeSchedule.from_file(cfg.fee_schedule_path),
                 calendar=BusinessCalendar.from_file(cfg.holidays_path))


def current() -> Context:
    """The context of a request or message arriving now."""
    return Context(now=clock.now(), rules=rules())
