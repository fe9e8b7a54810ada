"""The rules a repayment use case applies, derived from the settings of its ``Context``.

Use cases take the one ``Context`` (``chalicelib/kernel/context.py``: the moment and the settings) and
the domain ``Actor``; ``of(ctx)`` gives the repayment rules of those settings — the fee schedule and the
business calendar read from their files once per settings object, not once per request.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.config import Settings, settings
from chalicelib.kernel.business_calendar import BusinessCalendar
from chalicelib.kernel.context import Context, PerSettings
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
    quiet_hours: str = "22:00-08:00"  # outcome notices wait until the end of these (chalicelib/notices/)
    repayment_events_queue: str = ""  # each settlement outcome, for the 工单 linked to it (escalation)


def rules(cfg: Settings | None = None) -> Rules:
    """The rules of ``cfg`` (default: the current settings)."""
    cfg = cfg or settings()
    return Rules(step_up_threshold_fen=cfg.step_up_threshold_fen,
                 verification_ttl_seconds=cfg.verification_ttl_seconds,
                 verification_max_attempts=cfg.verification_max_attempts,
                 verification_max_resends=cfg.verification_max_resends,
                 verification_resend_interval_seconds=cfg.verification_resend_interval_seconds,
                 security_hotline=cfg.security_hotline, receipt_secret=cfg.receipt_secret,
                 settlement_queue=cfg.settlement_queue, quiet_hours=cfg.quiet_hours,
                 repayment_events_queue=cfg.repayment_events_queue,
                 settlement_recheck_seconds=cfg.settlement_recheck_seconds,
                 schedule=FeeSchedule.from_file(cfg.fee_schedule_path),
                 calendar=BusinessCalendar.from_file(cfg.holidays_path))


of = PerSettings(rules)
"""The repayment rules of a context's settings (built once per settings object)."""


def current() -> Context:
    """The context of a request or message arriving now (``Context.current()``)."""
    return Context.current()
