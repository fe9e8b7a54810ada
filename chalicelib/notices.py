"""Texts to a wallet user about their money (reminders, outcome notices): quiet hours and the outbox.

Every such SMS goes through the transactional outbox (``outbox.put`` inside the transaction of the
change it announces) as channel ``sms`` to the Cognito username; the phone is looked up when it is
sent. None is sent inside the quiet hours (``QUIET_HOURS``, default ``22:00-08:00`` Asia/Shanghai):
``send_after`` moves such a moment to the end of the quiet hours and the outbox keeps the message
until then (``outbox.put(..., not_before=...)``). Verification codes are not notices: the user is
waiting for them, they go at once (``repay/pay.send_code``).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from chalicelib import outbox
from chalicelib.clock import zone

SIGNATURE = "【RepayDesk】"


@dataclass(frozen=True)
class QuietHours:
    start: dt.time | None     # None: no quiet hours
    end: dt.time | None
    time_zone: str = "Asia/Shanghai"

    @classmethod
    def parse(cls, text: str, time_zone: str = "Asia/Shanghai") -> "QuietHours":
        """``"22:00-08:00"``; empty or ``off`` means none. A malformed value fails at start."""
        text = (text or "").strip()
        if text in ("", "off", "none"):
            return cls(None, None, time_zone)
        try:
            start, end = (dt.time.fromisoformat(part.strip()) for part in text.split("-"))
        except ValueError:
            raise ValueError(f"QUIET_HOURS must look like 22:00-08:00, got {text!r}") from None
        return cls(start, end, time_zone)

    def quiet(self, moment: dt.datetime) -> bool:
        if self.start is None:
            return False
        local = moment.astimezone(zone(self.time_zone)).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end      # across midnight

    def send_after(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` itself, or the end of the quiet hours it falls in (aware, UTC)."""
        if not self.quiet(moment):
            return moment
        local = moment.astimezone(zone(self.time_zone))
        day = local.date() if local.time() < self.end else local.date() + dt.timedelta(days=1)
        return dt.datetime.combine(day, self.end, zone(self.time_zone)).astimezone(dt.timezone.utc)


def sms(username: str, text: str, *, now: dt.datetime, quiet: QuietHours) -> tuple[dict, str, dt.datetime]:
    """The outbox element of one text to ``username`` (phone looked up at send time), its message id and
    when it may go. Deliver the id right after the commit: one deferred past the quiet hours waits."""
    message = outbox.Message(channel="sms", target=username, body=SIGNATURE + text)
    at = quiet.send_after(now)
    return outbox.put(message, not_before=at if at > now else None), message.message_id, at
