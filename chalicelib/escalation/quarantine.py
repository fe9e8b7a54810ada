"""Quarantined inbound mails, for leads (#25 item 4; ``inbound.py`` puts them there): list them, release one into
its 工单 when its reason allows (``inbound.RELEASABLE``: a sender who is not the owner's verified address, but
whom the lead recognises as the user), or discard one. Senior support only; the API and ``/agent/mail`` call
these same functions.

Release: the kept raw mail is read again and added exactly as an accepted reply would be (``inbound.compose``:
quoted history stripped, files checked by the evidence rules) — the user's message and a staff-only timeline
entry (``mail_released``: who, why) in one transaction with the record's ``held`` → ``released``, conditional on
both the 工单's version and the record still being held: two leads releasing at once add it once.
Discard: ``held`` → ``discarded``, conditional. Both leave who and when on the record (the audit) and a log line.
"""
from __future__ import annotations

import re

from chalicelib.escalation import attachments, casework, hours, inbound, model, notifications
from chalicelib.escalation import quarantine_schemas as schemas
from chalicelib.escalation.cursors import BadCursor
from chalicelib.escalation.quarantine_store import ID_PATTERN, Quarantined, chosen
from chalicelib.escalation.store import ElementFailed, VersionConflict
from chalicelib.kernel import refusals
from chalicelib.kernel.actor import SENIOR_SUPPORT, Actor
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import logger

REASON_TITLES = {
    "too_large": "邮件过大", "auto_reply": "自动回复", "loop": "邮件回环（来自我们自己的地址）", "virus": "含病毒",
    "spam": "垃圾邮件", "spoofed_sender": "发件人伪造（DMARC 未通过）", "no_reply_address": "未写给工单回复地址",
    "forged_token": "回复地址无效（伪造或已失效）", "unknown_sender": "发件人不是用户验证过的邮箱",
    "case_closed": "工单已关闭", "empty": "没有新内容", "not_accepted": "工单当前不接受补充",
}
STATUS_TITLES = {"held": "待处理", "released": "已放行", "discarded": "已丢弃"}


def _require_lead(actor: Actor) -> None:
    if not actor.has_role(SENIOR_SUPPORT):
        raise refusals.NotAllowed("隔离邮件只有高级客服（senior-support）可以查看和处理。", code="forbidden_role")


def releasable(record: Quarantined) -> bool:
    return record.status == "held" and record.reason in inbound.RELEASABLE and bool(record.case_id)


def view(record: Quarantined) -> schemas.QuarantinedMail:
    return schemas.QuarantinedMail(
        id=record.qid, at=record.at, reason=record.reason, reason_title=REASON_TITLES.get(record.reason, record.reason),
        sender=record.sender, size=record.size, case_id=record.case_id, note=record.note, status=record.status,
        releasable=releasable(record), decided_by=record.decided_by, decided_at=record.decided_at)


def page(actor: Actor, *, limit: int = 20, cursor: str | None = None) -> schemas.QuarantinePage:
    """Newest first, one Query of the quarantine partition a page."""
    _require_lead(actor)
    try:
        records, next_cursor = chosen().page(limit, cursor)
    except BadCursor:
        raise refusals.Invalid("cursor 无效，请从第一页重新开始。", code="invalid_cursor", field="cursor") from None
    return schemas.QuarantinePage(items=[view(r) for r in records], next_cursor=next_cursor)


def _held(qid: str) -> Quarantined:
    record = chosen().get(qid) if re.fullmatch(ID_PATTERN, qid or "") else None
    if record is None:
        raise refusals.Missing("找不到这封隔离邮件。", code="quarantined_mail_not_found")
    if record.status != "held":
        raise refusals.Conflicting(f"这封邮件已{STATUS_TITLES[record.status]}（{record.decided_by or ''}）。",
                                   code="already_decided")
    return record


def _decided(ctx: Context, qid: str) -> schemas.QuarantinedMail:
    record = chosen().get(qid)
    assert record is not None
    return view(record)


def release(actor: Actor, ctx: Context, qid: str) -> schemas.QuarantinedMail:
    """Add a held mail to its 工单 as the user's message (the lead vouches for the sender)."""
    _require_lead(actor)
    record = _held(qid)
    if not releasable(record):
        raise refusals.Conflicting(f"「{REASON_TITLES.get(record.reason, record.reason)}」的邮件不能放行到工单，"
                                   "只能丢弃。", code="not_releasable")
    assert record.case_id is not None
    case = casework.load(record.case_id)
    said, files, _ = inbound.compose(inbound.parse(attachments.backend().read(record.mail)), case, ctx)
    if not said:
        raise refusals.Conflicting("这封邮件没有可添加的内容，只能丢弃。", code="empty_mail")
    try:
        added = model.user_message(case, ctx.now, hours.clocks(ctx.settings))
    except model.RuleViolation as exc:
        raise casework.conflict(exc, ctx) from None
    resumed = added.timeline[-1]["event"] == "resumed"
    new = model.mail_released(added, ctx.now, by=actor.user_id, by_name=actor.username or None,
                              reason=f"放行隔离邮件（{REASON_TITLES[record.reason]}），组长确认发件人是用户本人")
    inbound.store_files(case.case_id, files, ctx)
    decided_by = actor.username or actor.user_id
    try:
        casework.commit(case, new, notifications.team_messages(new, "user_replied", ctx.settings) if resumed else [],
                        ctx=ctx, said=(casework.entry(ctx, "user", said),),
                        extra=[chosen().decide_element(qid, "released", decided_by, model.iso(ctx.now))])
    except VersionConflict:
        raise refusals.Conflicting("工单状态刚刚发生了变化，请刷新后重试。", code="version_conflict") from None
    except ElementFailed:
        raise refusals.Conflicting("这封邮件刚刚已被处理。", code="already_decided") from None
    logger.info("quarantined mail released", extra={"quarantine_id": qid, "case_id": case.case_id,
                                                    "by": decided_by, "files": len(files)})
    return _decided(ctx, qid)


def discard(actor: Actor, ctx: Context, qid: str) -> schemas.QuarantinedMail:
    """Keep a held mail out for good (it stays listed, with who discarded it and when)."""
    _require_lead(actor)
    _held(qid)
    decided_by = actor.username or actor.user_id
    if not chosen().decide(qid, "discarded", decided_by, model.iso(ctx.now)):
        raise refusals.Conflicting("这封邮件刚刚已被处理。", code="already_decided")
    logger.info("quarantined mail discarded", extra={"quarantine_id": qid, "by": decided_by})
    return _decided(ctx, qid)
