"""Finding a 工单 by the phone's last four digits and a date ("a user who phones with …", issue #25).

The phone number lives in Cognito only (``adapters.sms.user_phone``: one AdminGetUser), which cannot search by
suffix. So when a 工单 opens, the owner's phone is read once and only its **last four digits** are kept on the
case (``Case.phone4``, GSI ``by_phone4``: ``PHONE4#<last four>`` / ``<created_at>#<ref>``). The number itself
is never stored, logged or sent anywhere new; four digits are what a masked number (``138****8001``) already
shows. A failed lookup opens the 工单 all the same, without ``phone4`` (found by the other searches).

A search names four digits and a day (``date``) or a range of at most ``MAX_DAYS`` days (``since`` / ``until``):
days of the business calendar's time zone (``settings.time_zone``, the day the caller names), turned into
the UTC span of opening times the index is read between.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata

from chalicelib.adapters import sms
from chalicelib.kernel import clock, refusals
from chalicelib.kernel.logs import logger, user_hash

MAX_DAYS = 31
_FOUR = re.compile(r"^\d{4}$")
_DIGITS = re.compile(r"\d")


def last_four(user_id: str, username: str) -> str | None:
    """The last four digits of the user's phone (Cognito), or None (no phone, or the lookup failed)."""
    try:
        number = sms.user_phone(username)
    except Exception:   # Cognito down or throttled: the 工单 opens anyway, found by the other searches
        logger.warning("phone lookup for search failed", extra={"user": user_hash(user_id)})
        return None
    digits = "".join(_DIGITS.findall(number or ""))
    return digits[-4:] if len(digits) >= 4 else None


def normalize(typed: str) -> str:
    """``１２３４`` / `` 12 34 `` → ``1234``; anything but exactly four digits: 400 in Chinese."""
    digits = re.sub(r"[\s-]+", "", unicodedata.normalize("NFKC", typed))
    if not _FOUR.match(digits):
        raise refusals.Invalid("手机号后四位应为 4 位数字，例如 8001。", code="invalid_phone_last4",
                               field="phone_last4")
    return digits


def window(day: dt.date | None, since: dt.date | None, until: dt.date | None, tz_name: str) -> tuple[str, str]:
    """The UTC opening-time span (first, last ISO instant) of a local ``day`` or of ``since``…``until``."""
    if day is not None and (since is not None or until is not None):
        raise refusals.Invalid("请只给出受理日期（date），或只给出日期范围（since 和 until）。", code="invalid_dates",
                               field="date")
    if day is not None:
        since = until = day
    if since is None or until is None:
        raise refusals.Invalid(f"按手机号后四位查找时请给出受理日期（如 date=2026-12-01），或不超过 {MAX_DAYS} 天的"
                               "日期范围（since 和 until）。", code="date_required", field="date")
    if since > until:
        raise refusals.Invalid("开始日期不能晚于结束日期。", code="invalid_dates", field="since")
    if (until - since).days + 1 > MAX_DAYS:
        raise refusals.Invalid(f"日期范围最多 {MAX_DAYS} 天，请缩小范围。", code="invalid_dates", field="until")
    first, last = clock.local_days(since, until, tz_name)
    assert first is not None and last is not None
    return first, last
