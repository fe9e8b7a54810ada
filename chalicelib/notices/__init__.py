"""Notices to a wallet user about their money (reminders, outcome notices): SMS and the in-app inbox.

Every such SMS goes through the transactional outbox (``outbox.add`` into the unit of work of the change
it announces) as channel ``sms`` to the Cognito username; the phone is looked up when it is sent. None is
sent inside the quiet hours (``QUIET_HOURS``, default ``22:00-08:00`` Asia/Shanghai): ``send_after`` moves
such a moment to the end of the quiet hours and the outbox keeps the message until then
(``not_before``). Verification codes are not notices: the user is waiting for them, they go at once
(``repay/pay.send_code``).

The in-app inbox (``GET /notices``) gets the *same text* (one wording, written once by the caller), in the
same unit of work (``notify``): the notice and its unread marker, both put on absence (``store.py``). It is
exactly once for the same reason the SMS is — the unit of work's other elements (the repayment's
conditional move, the ``REMIND#`` record, the schedule's version) fail a second attempt, so nothing of it
is written twice. It is not held back by the quiet hours: it wakes nobody, the app shows it when opened.

This package: ``model.py`` (quiet hours, kinds, how a notice is shown), ``store.py`` (the notices table and
its in-memory twin), and here the use cases (the facade other domains call).
"""
from __future__ import annotations

import datetime as dt

from chalicelib.adapters import outbox
from chalicelib.kernel import clock
from chalicelib.notices import store
from chalicelib.notices.model import (
    KEEP,
    KINDS,
    NOTICE_ID,
    SIGNATURE,
    UNREAD_CAP,
    QuietHours,
    check_kind,
    decode_cursor,
    encode_cursor,
    new_id,
    view,
)

__all__ = ["KEEP", "KINDS", "NOTICE_ID", "SIGNATURE", "UNREAD_CAP", "QuietHours", "new_id", "sms", "notify",
           "inbox", "unread_count", "page", "get", "mark_read"]


def sms(uow, username: str, text: str, *, now: dt.datetime, quiet: QuietHours) -> tuple[str, dt.datetime]:
    """Add one text to ``username`` (phone looked up at send time) to the unit of work as ``notice``; its
    message id and when it may go. Deliver the id right after the commit: one deferred past the quiet hours waits."""
    message = outbox.Message(channel="sms", target=username, body=SIGNATURE + text)
    at = quiet.send_after(now)
    outbox.add(uow, message, not_before=at if at > now else None, name="notice")
    return message.message_id, at


def notify(uow, user_id: str, username: str, text: str, *, kind: str, now: dt.datetime, quiet: QuietHours,
           ref: dict[str, str | None] | None = None) -> list[str]:
    """Announce ``text`` to its owner in the unit of work: the SMS (``notice``, deferred past the quiet hours)
    and the in-app notice with its unread marker (``inbox``, ``inbox_unread``, at once); the outbox ids to
    deliver after the commit. One text, both channels: the wording lives with the caller."""
    check_kind(kind)
    message_id, _ = sms(uow, username, text, now=now, quiet=quiet)
    inbox(uow, user_id, text, kind=kind, now=now, ref=ref)
    return [message_id]


def inbox(uow, user_id: str, text: str, *, kind: str, now: dt.datetime, ref: dict[str, str | None] | None = None,
          notice_id: str | None = None) -> str:
    """Add one in-app notice (and its unread marker) to the unit of work; its id."""
    check_kind(kind)
    notice_id = notice_id or new_id(now)
    store.backend().add(uow, {"user_id": user_id, "id": notice_id, "kind": kind, "text": text,
                              "ref": {k: v for k, v in (ref or {}).items() if v} or None,
                              "created_at": clock.isoformat(now), "expires_at": store.expires(now)})
    return notice_id


def unread_count(user_id: str) -> tuple[int, bool]:
    """How many unread (at most ``UNREAD_CAP``) and whether there are more."""
    count = store.backend().unread_count(user_id)
    return min(count, UNREAD_CAP), count > UNREAD_CAP


def page(user_id: str, *, limit: int, cursor: str | None) -> dict:
    """The owner's notices, newest first, with the unread count."""
    items = store.backend().page(user_id, limit=limit, after_id=decode_cursor(cursor) if cursor else None)
    more = len(items) > limit
    items = items[:limit]
    unread, unread_more = unread_count(user_id)
    return {"items": [view(i) for i in items], "unread": unread, "unread_more": unread_more,
            "next_cursor": encode_cursor(items[-1]["id"]) if more and items else None}


def get(user_id: str, notice_id: str) -> dict | None:
    if not NOTICE_ID.fullmatch(notice_id or ""):
        return None
    item = store.backend().get(user_id, notice_id)
    return view(item) if item else None


def mark_read(user_id: str, notice_id: str, now: dt.datetime) -> dict | None:
    """Mark the owner's notice read (``read_at`` set only if unset, the unread marker deleted, together); a
    repeat changes nothing and answers the notice as it is. None: no such notice of theirs."""
    found = get(user_id, notice_id)
    if found is None or found["read"]:
        return found
    store.backend().mark_read(user_id, notice_id, now)
    return get(user_id, notice_id)
