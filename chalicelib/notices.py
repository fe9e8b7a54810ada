"""Notices to a wallet user about their money (reminders, outcome notices): SMS and the in-app inbox.

Every such SMS goes through the transactional outbox (``outbox.put`` inside the transaction of the
change it announces) as channel ``sms`` to the Cognito username; the phone is looked up when it is
sent. None is sent inside the quiet hours (``QUIET_HOURS``, default ``22:00-08:00`` Asia/Shanghai):
``send_after`` moves such a moment to the end of the quiet hours and the outbox keeps the message
until then (``outbox.put(..., not_before=...)``). Verification codes are not notices: the user is
waiting for them, they go at once (``repay/pay.send_code``).

The in-app inbox (``GET /notices``) gets the *same text* (one wording, written once by the caller),
in the same transaction (``notify``): the notice ``USER#<sub>`` / ``NOTICE#<id>`` and its unread marker
``UNREAD#<id>`` in the notices table, both put on absence. It is exactly once for the same reason the SMS
is — the transaction's other elements (the repayment's conditional move, the ``REMIND#`` record, the
schedule's version) fail a second attempt, so nothing of it is written twice. It is not held back by
the quiet hours: it wakes nobody, the app shows it when opened.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from chalicelib.adapters import aws, outbox
from chalicelib.kernel import clock
from chalicelib.kernel.clock import zone
from chalicelib.config import settings

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


def notify(user_id: str, username: str, text: str, *, kind: str, now: dt.datetime, quiet: QuietHours,
           ref: dict[str, str] | None = None) -> tuple[dict[str, dict], list[str]]:
    """Transaction elements announcing ``text`` to its owner: the SMS (``notice``, deferred past the quiet
    hours) and the in-app notice with its unread marker (``inbox``, ``inbox_unread``, at once); and the
    outbox ids to deliver after the commit. One text, both channels: the wording lives with the caller."""
    element, message_id, _ = sms(username, text, now=now, quiet=quiet)
    return {"notice": element, **inbox(user_id, text, kind=kind, now=now, ref=ref)}, [message_id]


# ---------------------------------------------------------------- the in-app inbox (notices table)
def _name() -> str:
    return settings().notices_table


def _pk(user_id: str) -> str:
    return f"USER#{user_id}"


def new_id(now: dt.datetime) -> str:
    """``nt_`` + 12 hex of epoch ms + 8 random: ``sk`` order is creation order (newest first reads backwards)."""
    return f"nt_{int(now.timestamp() * 1000):012x}{secrets.token_hex(4)}"


def inbox(user_id: str, text: str, *, kind: str, now: dt.datetime, ref: dict[str, str] | None = None,
          notice_id: str | None = None) -> dict[str, dict]:
    """The two puts (on absence) of one in-app notice: the notice and its unread marker."""
    if kind not in KINDS:
        raise ValueError(f"unknown notice kind {kind!r}")
    notice_id = notice_id or new_id(now)
    expires = int((now + KEEP).timestamp())
    item = {"pk": _pk(user_id), "sk": f"NOTICE#{notice_id}", "id": notice_id, "kind": kind, "text": text,
            "ref": {k: v for k, v in (ref or {}).items() if v} or None, "created_at": clock.isoformat(now),
            "expires_at": expires}
    marker = {"pk": _pk(user_id), "sk": f"UNREAD#{notice_id}", "expires_at": expires}
    absent = "attribute_not_exists(pk)"
    return {"inbox": {"Put": {"TableName": _name(), "Item": aws.attributes(item), "ConditionExpression": absent}},
            "inbox_unread": {"Put": {"TableName": _name(), "Item": aws.attributes(marker),
                                     "ConditionExpression": absent}}}


def _view(item: dict) -> dict:
    return {"id": item["id"], "kind": item["kind"], "text": item["text"], "ref": dict(item.get("ref") or {}),
            "created_at": item["created_at"], "read": bool(item.get("read_at")), "read_at": item.get("read_at")}


def _encode_cursor(last: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    from chalicelib.kernel import refusals
    try:
        after = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["after"]
        if not isinstance(after, str) or not NOTICE_ID.fullmatch(after):
            raise ValueError
        return after
    except (ValueError, KeyError, TypeError):
        raise refusals.Invalid("cursor：翻页标记无效，请从第一页重新查询。", field="cursor") from None


def unread_count(user_id: str) -> tuple[int, bool]:
    """How many unread (at most ``UNREAD_CAP``) and whether there are more: a ``COUNT`` Query of the
    user's ``UNREAD#`` markers, strongly consistent, bounded by ``Limit``."""
    response = aws.table(_name()).query(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :u)", Select="COUNT", ConsistentRead=True,
        ExpressionAttributeValues={":pk": _pk(user_id), ":u": "UNREAD#"}, Limit=UNREAD_CAP + 1)
    count = int(response.get("Count", 0))
    return min(count, UNREAD_CAP), count > UNREAD_CAP


def page(user_id: str, *, limit: int, cursor: str | None) -> dict:
    """The owner's notices, newest first (Query, ``Limit n+1``), with the unread count."""
    query: dict[str, Any] = {"KeyConditionExpression": "pk = :pk AND begins_with(sk, :n)",
                             "ExpressionAttributeValues": {":pk": _pk(user_id), ":n": "NOTICE#"},
                             "ScanIndexForward": False, "Limit": limit + 1}
    if cursor:
        query["ExclusiveStartKey"] = {"pk": _pk(user_id), "sk": f"NOTICE#{_decode_cursor(cursor)}"}
    items = aws.table(_name()).query(**query).get("Items", [])
    more = len(items) > limit
    items = items[:limit]
    unread, unread_more = unread_count(user_id)
    return {"items": [_view(i) for i in items], "unread": unread, "unread_more": unread_more,
            "next_cursor": _encode_cursor(items[-1]["id"]) if more and items else None}


def get(user_id: str, notice_id: str) -> dict | None:
    if not NOTICE_ID.fullmatch(notice_id or ""):
        return None
    item = aws.table(_name()).get_item(Key={"pk": _pk(user_id), "sk": f"NOTICE#{notice_id}"},
                                       ConsistentRead=True).get("Item")
    return _view(item) if item else None


def mark_read(user_id: str, notice_id: str, now: dt.datetime) -> dict | None:
    """Mark the owner's notice read: one transaction (``read_at`` set only if unset, the unread marker
    deleted); a repeat changes nothing and answers the notice as it is. None: no such notice of theirs."""
    found = get(user_id, notice_id)
    if found is None or found["read"]:
        return found
    key = {"pk": _pk(user_id), "sk": f"NOTICE#{notice_id}"}
    try:
        aws.transact({
            "notice": {"Update": {"TableName": _name(), "Key": aws.attributes(key),
                                  "UpdateExpression": "SET read_at = :t",
                                  "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(read_at)",
                                  "ExpressionAttributeValues": aws.attributes({":t": clock.isoformat(now)})}},
            "unread": {"Delete": {"TableName": _name(),
                                  "Key": aws.attributes({"pk": _pk(user_id), "sk": f"UNREAD#{notice_id}"})}}})
    except aws.ConditionFailed:
        pass        # read meanwhile (another tap, another device): answer it as it is now
    return get(user_id, notice_id)
