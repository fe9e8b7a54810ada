"""The assistant's actions, each run by the existing service with that service's own checks: retry a failed
repayment, resend a verification code, show a receipt, turn on a bill's reminders, freeze the account on a
theft report (asked first, done on the second tap), check a phone number. The user is always the caller
(``Actor`` from the token or the session), never anything the request body names: an id in an action is
looked up among the caller's own records, and someone else's looks exactly like a missing one.

An action id is ``<handler>[:<argument>]`` (``retry_repayment:rp_…:1``). A tap is idempotent: the key handed
to the service is derived from the conversation and the action id (which names the attempt it retries), the
same key the API's ``Idempotency-Key`` would carry — the same button tapped twice, or a form posted again,
retries once and replays the first answer. An action that no longer applies (the repayment has moved on, the
bill is gone) answers politely with the facts as they are now; a refusal of the service (frozen, too soon,
not retryable) is said in its own words. Never a 500 for any of it.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable

from chalicelib.adapters import idempotency
from chalicelib.assistant import facts
from chalicelib.assistant.facts import HANDOVER, Fact, Grounded, Offer
from chalicelib.kernel import refusals
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import metric

FREEZE_CONFIRM = "freeze_account:confirm"
GONE = "我没有找到这条记录（只能操作您本人的记录）。可以在“我的还款”里确认一下，或者转人工。"
# The service refusals a user can be told in the service's own words (frozen, no longer possible, too soon …).
POLITE = (refusals.Frozen, refusals.Conflicting, refusals.Rejected, refusals.Invalid, refusals.Limited,
          refusals.Missing, refusals.NotAllowed, refusals.Busy)


def key_for(conversation_id: str, action_id: str) -> str:
    """The Idempotency-Key of one offered action in one conversation (printable ASCII, within 255)."""
    digest = hashlib.sha256(f"{conversation_id}\n{action_id}".encode()).hexdigest()[:48]
    return f"assistant-{digest}"


# Refusals the user cannot fix by waiting or by changing what they asked (a frozen account, a failure retrying
# cannot fix, not allowed): the flow failed, and the engine hands over by itself (``failed.py``).
UNFIXABLE = (refusals.Frozen, refusals.Rejected, refusals.NotAllowed)
UNFIXABLE_CODES = frozenset({"not_retryable", "account_frozen"})


def unfixable(exc: refusals.DomainError) -> bool:
    return isinstance(exc, UNFIXABLE) or getattr(exc, "code", None) in UNFIXABLE_CODES


def _polite(exc: refusals.DomainError, *, tried: str = "", **kw) -> Grounded:
    hand = (HANDOVER,)
    said = exc.message or "这个操作现在做不了。需要帮忙的话可以转人工。"
    why = f"{tried}被拒绝：{said}" if tried and unfixable(exc) else None
    return Grounded(said, actions=hand, failed=True, escalate=why, **kw)


# ---------------------------------------------------------------- retry a failed repayment
def retry_repayment(actor: Actor, ctx: Context, argument: str, *, conversation_id: str) -> Grounded:
    repayment_id, _, attempt = argument.partition(":")
    view = facts.load_repayment(actor, ctx, repayment_id)
    if view is None:
        return Grounded(GONE, actions=(HANDOVER,), failed=True)
    offered_attempt = attempt if attempt.isdigit() else str(view.get("attempt"))
    tapped_twice = view["status"] == "processing" and str(view.get("attempt")) == str(int(offered_attempt) + 1)
    if not tapped_twice and (view["status"] != "failed" or str(view.get("attempt")) != offered_attempt):
        now = facts.describe(view, ctx)
        return Grounded("这笔还款的情况已经变了，不需要再按刚才的按钮。现在的情况是：" + now.text, now.facts,
                        now.actions, repayment_id=repayment_id)
    said = facts.incident_words(view) if not tapped_twice else None
    if said:
        now = facts.describe(view, ctx, incident=said)
        return Grounded(now.text, now.facts, now.actions, repayment_id=repayment_id)
    from chalicelib.repay import service as repay
    try:
        retried = repay.retry(actor, key_for(conversation_id, f"retry_repayment:{repayment_id}:{offered_attempt}"),
                              repayment_id, ctx)
    except POLITE as exc:
        return _polite(exc, tried="重试还款", repayment_id=repayment_id)
    body = retried.body
    when = facts.local_time((body.get("expected_arrival") or {}).get("expected_at"), ctx)
    if not retried.replayed:
        metric("AssistantAction", action="retry_repayment")
    shown = facts.describe(body, ctx)
    return Grounded(f"已为您重新提交这笔还款（第 {body.get('attempt')} 次尝试），现在处理中，预计{when}前到账。"
                    "结果出来后会短信通知您，请不要重复还款。", shown.facts, (HANDOVER,), repayment_id=repayment_id,
                    done=f"重试了还款（第 {body.get('attempt')} 次尝试，处理中）")


# ---------------------------------------------------------------- resend the SMS code of a large repayment
def resend_code(actor: Actor, ctx: Context, argument: str, *, conversation_id: str) -> Grounded:
    repayment_id, _, _seen = argument.partition(":")
    view = facts.load_repayment(actor, ctx, repayment_id)
    if view is None:
        return Grounded(GONE, actions=(HANDOVER,), failed=True)
    if view["status"] != "verification_required":
        now = facts.describe(view, ctx)
        return Grounded("这笔还款已经不需要验证码了。现在的情况是：" + now.text, now.facts, now.actions,
                        repayment_id=repayment_id)
    from chalicelib.repay import service as repay
    try:   # the API route's own scope (``RESEND#<id>``): the same key there or here sends one code
        outcome = idempotency.once(
            actor.user_id, key_for(conversation_id, f"resend_code:{argument}"), scope=f"RESEND#{repayment_id}",
            payload={}, action=lambda _claim: idempotency.Outcome(200, repay.resend_code(actor, repayment_id, ctx)))
    except POLITE as exc:
        return _polite(exc, tried="重新发送验证码", repayment_id=repayment_id)
    expires = facts.local_time((outcome.body.get("verification") or {}).get("expires_at"), ctx)
    return Grounded(f"已重新发送短信验证码到您的手机，之前的验证码已失效。新验证码{expires}前有效，请在还款页面输入。",
                    (Fact("验证码有效至", expires), Fact("输入验证码", "打开这笔还款",
                                                      facts.LINK_REPAYMENT.format(id=repayment_id))),
                    (HANDOVER,), repayment_id=repayment_id, done="重新发送了短信验证码")


# ---------------------------------------------------------------- the receipt (电子回单)
def show_receipt(actor: Actor, ctx: Context, argument: str, *, conversation_id: str) -> Grounded:
    repayment_id = argument.partition(":")[0]
    from chalicelib.repay import service as repay
    try:
        receipt = repay.receipt(actor, repayment_id, ctx)
    except refusals.Missing:
        return Grounded(GONE, actions=(HANDOVER,), failed=True)
    except POLITE as exc:
        return _polite(exc, tried="查看电子回单", repayment_id=repayment_id)
    link = f"/help/repayments/{repayment_id}/receipt"
    return Grounded(f"这是您的电子回单：{receipt['payee']} {receipt['amount']} 元，流水号 {receipt['serial']}，"
                    f"校验码 {receipt['verification_code']}。任何人都可以用流水号和校验码在“回单验真”页面核验。",
                    (Fact("电子回单", "打开回单", link), Fact("流水号", receipt["serial"]),
                     Fact("校验码", receipt["verification_code"]),
                     Fact("回单验真", "核验这张回单", receipt["verify_url"])),
                    (HANDOVER,), repayment_id=repayment_id, done="给出了电子回单")


# ---------------------------------------------------------------- a bill's due-date reminders
def set_reminder(actor: Actor, ctx: Context, argument: str, *, conversation_id: str) -> Grounded:
    from chalicelib.bills import service as bills
    try:
        bill = bills.update_bill(actor, argument, bills.schemas.BillChange(reminders=True), ctx)
    except refusals.Missing:
        return Grounded(GONE, actions=(HANDOVER,), failed=True)
    except POLITE as exc:
        return _polite(exc, tried="开启到期提醒")
    due = bill.get("next_due_date")
    when = f"，下个还款日{facts.day_words(due)}前会短信提醒您。" if due else "。"
    return Grounded(f"已为{bill['label']}开启到期提醒{when}还可以在“我的账单”设置自动还款。",
                    (Fact("账单", bill["label"], "/help/bills"), Fact("到期提醒", "已开启")), (HANDOVER,),
                    done="开启了账单到期提醒")


# ---------------------------------------------------------------- schedule a bill's repayment (asked first)
def schedule_repayment(actor: Actor, ctx: Context, argument: str, *, conversation_id: str) -> Grounded:
    """``<bill>:<amount>`` asks (it moves money later); ``<bill>:<amount>:confirm`` creates the schedule through the
    bills facade (``by_due_date``: it runs so that the money arrives by the due date), with the domain's own checks
    (the kind's limit, too late for the due date, a large amount confirmed by SMS code, frozen), once per tap: the
    key is derived from the conversation and the confirmed action, under the API route's scope."""
    from chalicelib.bills import service as bills
    bill_id, _, rest = argument.partition(":")
    amount, _, confirmed = rest.partition(":")
    try:
        bill = bills.get_bill(actor, bill_id, ctx)
    except refusals.Missing:
        return Grounded(GONE, actions=(HANDOVER,), failed=True)
    due = bill.get("next_due_date")
    if confirmed != "confirm":
        when = f"还款日{facts.day_words(due)}前" if due else "还款日前"
        return Grounded(f"确认为{bill['label']}预约还款 {amount} 元吗？会在{when}自动扣款并到账；执行前可以在"
                        "“我的账单”修改或取消。",
                        (Fact("账单", bill["label"], "/help/bills"), Fact("金额", f"{amount} 元")),
                        (Offer(f"schedule_repayment:{bill_id}:{amount}:confirm", "确认预约"), HANDOVER))
    try:
        made = idempotency.once(
            actor.user_id, key_for(conversation_id, f"schedule_repayment:{argument}"), scope=f"SCHEDULE#{bill_id}",
            payload={"mode": "by_due_date", "amount": amount},
            action=lambda _claim: idempotency.Outcome(201, bills.create_schedule(
                actor, bill_id, bills.schemas.NewSchedule(mode="by_due_date", amount=amount), ctx))).body
    except refusals.Missing:
        return Grounded(GONE, actions=(HANDOVER,), failed=True)
    except POLITE as exc:
        return _polite(exc, tried="预约还款")
    except ValueError:        # the request model refused the amount (pydantic): said, never a 500
        return Grounded(f"{amount} 元不能预约，请换一个金额，或在“我的账单”里设置。", actions=(HANDOVER,), failed=True)
    shown = (Fact("账单", bill["label"], "/help/bills"), Fact("金额", f"{made.get('amount') or amount} 元"),
             Fact("预约", made["message"], "/help/bills"))
    if made["status"] == "verification_required":
        return Grounded(f"已为{bill['label']}创建预约还款 {amount} 元。{made['message']}验证码已发到您的手机，请在"
                        "“我的账单”里输入。", shown, (HANDOVER,), done="创建了预约还款（等待短信验证码）")
    return Grounded(f"已为{bill['label']}预约还款 {amount} 元：{made['message']}可以在“我的账单”修改或取消。",
                    shown, (HANDOVER,), done="预约了还款")


# ---------------------------------------------------------------- theft: freeze now (asked first)
def freeze_account(actor: Actor, ctx: Context, argument: str, *, conversation_id: str,
                   transcript: tuple[tuple[str, str], ...] = (), tried: tuple[str, ...] = ()) -> Grounded:
    """The first tap asks; ``freeze_account:confirm`` opens the account-security 工单, which freezes repayments
    before anything else (the escalation service's security fast path) and goes straight to the senior team."""
    from chalicelib.repay import service as repay
    if repay.is_frozen(actor.user_id):
        return Grounded("您的账户已经冻结，任何还款都不会发出。安全专员会尽快联系您；解冻需要核实身份。",
                        actions=(HANDOVER,))
    if argument != "confirm":
        return Grounded("确认要立即冻结账户吗？冻结后所有还款都会暂停，直到安全专员核实身份后解冻。"
                        "同时会为您创建安全工单，由安全专员优先处理。",
                        actions=(Offer(FREEZE_CONFIRM, "确认冻结"), HANDOVER))
    from chalicelib.assistant import handover
    opened = handover.open_case(actor, ctx, conversation_id=conversation_id, intent="account_stolen",
                                transcript=transcript, repayment_id=None, tried=(*tried, "确认冻结账户"),
                                category="account_security")
    if opened.case_id is None:
        return opened
    return Grounded("已冻结您的账户，所有还款暂停，钱不会再被转出。安全专员会优先处理您的工单"
                    f"（{opened.extra.get('reference', '')}），并联系您核实身份。请不要向任何人提供验证码。",
                    opened.facts, (), case_id=opened.case_id, done="冻结了账户并创建了安全工单",
                    extra=opened.extra)


# ---------------------------------------------------------------- is this number ours?
def verify_number(actor: Actor, ctx: Context, argument: str, *, conversation_id: str, text: str = "") -> Grounded:
    return facts.number_facts(argument or text)


HANDLERS: dict[str, Callable[..., Grounded]] = {
    "retry_repayment": retry_repayment, "resend_code": resend_code, "show_receipt": show_receipt,
    "set_reminder": set_reminder, "freeze_account": freeze_account, "verify_number": verify_number,
    "schedule_repayment": schedule_repayment,
}
