"""Staff reading a user's repayments (the 工单's repayment(s) in the agent workspace and
``GET /support/cases/{id}/repayments``).

Only staff may call it, always for a named 工单 (the escalation service decides which 工单 a staff
member may work and passes the user and the linked repayment on). Before anything is returned an
access record is written to the user's partition — who (staff id and name), whose data, which
repayments, for which 工单, when — with a conditional put; if it cannot be written, nothing is shown.
Payees are shown as stored: card last 4 only.
"""
from __future__ import annotations

from chalicelib.kernel import refusals
from chalicelib.kernel.actor import SENIOR_SUPPORT, SUPPORT, Actor
from chalicelib.kernel.clock import isoformat
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import logger, metric, user_hash
from chalicelib.repay import schemas, store
from chalicelib.repay.views import view

RECENT = 5   # the user's latest repayments shown beside the one the 工单 names


def read_for_case(actor: Actor, ctx: Context, *, user_id: str, case_id: str,
                  linked_id: str | None) -> schemas.StaffRepayments:
    if not actor.is_staff:
        raise refusals.NotAllowed("此操作仅限客服人员。", code="forbidden_role")
    shown = []
    linked = store.get(user_id, linked_id) if linked_id else None
    if linked is not None:
        shown.append(linked)
    recent, _ = store.page(user_id, status=None, kind=None, limit=RECENT, after_id=None)
    shown += [r for r in recent if linked is None or r.id != linked.id]
    at = isoformat(ctx.now)
    record = store.put_access_record(user_id, {
        "event": "staff_read_repayments", "at": at, "staff_id": actor.user_id,
        "staff_username": actor.username or actor.user_id, "staff_role": staff_role(actor), "case_id": case_id,
        "repayment_ids": [r.id for r in shown] or ["-"]})
    logger.info("staff read repayments", extra={"case_id": case_id, "user": user_hash(user_id),
                                                "staff": user_hash(actor.user_id), "count": len(shown)})
    metric("StaffRepaymentRead")
    return schemas.StaffRepayments(
        case_id=case_id, linked_repayment_id=linked.id if linked else None, accessed_at=at,
        access_record=record["sk"],
        items=[schemas.RepaymentView.model_validate(view(r, ctx)) for r in shown])


def staff_role(actor: Actor) -> str:
    return SENIOR_SUPPORT if actor.has_role(SENIOR_SUPPORT) else SUPPORT


def record_access(actor: Actor, ctx: Context, *, user_id: str, event: str, case_ids: list[str]) -> dict:
    """Another domain's staff read of a user's data (a search naming the user): an access record, written
    conditionally before the data is shown, like ``read_for_case``'s."""
    if not actor.is_staff:
        raise refusals.NotAllowed("此操作仅限客服人员。", code="forbidden_role")
    record = store.put_access_record(user_id, {
        "event": event, "at": isoformat(ctx.now), "staff_id": actor.user_id,
        "staff_username": actor.username or actor.user_id, "staff_role": staff_role(actor),
        "case_ids": case_ids or ["-"]})
    metric("StaffAccessRecorded")
    return record


def access_log(user_id: str) -> list[dict]:
    """The access records of a user's repayments, newest first (for audits and tests)."""
    return [{k: v for k, v in item.items() if k not in ("pk",)} for item in store.access_records(user_id)]
