"""Reading 工单: one case (owner or staff), the owner's lists and 「我的工单」 page, the staff queues and
workspace, new messages since a cursor, the repayments behind a case, the oldest open cases (reports).

Every read goes through ``casework``'s read rule; how a case is shown is ``show.py``. Reads change nothing
(``case_repayments`` leaves an access record in the repay domain).
"""
from __future__ import annotations

from chalicelib.escalation import casework, model, notifications, repository, schemas, show
from chalicelib.escalation import steps as step_defs
from chalicelib.escalation.cursors import BadCursor
from chalicelib.escalation.model import Case
from chalicelib.kernel import refusals
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context


def get_case(actor: Actor, ctx: Context, case_id: str) -> schemas.CaseView:
    case = casework.load_visible(actor, case_id)
    return show.case_view(ctx, case, staff=case.user_id != actor.user_id)


def list_mine(actor: Actor) -> schemas.CaseList:
    return schemas.CaseList(items=[show.summary(c) for c in repository.store().cases_of_user(actor.user_id)])


def my_cases_page(actor: Actor, *, limit: int, cursor: str | None) -> tuple[list[Case], str | None]:
    """A page of the caller's cases, newest first (the 「我的工单」 page)."""
    try:
        return repository.store().user_page(actor.user_id, limit=limit, cursor=cursor)
    except BadCursor:
        raise refusals.Invalid("cursor 无效，请从第一页重新开始。", code="invalid_cursor", field="cursor") from None


def messages_since(actor: Actor, ctx: Context, case_id: str, after: str | None) -> schemas.NewMessages:
    """The owner's conversation after a cursor (a page polls this while it is open): one GetItem, one Query."""
    case = casework.load_own(actor, case_id)
    try:
        items = repository.store().conversation_after(case.case_id, after)
    except BadCursor:
        raise refusals.Invalid("after 无效，请不带 after 重新获取。", code="invalid_cursor", field="after") from None
    return schemas.NewMessages(
        case_id=case.case_id, cursor=items[-1]["cursor"] if items else after, status=case.status,
        status_title=model.STATUS_TITLES[case.status], version=case.version,
        items=[show.message(m) for m in items])


def owner_page(actor: Actor, ctx: Context, case_id: str) -> tuple[schemas.CaseView, dict]:
    """The owner's case for 「我的工单」: the view, what the owner can do now, and the conversation cursor."""
    case = casework.load_own(actor, case_id)
    view = show.case_view(ctx, case, staff=False)
    following = step_defs.next_step(case.step)
    answered = model.answered_at_step(case) or model.lapsed(case, ctx.now)
    can_escalate = following is not None and case.status in ("open", "waiting_user", "resolved") and (
        answered if case.status != "resolved" else model.within_reopen_window(case, ctx.now))
    hint = ""
    if following is not None and case.status in ("open", "waiting_user") and not answered:
        hint = (f"「{case.step_def.title}」答复后，如果问题仍未解决，您可以申请升级至「{following.title}」；"
                f"如到 {notifications.local_time(case.deadline, ctx.settings.time_zone)} 仍未答复，系统会自动升级。")
    messages = repository.store().conversation_after(case.case_id, None, limit=1000)
    actions = {
        "reply": case.status in ("open", "waiting_user"),
        "confirm": case.status == "resolved",
        "reopen": model.within_reopen_window(case, ctx.now),
        "rate": case.status == "closed" and case.csat is None,
        "escalate": can_escalate, "escalate_hint": hint,
        "next_step": following.title if following else None,
        "upload": case.status != "closed",
        "cursor": messages[-1]["cursor"] if messages else "",
    }
    return view, actions


# ---------------------------------------------------------------- staff
def queue(actor: Actor, step: str, *, limit: int, cursor: str | None) -> schemas.QueuePage:
    """A step's open cases, for staff who may work that step (the read rule of ``casework.load_visible``)."""
    casework.require_staff(actor)
    if not step_defs.is_step(step):
        raise refusals.Missing(f"没有这个步骤，可选：{'、'.join(step_defs.NAMES)}。", code="step_not_found")
    if not casework.may_work(actor, step_defs.get(step)):
        raise refusals.NotAllowed(f"「{step_defs.get(step).title}」的工单需要高级客服（senior-support）处理。",
                                  code="forbidden_role")
    try:
        cases, next_cursor = repository.store().queue_page(step, limit=limit, cursor=cursor)
    except BadCursor:
        raise refusals.Invalid("cursor 无效，请从第一页重新开始。", code="invalid_cursor", field="cursor") from None
    return schemas.QueuePage(step=step, items=[show.summary(c, staff=True) for c in cases], next_cursor=next_cursor)


def workable_steps(actor: Actor) -> list[step_defs.Step]:
    """The steps whose 工单 ``actor`` may act on (``casework.require_step_role``): the agent workspace's queues."""
    casework.require_staff(actor)
    return [step for step in step_defs.STEPS if casework.may_work(actor, step)]


def workspace_case(actor: Actor, ctx: Context, case_id: str) -> schemas.CaseView:
    """A 工单 as the agent workspace shows it: staff view, and only to staff who may act on its step
    (a frontline agent opening a senior 工单 gets 403, as acting on it would)."""
    case = casework.load(case_id)
    casework.require_step_role(actor, case)
    return show.case_view(ctx, case, staff=True)


def case_repayments(actor: Actor, ctx: Context, case_id: str):
    """The repayment(s) behind a 工单, read by staff who may act on it; the read leaves an access record."""
    from chalicelib.repay import service as repay_service  # cold start: the repay domain loads only when needed
    case = casework.load(case_id)
    casework.require_step_role(actor, case)
    return repay_service.read_for_case(actor, repay_service.current(), user_id=case.user_id, case_id=case.case_id,
                                       linked_id=case.repayment_id)


def oldest_open(limit: int = 20) -> list[Case]:
    """The open (or waiting) cases opened longest ago, oldest first (the reports' table; no Scan)."""
    return repository.store().oldest_open(limit=limit)
