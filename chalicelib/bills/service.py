"""Bills use cases, one module per family; this module is their one entry point (``app.py``, ``web/``):

- ``saved``      the catalogue, the utility look-up, saved bills (CRUD)
- ``schedules``  scheduled repayments of a bill (create, change, cancel, confirm by SMS code)
- ``sweep``      due-date reminders and running the schedules (fanned out per wake shard)
- the in-app inbox below (``chalicelib/notices/``)

Use cases take the domain ``Actor`` and the one ``Context`` (``chalicelib/kernel/context.py``); the bills rules
are ``rules_of(ctx)`` (``rules.py``). Writes go through ``store.py`` into a unit of work.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib import notices
from chalicelib.adapters import idempotency
from chalicelib.bills import schemas
from chalicelib.bills.rules import current
from chalicelib.bills.rules import of as rules_of
from chalicelib.bills.saved import (
    bill_view,
    catalogue,
    create_bill,
    delete_bill,
    get_bill,
    list_bills,
    lookup,
    update_bill,
)
from chalicelib.bills.schedules import (
    cancel_schedule,
    change_schedule,
    create_schedule,
    first_run,
    get_schedule,
    list_schedules,
    schedule_message,
    schedule_view,
    verify_schedule,
)
from chalicelib.bills.sweep import fan_out, sweep, work
from chalicelib.kernel import refusals
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context

__all__ = ["Context", "current", "rules_of", "sweep", "fan_out", "work", "catalogue", "lookup", "create_bill",
           "list_bills", "get_bill", "update_bill", "delete_bill", "bill_view", "create_schedule", "list_schedules",
           "get_schedule", "change_schedule", "cancel_schedule", "verify_schedule", "schedule_view",
           "schedule_message", "first_run", "once", "list_notices", "unread_notices", "read_notice"]


def once(actor: Actor, key: str | None, scope: str, payload: Any, change: Callable[[], tuple[int, dict]]):
    """An optional Idempotency-Key on a change: a repeat replays the first answer
    (``chalicelib/adapters/idempotency.py``)."""
    def action(_claim):
        status, body = change()
        return idempotency.Outcome(status, body)
    return idempotency.once(actor.user_id, key, scope=scope, payload=payload, action=action)


# ---------------------------------------------------------------- the in-app inbox (chalicelib/notices/)
def list_notices(actor: Actor, query: schemas.PageQuery, ctx: Context) -> dict:
    """The caller's notices (reminders, outcomes, schedule news), newest first, with the unread count."""
    return notices.page(actor.user_id, limit=query.limit, cursor=query.cursor)


def unread_notices(actor: Actor, ctx: Context) -> dict:
    unread, more = notices.unread_count(actor.user_id)
    return {"unread": unread, "unread_more": more}


def read_notice(actor: Actor, notice_id: str, ctx: Context) -> dict:
    """Mark one of the caller's notices read (a repeat is harmless); another user's is not found."""
    found = notices.mark_read(actor.user_id, notice_id, ctx.now)
    if found is None:
        raise refusals.Missing("找不到这条消息。", code="notice_not_found")
    return found
