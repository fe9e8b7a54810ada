"""Notices: the quiet hours, the kinds, ids and how a notice is shown (no storage here)."""
from __future__ import annotations

import base64
import datetime as dt
import json
import re
import secrets
from dataclasses import dataclass

from chalicelib.kernel.clock import zone

SIGNATURE = "【RepayDesk】"
KINDS = ("reminder", "settled", "failed", "delayed", "schedule")
KEEP = dt.timedelta(days=180)            # notices (read or not) expire after this (TTL)
UNREAD_CAP = 99                          # the unread count reads at most this many + 1 markers ("99+")
NOTICE_ID = re.compile(r"nt_[0-9a-f]{20}")


@dataclass(frozen=True)
class QuietHours:
    start: dt.time | None     # None: no quiet hours
    end: dt.time | None
    time_zone: str = "Asia/Shanghai"

    @classmethod
    def parse(cls, text: str, time_zone: str = "Asia/Shanghai") -> QuietHours:
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
        if self.start is None or self.end is None:
            return False
        local = moment.astimezone(zone(self.time_zone)).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end      # across midnight

    def send_after(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` itself, or the end of the quiet hours it falls in (aware, UTC)."""
        if not self.quiet(moment) or self.end is None:
            return moment
        local = moment.astimezone(zone(self.time_zone))
        day = local.date() if local.time() < self.end else local.date() + dt.timedelta(days=1)
        return dt.datetime.combine(day, self.end, zone(self.time_zone)).astimezone(dt.UTC)


def new_id(now: dt.datetime) -> str:
    """``nt_`` + 12 hex of epoch ms + 8 random: ``sk`` order is creation order (newest first reads backwards)."""
    return f"nt_{int(now.timestamp() * 1000):012x}{secrets.token_hex(4)}"


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown notice kind {kind!r}")


def view(item: dict) -> dict:
    """How a stored notice is shown to its owner."""
    return {"id": item["id"], "kind": item["kind"], "text": item["text"], "ref": dict(item.get("ref") or {}),
            "created_at": item["created_at"], "read": bool(item.get("read_at")), "read_at": item.get("read_at")}


def encode_cursor(last: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    from chalicelib.kernel import refusals
    try:
        after = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["after"]
        if not isinstance(after, str) or not NOTICE_ID.fullmatch(after):
            raise ValueError
        return after
    except (ValueError, KeyError, TypeError):
        raise refusals.Invalid("cursor：翻页标记无效，请从第一页重新查询。", field="cursor") from None
