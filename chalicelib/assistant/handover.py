"""The handover to a person: "转人工" (or a flow the assistant could not finish) opens a 工单 through the
escalation facade with the category the conversation's topic maps to, the repayment it was about, and a
description prefilled with what the user already said — the topic, the repayment in words, what the
assistant already tried and the transcript (numbers masked) — so nobody asks the user again. The agent's
工单 page shows that description first and the linked repayment beside it.

Once per conversation: the key handed to the escalation service is derived from the conversation, so a second
tap (or a retried request) replays the same 工单 instead of opening another.
"""
from __future__ import annotations

from chalicelib.assistant import facts
from chalicelib.assistant.actions import POLITE, key_for
from chalicelib.assistant.facts import Fact, Grounded
from chalicelib.assistant.model import mask_numbers as mask  # the conversation's own masking, once more: a

# transcript handed in by another caller is masked too
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context

# The 工单 category of each intent (escalation's categories: repayment_delay, repayment_failed,
# account_security, fees, other). A theft report reaches account_security only through the confirmed freeze
# (``actions.freeze_account``): opening such a 工单 freezes the account, which the user must have said yes to.
CATEGORY = {"repayment_failed": "repayment_failed", "not_arrived": "repayment_delay",
            "late_fee_due_date": "repayment_delay", "fees": "fees"}
TOPIC = {"repayment_failed": "还款失败", "not_arrived": "扣款后未到账 / 到账慢", "fees": "手续费",
         "late_fee_due_date": "还款日和逾期", "reminders_autopay": "提醒和自动还款", "receipt": "电子回单",
         "verification_code": "验证码", "account_stolen": "账户被盗 / 盗刷", "suspicious_call": "可疑来电",
         "hotline": "官方热线", "complaint": "投诉", "case_status": "工单进度"}
MAX_DESCRIPTION = 2000          # escalation's Description limit


def category_of(intent: str | None) -> str:
    return CATEGORY.get(intent or "", "other")


def describe(*, intent: str | None, transcript: tuple[tuple[str, str], ...], repayment: dict | None,
             tried: tuple[str, ...]) -> str:
    """The 工单's description: a head the agent reads first, then the transcript, newest kept if too long."""
    head = ["【智能客服转人工】", f"问题：{TOPIC.get(intent or '', '其他问题')}"]
    if repayment is not None:
        head.append(f"相关还款：{facts.payee_words(repayment)} {repayment['amount']} 元，"
                    f"{facts.STATUS_WORDS.get(repayment['status'], repayment['status'])}"
                    + (f"（{facts.failure_words(repayment)[0]}）" if repayment["status"] == "failed" else ""))
    head.append("助手已尝试：" + ("；".join(dict.fromkeys(tried)) if tried else "解答了问题，未执行操作"))
    head.append("对话记录：")
    lines = [f"{'用户' if who == 'user' else '助手'}：{mask(' '.join(text.split()))}" for who, text in transcript]
    text = "\n".join(head)
    kept: list[str] = []
    room = MAX_DESCRIPTION - len(text) - 12
    for line in reversed(lines):          # the newest turns matter most
        if len(line) + 1 > room:
            kept.append("……（更早的对话略）")
            break
        kept.append(line)
        room -= len(line) + 1
    return (text + "\n" + "\n".join(reversed(kept)))[:MAX_DESCRIPTION]


def open_case(actor: Actor, ctx: Context, *, conversation_id: str, intent: str | None,
              transcript: tuple[tuple[str, str], ...], repayment_id: str | None, tried: tuple[str, ...] = (),
              category: str | None = None) -> Grounded:
    """Open the handover 工单 (once per conversation) and say what happens next."""
    from chalicelib.escalation import service as escalation
    repayment = facts.load_repayment(actor, ctx, repayment_id) if repayment_id else None
    chosen = category or category_of(intent)
    description = describe(intent=intent, transcript=transcript, repayment=repayment, tried=tried)
    try:
        opened = escalation.open_case(actor, ctx, category=chosen, description=description,  # type: ignore[arg-type]
                                      repayment_id=repayment["id"] if repayment else None,
                                      idempotency_key=key_for(conversation_id, f"handover:{chosen}"))
    except POLITE as exc:
        if getattr(exc, "code", None) == "idempotency_key_reused":   # this conversation already has its 工单
            return Grounded("这次对话已经转给人工客服了，可以在“我的工单”查看进度和回复。",
                            (Fact("我的工单", "查看进度", "/help/cases"),))
        existing = (exc.details or {}).get("existing") if getattr(exc, "code", None) == "duplicate_case" else None
        if existing:
            return _reuse(actor, ctx, str(existing), conversation_id=conversation_id, description=description)
        return Grounded(exc.message or "暂时无法创建工单，请稍后再试，或拨打客服热线。", failed=True)
    case = opened.body
    link = facts.LINK_CASE.format(id=case["case_id"])
    return Grounded(f"已为您转人工，工单号 {case['reference']}。您刚才说的情况和我们的对话已经一并转给客服，"
                    f"不用再重复描述。{case['what_next']}",
                    (Fact("工单", case["reference"], link), Fact("状态", case["status_title"]),
                     Fact("处理", case["step_title"])),
                    (), repayment_id=case.get("repayment_id"), case_id=case["case_id"], done="转人工，创建了工单",
                    extra={"reference": case["reference"]})


def _reuse(actor: Actor, ctx: Context, case_id: str, *, conversation_id: str, description: str) -> Grounded:
    """The user already has an open 工单 about this repayment (escalation's 409 ``duplicate_case``): no second
    one — the conversation's story is added to that 工单 as the user's message (once per conversation: its key
    is derived from the conversation) and the user is told its reference."""
    from chalicelib.escalation import service as escalation
    try:
        escalation.add_user_message(actor, ctx, case_id, description,
                                    idempotency_key=key_for(conversation_id, f"handover-append:{case_id}"))
    except POLITE:
        pass    # the 工单 stays the place to write; it just did not take the transcript (closed in between)
    try:
        case = escalation.get_case(actor, ctx, case_id)
    except POLITE:
        return Grounded("暂时无法转人工，请稍后再试，或在“我的工单”提交。", failed=True)
    link = facts.LINK_CASE.format(id=case.case_id)
    return Grounded(f"您已经有一个关于这笔还款的工单 {case.reference}，我没有再新建，已把我们的对话补充到这个工单里，"
                    f"客服会在原工单里回复您，不用再重复描述。{case.what_next}",
                    (Fact("工单", case.reference, link), Fact("状态", case.status_title),
                     Fact("处理", case.step_title)),
                    (), repayment_id=case.repayment_id, case_id=case.case_id, done="转人工（补充到已有工单）",
                    extra={"reference": case.reference})
