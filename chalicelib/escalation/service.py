"""Escalation use cases: open, read, move, reply, resolve, confirm/reopen, queues, the sweep, exports.

Each change: load the case, apply one rule from ``model.py``, then write the
new version *conditionally* together with its outbox messages in one
transaction (``_commit``) and try to deliver them at once. A lost race is a 409
for a person and a no-op for the sweep, so a case moves once however many
triggers fire together.

Every use case is given who acts (``chalicelib.kernel.actor.Actor``) and a ``Context``
(the moment and the settings); none reads the clock or the settings itself. Refusals are
``chalicelib.kernel.refusals`` errors (``errors.from_domain`` maps them to HTTP, in one place).
Answers are the declared response models of ``schemas.py``, validated as they are built.
"""
from __future__ import annotations

import json
import math
import re

from chalicelib.adapters import aws, idempotency, outbox
from chalicelib.kernel import clock, refusals
from chalicelib.kernel.actor import SENIOR_SUPPORT, Actor
from chalicelib.kernel.clock import isoformat
from chalicelib.kernel.context import Context
from chalicelib.escalation import (analytics, attachments, hours, model, notifications, schemas, steps as step_defs, store,
                                   wording)
from chalicelib.escalation.model import Case, RuleViolation
from chalicelib.kernel.logs import logger, metric, user_hash
from chalicelib.kernel.schema import as_body

_REFERENCE = re.compile(model.REFERENCE_PATTERN)
NOT_FOUND = "找不到该工单（编号有误，或不是您的工单）。"


# ---------------------------------------------------------------- helpers
def _load(case_id: str) -> Case:
    if not _REFERENCE.match(case_id or ""):
        raise refusals.Missing(NOT_FOUND, code="case_not_found")
    case = store.get(case_id)
    if case is None:
        raise refusals.Missing(NOT_FOUND, code="case_not_found")
    return case


def _load_visible(actor: Actor, case_id: str) -> Case:
    """The one rule for reading a case, whichever door asks (JSON API, workspace, 「我的工单」): its owner;
    staff who may work its step (``_require_step_role``: a frontline agent gets 403 on a senior case, its
    notes included, as on acting on it); anyone else 404 (never reveal that it exists)."""
    case = _load(case_id)
    if case.user_id == actor.user_id:
        return case
    if not actor.is_staff:
        raise refusals.Missing(NOT_FOUND, code="case_not_found")
    _require_step_role(actor, case)
    return case


def _load_own(actor: Actor, case_id: str) -> Case:
    case = _load(case_id)
    if case.user_id != actor.user_id:
        if actor.is_staff:
            raise refusals.NotAllowed("只有提交工单的用户本人可以进行此操作。", code="owner_only")
        raise refusals.Missing(NOT_FOUND, code="case_not_found")
    return case


def _require_staff(actor: Actor) -> None:
    if not actor.is_staff:
        raise refusals.NotAllowed("此操作仅限客服人员。", code="forbidden_role")


def _may_work(actor: Actor, step: step_defs.Step) -> bool:
    """Frontline agents work frontline cases; later steps need senior-support."""
    return actor.is_staff and (step.role != SENIOR_SUPPORT or actor.has_role(SENIOR_SUPPORT))


def _require_step_role(actor: Actor, case: Case) -> None:
    """Staff act on — and read — only the cases of a step they may work (``_may_work``)."""
    _require_staff(actor)
    if not _may_work(actor, case.step_def):
        raise refusals.NotAllowed(f"工单处于「{case.step_def.title}」，需要高级客服（senior-support）处理。",
                               code="forbidden_role")


def _commit(old: Case | None, new: Case, messages: list[outbox.Message] = (), extra: list[dict] = (),
            ctx: Context | None = None) -> Case:
    recorded: list[dict] = []
    if ctx is not None:  # SLA breaches due and the change's events, in the same transaction (#15)
        new, recorded = analytics.on_commit(old, new, ctx.now, hours.clocks(ctx.settings))
    elements = [*extra, *(outbox.put(m) for m in messages), *recorded]
    store.save(new, expected_version=old.version if old else None, extra=elements)
    if messages:
        outbox.deliver([m.message_id for m in messages])
    return new


def _conflict(exc: RuleViolation, ctx: Context) -> refusals.Conflicting:
    if not exc.not_before:
        return refusals.Conflicting(str(exc), code=exc.code)
    wait = math.ceil((model.parse(exc.not_before) - ctx.now).total_seconds())
    local = notifications.local_time(exc.not_before, ctx.settings.time_zone)
    return refusals.Conflicting(f"{exc}最早可申请升级的时间：{local}。", code=exc.code, retry_after=max(1, wait),
                              details={"not_before": exc.not_before})


# ---------------------------------------------------------------- Idempotency-Key (chalicelib/adapters/idempotency.py)
WORDING = idempotency.Wording(reused="这个 Idempotency-Key 已用于另一个不同的操作，请为新的操作使用新的 Key。",
                              in_progress="同一个操作正在处理中，请稍后刷新查看结果，不要重复提交。")


def _once(actor: Actor, key: str | None, scope: str, payload: dict, action,
          checks=lambda: None) -> idempotency.Outcome:
    """Run ``action(claim)`` once per (caller, key): a repeat replays the first answer, before ``checks``
    (a rate limit) can refuse it. Without a key (where the route makes it optional) the checks and the
    action just run, with no claim."""
    return idempotency.once(actor.user_id, key, scope=scope, payload=payload, action=action, wording=WORDING,
                            checks=checks)


# A DynamoDB item holds at most 400 KB: an answer larger than this (a case with a very long
# conversation) is not written in the case's transaction; ``idempotency.run`` stores it afterwards
# if it can (and logs if not), so the change still answers instead of failing.
MAX_ANSWER_BYTES = 300_000


def _answer(claim: idempotency.Claim | None, status: int, view: schemas.CaseView) -> list[dict]:
    """The key's completion as a transaction element (none without a key or when too large)."""
    if claim is None:
        return []
    body = as_body(view)
    if len(json.dumps(body, ensure_ascii=False).encode()) > MAX_ANSWER_BYTES:
        return []
    return [claim.completion(status, body)]


def _apply(ctx: Context, case: Case, change, messages=lambda new: [], extra=(), *, staff: bool,
           claim: idempotency.Claim | None = None, added: tuple[dict, ...] = ()) -> tuple[Case, schemas.CaseView, bool]:
    """Apply a rule and commit it with the caller's view of the result (and, under an
    Idempotency-Key, that view as the key's answer, in the same transaction).

    A lost race or a forbidden transition becomes a 409. ``added``: conversation entries the
    transaction writes (so the view shows them before they can be read back). Returns the new
    case, its view and whether the key's answer was written with it.
    """
    try:
        new = change(case)
    except RuleViolation as exc:
        raise _conflict(exc, ctx) from None
    view = case_view(ctx, new, staff=staff, added=added)
    answer = _answer(claim, 200, view)
    elements = [*extra, *answer]
    try:
        _commit(case, new, messages(new), elements, ctx)
    except store.VersionConflict:
        raise refusals.Conflicting("工单状态刚刚发生了变化，请刷新后重试。", code="version_conflict") from None
    except store.ElementFailed:  # the key's claim lapsed and another request holds it now
        raise WORDING.in_progress_error() from None
    return new, view, bool(answer)


def _outcome(view: schemas.CaseView, recorded: bool, status: int = 200) -> idempotency.Outcome:
    return idempotency.Outcome(status, as_body(view), recorded=recorded)


# ---------------------------------------------------------------- deflection
def suggestions(q: str, actor: Actor | None = None) -> schemas.Suggestions:
    """KB articles that may answer the question before a case is opened (search domain).

    A missing index is the search service's clear 503 (``kb_unavailable``); an
    absent search package is reported the same way rather than as a 500.
    """
    try:
        from chalicelib.search import service as search_service
    except ImportError:
        raise refusals.Busy("知识库搜索暂不可用，您仍可直接提交工单。", code="kb_unavailable") from None
    from chalicelib.adapters import events
    with events.as_user(user_hash(actor.user_id) if actor else None):  # a signed-in reader (deflection, #15)
        found = search_service.search(q, limit=5)
    items = [schemas.Suggestion(id=hit.slug, title=hit.title, snippet=hit.snippet,
                                url=f"/help/articles/{hit.slug}") for hit in found.results[:5]]
    return schemas.Suggestions(query=q, items=items)


# ---------------------------------------------------------------- the user's side
def _require_own_repayment(user_id: str, repayment_id: str) -> None:
    """A case may name only the caller's own repayment: one GetItem on the caller's key (no Scan)."""
    from chalicelib.repay import store as repay_store
    if repay_store.get_repayment(user_id, repayment_id) is None:  # someone else's id looks like a missing one
        raise refusals.Rejected("repayment_id：找不到这笔还款（只能关联您本人的还款记录）。",
                                   code="repayment_not_found", field="repayment_id")


def open_case(actor: Actor, ctx: Context, *, category: str, description: str, repayment_id: str | None,
              idempotency_key: str | None = None, limit=lambda: None) -> idempotency.Outcome:
    """Open a case (201); under an Idempotency-Key a repeat replays the first answer instead of a second case
    (before ``limit``, the caller's rate limit, which refuses only new cases)."""
    payload = {"category": category, "description": description, "repayment_id": repayment_id}
    return _once(actor, idempotency_key, "case_open", payload,
                 lambda claim: _open_case(actor, ctx, category, description, repayment_id, claim), checks=limit)


def _open_case(actor: Actor, ctx: Context, category: str, description: str, repayment_id: str | None,
               claim: idempotency.Claim | None) -> idempotency.Outcome:
    if repayment_id is not None:
        _require_own_repayment(actor.user_id, repayment_id)
    clocks = hours.clocks(ctx.settings)
    for _ in range(5):  # a reference clash (1 in a million a day) just draws again
        case_id = model.new_reference(ctx.now, ctx.settings.time_zone)
        case = model.open_case(case_id=case_id, user_id=actor.user_id, username=actor.username, category=category,
                               description=description, repayment_id=repayment_id, now=ctx.now, clocks=clocks)
        if case.security:
            # Stolen funds: freeze first, so that even if writing the case fails the money is safe.
            _freeze(actor.user_id, case_id)
        view = case_view(ctx, case, staff=False)
        answer = _answer(claim, 201, view)
        try:
            _commit(None, case, notifications.arrival(case, ctx.settings, created=True), answer, ctx)
        except store.DuplicateReference:
            continue
        except store.ElementFailed:
            raise WORDING.in_progress_error() from None
        logger.info("case opened", extra={"case_id": case_id, "category": category, "step": case.step,
                                          "user": user_hash(actor.user_id)})
        metric("CaseOpened", category=category)
        return _outcome(view, bool(answer), 201)
    raise refusals.Busy("暂时无法生成工单编号，请稍后重试。", code="reference_exhausted")


def _freeze(user_id: str, case_id: str) -> None:
    from chalicelib.repay import service as repay_service
    repay_service.freeze_account(user_id, reason="用户报告账户安全问题（疑似盗刷），立即冻结还款", case_id=case_id)


def list_mine(actor: Actor) -> schemas.CaseList:
    return schemas.CaseList(items=[summary(c) for c in store.cases_of_user(actor.user_id)])


def get_case(actor: Actor, ctx: Context, case_id: str) -> schemas.CaseView:
    case = _load_visible(actor, case_id)
    return case_view(ctx, case, staff=case.user_id != actor.user_id)


def escalate(actor: Actor, ctx: Context, case_id: str, reason: str,
             idempotency_key: str | None) -> idempotency.Outcome:
    """The owner says it is not solved, or staff escalates it; either way one step up, once per key.

    The Idempotency-Key is required here: a double-submitted "not solved" must not climb two steps.
    """
    idempotency.validate_key(idempotency_key)
    return _once(actor, idempotency_key, "case_escalate", {"case_id": case_id, "reason": reason},
                 lambda claim: _escalate(actor, ctx, case_id, reason, claim))


def _escalate(actor: Actor, ctx: Context, case_id: str, reason: str,
              claim: idempotency.Claim | None) -> idempotency.Outcome:
    case = _load_visible(actor, case_id)
    if case.user_id == actor.user_id:
        by_whom, by, by_name = "user", None, None
    else:
        _require_step_role(actor, case)
        by_whom, by, by_name = "support", actor.user_id, actor.username or None
    clocks = hours.clocks(ctx.settings)
    new, view, recorded = _apply(ctx, case,
                                 lambda c: model.escalate(c, ctx.now, clocks=clocks, actor=by_whom, reason=reason, by=by,
                                                          by_name=by_name),
                                 lambda n: notifications.arrival(n, ctx.settings, created=False, reason=reason),
                                 staff=by_whom == "support", claim=claim)
    metric("CaseEscalated", actor=by_whom, step=new.step)
    return _outcome(view, recorded)


def add_user_message(actor: Actor, ctx: Context, case_id: str, message: str,
                     idempotency_key: str | None = None) -> idempotency.Outcome:
    def action(claim: idempotency.Claim | None) -> idempotency.Outcome:
        case = _load_own(actor, case_id)
        entry = {"at": isoformat(ctx.now), "author": "user", "text": message}
        clocks = hours.clocks(ctx.settings)
        # When the answer resumes a paused clock, the team is told it owes a response again.
        _, view, recorded = _apply(ctx, case, lambda c: model.user_message(c, ctx.now, clocks),
                         lambda n: notifications.team_messages(n, "user_replied", ctx.settings)
                         if n.timeline[-1]["event"] == "resumed" else [],
                         extra=[store.conversation_item(case_id, "MSG", entry)], staff=False, claim=claim,
                         added=(entry,))
        return _outcome(view, recorded)
    return _once(actor, idempotency_key, "case_message", {"case_id": case_id, "message": message}, action)


def _comment(comment: str | None) -> str | None:
    return (comment or "").strip() or None


def confirm(actor: Actor, ctx: Context, case_id: str, idempotency_key: str | None = None, *,
            rating: int | None = None, comment: str | None = None) -> idempotency.Outcome:
    """The owner confirms it is solved; with a 1–5 rating (and comment) stored on the case in the same write."""
    comment = _comment(comment) if rating is not None else None
    payload = {"case_id": case_id, **({"rating": rating, "comment": comment} if rating is not None else {})}

    def action(claim: idempotency.Claim | None) -> idempotency.Outcome:
        case = _load_own(actor, case_id)
        _, view, recorded = _apply(ctx, case, lambda c: model.confirm(c, ctx.now, rating=rating, comment=comment),
                                   staff=False, claim=claim)
        if rating is not None:
            metric("CaseSatisfaction", rating=str(rating))
        return _outcome(view, recorded)
    return _once(actor, idempotency_key, "case_confirm", payload, action)


def rate(actor: Actor, ctx: Context, case_id: str, rating: int, comment: str | None) -> schemas.CaseView:
    """Rate a closed case once (confirmed without a rating, or closed by the sweep)."""
    case = _load_own(actor, case_id)
    view = _apply(ctx, case, lambda c: model.rate(c, ctx.now, rating=rating, comment=_comment(comment)),
                  staff=False)[1]
    metric("CaseSatisfaction", rating=str(rating))
    return view


def messages_since(actor: Actor, ctx: Context, case_id: str, after: str | None) -> schemas.NewMessages:
    """The owner's conversation after a cursor (a page polls this while it is open): one GetItem, one Query."""
    case = _load_own(actor, case_id)
    try:
        items = store.conversation_after(case.case_id, after)
    except store.BadCursor:
        raise refusals.Invalid("after 无效，请不带 after 重新获取。", code="invalid_cursor", field="after") from None
    return schemas.NewMessages(
        case_id=case.case_id, cursor=items[-1]["cursor"] if items else after, status=case.status,
        status_title=model.STATUS_TITLES[case.status], version=case.version,
        items=[_message(m) for m in items])


def my_cases_page(actor: Actor, *, limit: int, cursor: str | None) -> tuple[list[Case], str | None]:
    """A page of the caller's cases, newest first (the 「我的工单」 page)."""
    try:
        return store.user_page(actor.user_id, limit=limit, cursor=cursor)
    except store.BadCursor:
        raise refusals.Invalid("cursor 无效，请从第一页重新开始。", code="invalid_cursor", field="cursor") from None


def owner_page(actor: Actor, ctx: Context, case_id: str) -> tuple[schemas.CaseView, dict]:
    """The owner's case for 「我的工单」: the view, what the owner can do now, and the conversation cursor."""
    case = _load_own(actor, case_id)
    view = case_view(ctx, case, staff=False)
    following = step_defs.next_step(case.step)
    answered = model.answered_at_step(case) or model.lapsed(case, ctx.now)
    can_escalate = following is not None and case.status in ("open", "waiting_user", "resolved") and (
        answered if case.status != "resolved" else model.within_reopen_window(case, ctx.now))
    hint = ""
    if following is not None and case.status in ("open", "waiting_user") and not answered:
        hint = (f"「{case.step_def.title}」答复后，如果问题仍未解决，您可以申请升级至「{following.title}」；"
                f"如到 {notifications.local_time(case.deadline, ctx.settings.time_zone)} 仍未答复，系统会自动升级。")
    messages = store.conversation_after(case.case_id, None, limit=1000)
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


def deflected(query: str, slug: str, ctx: Context) -> None:
    """A suggested article opened from the new-工单 form instead of submitting it: counted per day and
    article (no user, no text), and a click signal for search (``record_signal`` drops personal text)."""
    from chalicelib.search import service as search_service
    if not search_service.get_article(slug):
        return
    store.count_deflection(clock.local_now(ctx.settings.time_zone).date().isoformat(), slug, "opened")
    search_service.record_signal(query[:200], slug, "click")
    metric("CaseDeflected")


def not_deflected(query: str, slugs: list[str], ctx: Context) -> None:
    """The user came back from those articles and opened a 工单 after all: not a deflection."""
    from chalicelib.search import service as search_service
    day = clock.local_now(ctx.settings.time_zone).date().isoformat()
    for slug in dict.fromkeys(slugs[:5]):
        if search_service.get_article(slug):
            store.count_deflection(day, slug, "returned")
            search_service.record_signal(query[:200], slug, "case")


# ---------------------------------------------------------------- evidence attachments (S3)
def attachment_upload(actor: Actor, ctx: Context, case_id: str, filename: str, content_type: str,
                      size: int) -> schemas.AttachmentUpload:
    """A presigned POST for one file, for the owner's own case only; S3 enforces the same type and size."""
    case = _load_own(actor, case_id)
    if content_type not in attachments.TYPES:
        raise refusals.Invalid("只能上传 PNG、JPEG、WebP 图片或 PDF 文件。", code="attachment_type", field="content_type")
    if size > attachments.MAX_BYTES:
        raise refusals.Invalid(f"文件不能超过 {attachments.MAX_BYTES // (1024 * 1024)} MB。", code="attachment_too_large",
                             field="size")
    if case.status == "closed":
        raise refusals.Conflicting("工单已关闭，不能再上传附件。如有新的问题，请新建工单。", code="case_closed")
    if len(attachments.list_case(case.case_id)) >= attachments.MAX_PER_CASE:
        raise refusals.Conflicting(f"每个工单最多上传 {attachments.MAX_PER_CASE} 个附件。", code="too_many_attachments")
    attachment_id = attachments.new_id(ctx.now)
    url, fields, expires = attachments.presigned_post(
        case.case_id, attachment_id, attachments.safe_filename(filename, content_type), content_type,
        attachments.MAX_BYTES, ctx.now)
    logger.info("attachment upload granted", extra={"case_id": case.case_id, "content_type": content_type})
    return schemas.AttachmentUpload(attachment_id=attachment_id, url=url, fields=fields,
                                    max_bytes=attachments.MAX_BYTES, expires_at=expires)


def _attachment_info(stored: attachments.Stored) -> dict:
    return dict(attachment_id=stored.attachment_id, filename=stored.filename, content_type=stored.content_type,
                size=stored.size, uploaded_at=stored.uploaded_at)


def list_attachments(actor: Actor, ctx: Context, case_id: str) -> schemas.AttachmentList:
    """The owner's or staff's view of a case's evidence, each with a short-lived download link."""
    case = _load_visible(actor, case_id)
    items = []
    for stored in attachments.list_case(case.case_id):
        url, expires = attachments.download_url(stored, ctx.now)
        items.append(schemas.Attachment(**_attachment_info(stored), download_url=url, download_expires_at=expires))
    return schemas.AttachmentList(case_id=case.case_id, items=items, max_bytes=attachments.MAX_BYTES,
                                  content_types=list(attachments.TYPES))


def attachment_download(actor: Actor, ctx: Context, case_id: str, attachment_id: str) -> str:
    """A presigned GET for one attachment (owner or staff); someone else's case or a wrong id: 404."""
    case = _load_visible(actor, case_id)
    stored = attachments.find(case.case_id, attachment_id)
    if stored is None:
        raise refusals.Missing("找不到这个附件。", code="attachment_not_found")
    return attachments.download_url(stored, ctx.now)[0]


def reopen(actor: Actor, ctx: Context, case_id: str, reason: str,
           idempotency_key: str | None = None) -> idempotency.Outcome:
    def action(claim: idempotency.Claim | None) -> idempotency.Outcome:
        case = _load_own(actor, case_id)
        clocks = hours.clocks(ctx.settings)
        _, view, recorded = _apply(ctx, case, lambda c: model.reopen(c, ctx.now, clocks=clocks, reason=reason),
                         lambda n: notifications.team_messages(n, "arrived", ctx.settings, f"用户重新打开：{reason}"),
                         staff=False, claim=claim)
        return _outcome(view, recorded)
    return _once(actor, idempotency_key, "case_reopen", {"case_id": case_id, "reason": reason}, action)


# ---------------------------------------------------------------- the support side
# Staff actions take an optional Idempotency-Key (the workspace's forms always send their own): a form
# posted twice — a double click, a resent request after a lost answer — acts once and answers the same.
def assign(actor: Actor, ctx: Context, case_id: str, assignee: str | None,
           idempotency_key: str | None = None) -> idempotency.Outcome:
    def action(claim: idempotency.Claim | None) -> idempotency.Outcome:
        case = _load_visible(actor, case_id)
        _require_step_role(actor, case)
        name = assignee or actor.username
        _, view, recorded = _apply(ctx, case, lambda c: model.assign(c, ctx.now, assignee=name, by=actor.user_id,
                                                                  by_name=actor.username or None),
                                   staff=True, claim=claim)
        return _outcome(view, recorded)
    return _once(actor, idempotency_key, "case_assign", {"case_id": case_id, "assignee": assignee}, action)


def add_note(actor: Actor, ctx: Context, case_id: str, text: str,
             idempotency_key: str | None = None) -> idempotency.Outcome:
    """Internal note: its own item, never part of what a user route reads (written with the key's answer)."""
    def action(claim: idempotency.Claim | None) -> idempotency.Outcome:
        _require_staff(actor)
        case = _load(case_id)
        _require_step_role(actor, case)
        note = {"at": isoformat(ctx.now), "author": actor.username or actor.user_id, "text": text}
        body = as_body(schemas.NoteAdded(case_id=case.case_id, note=schemas.InternalNote(**note)))
        completion = [claim.completion(201, body)] if claim else []
        try:
            store.put_conversation(store.conversation_item(case.case_id, "NOTE", note), extra=completion)  # no version bump
        except store.ElementFailed:   # the key's claim lapsed and another request holds it now
            raise WORDING.in_progress_error() from None
        return idempotency.Outcome(201, body, recorded=bool(completion))
    return _once(actor, idempotency_key, "case_note", {"case_id": case_id, "text": text}, action)


def reply(actor: Actor, ctx: Context, case_id: str, message: str, await_user: bool,
          idempotency_key: str | None = None) -> idempotency.Outcome:
    def action(claim: idempotency.Claim | None) -> idempotency.Outcome:
        case = _load_visible(actor, case_id)
        _require_step_role(actor, case)
        entry = {"at": isoformat(ctx.now), "author": "support", "text": message}
        clocks = hours.clocks(ctx.settings)
        _, view, recorded = _apply(
            ctx, case, lambda c: model.reply(c, ctx.now, clocks=clocks, by=actor.user_id, await_user=await_user,
                                             by_name=actor.username or None),
            lambda n: [notifications.user_sms(n, "replied", ctx.settings)],
            extra=[store.conversation_item(case_id, "MSG", entry)], staff=True, added=(entry,), claim=claim)
        return _outcome(view, recorded)
    return _once(actor, idempotency_key, "case_reply",
                 {"case_id": case_id, "message": message, "await_user": await_user}, action)


def resolve(actor: Actor, ctx: Context, case_id: str, summary_text: str,
            idempotency_key: str | None = None) -> idempotency.Outcome:
    """Resolve with a summary written for the user: it is also the conversation's next message (marked as
    the resolution), written in the same transaction, so the conversation ends with the answer."""
    def action(claim: idempotency.Claim | None) -> idempotency.Outcome:
        case = _load_visible(actor, case_id)
        _require_step_role(actor, case)
        entry = {"at": isoformat(ctx.now), "author": "support", "text": summary_text, "kind": "resolution"}
        _, view, recorded = _apply(
            ctx, case, lambda c: model.resolve(c, ctx.now, by=actor.user_id, summary=summary_text,
                                               by_name=actor.username or None),
            lambda n: [notifications.user_sms(n, "resolved", ctx.settings)],
            extra=[store.conversation_item(case_id, "MSG", entry)], staff=True, added=(entry,), claim=claim)
        return _outcome(view, recorded)
    return _once(actor, idempotency_key, "case_resolve", {"case_id": case_id, "summary": summary_text}, action)


def queue(actor: Actor, step: str, *, limit: int, cursor: str | None) -> schemas.QueuePage:
    """A step's open cases, for staff who may work that step (the read rule of ``_load_visible``)."""
    _require_staff(actor)
    if step not in step_defs.NAMES:
        raise refusals.Missing(f"没有这个步骤，可选：{'、'.join(step_defs.NAMES)}。", code="step_not_found")
    if not _may_work(actor, step_defs.get(step)):
        raise refusals.NotAllowed(f"「{step_defs.get(step).title}」的工单需要高级客服（senior-support）处理。",
                                code="forbidden_role")
    try:
        cases, next_cursor = store.queue_page(step, limit=limit, cursor=cursor)
    except store.BadCursor:
        raise refusals.Invalid("cursor 无效，请从第一页重新开始。", code="invalid_cursor", field="cursor") from None
    return schemas.QueuePage(step=step, items=[summary(c, staff=True) for c in cases], next_cursor=next_cursor)


def workable_steps(actor: Actor) -> list[step_defs.Step]:
    """The steps whose 工单 ``actor`` may act on (the rule of ``_require_step_role``): the agent workspace's queues."""
    _require_staff(actor)
    return [step for step in step_defs.STEPS if _may_work(actor, step)]


def workspace_case(actor: Actor, ctx: Context, case_id: str) -> schemas.CaseView:
    """A 工单 as the agent workspace shows it: staff view, and only to staff who may act on its step
    (a frontline agent opening a senior 工单 gets 403, as acting on it would)."""
    case = _load(case_id)
    _require_step_role(actor, case)
    return case_view(ctx, case, staff=True)


def case_repayments(actor: Actor, ctx: Context, case_id: str):
    """The repayment(s) behind a 工单, read by staff who may act on it; the read leaves an access record."""
    case = _load(case_id)
    _require_step_role(actor, case)
    from chalicelib.repay import service as repay_service
    return repay_service.read_for_case(actor, repay_service.current(), user_id=case.user_id, case_id=case.case_id,
                                       linked_id=case.repayment_id)


def unfreeze(actor: Actor, ctx: Context, user_id: str) -> schemas.AccountFreeze:
    """Only senior support lifts a security freeze; the user's frozen cases record it."""
    if not actor.has_role(SENIOR_SUPPORT):
        raise refusals.NotAllowed("只有高级客服（senior-support）可以解除账户冻结。", code="forbidden_role")
    if not re.fullmatch(r"[A-Za-z0-9\-]{1,128}", user_id or ""):
        raise refusals.Invalid("user_id 格式不正确。", code="invalid_user_id", field="user_id")
    from chalicelib.repay import service as repay_service
    repay_service.unfreeze_account(user_id, actor=actor.user_id)
    for case in store.cases_of_user(user_id):
        if case.frozen:
            try:
                _commit(case, model.unfrozen(case, ctx.now, by=actor.user_id, by_name=actor.username or None), ctx=ctx)
            except store.VersionConflict:  # the freeze is lifted either way; the note is best effort
                logger.warning("unfreeze not recorded on case", extra={"case_id": case.case_id})
    logger.info("account unfrozen via escalation", extra={"user": user_hash(user_id)})
    return schemas.AccountFreeze(user_id=user_id, frozen=repay_service.is_frozen(user_id))


# ---------------------------------------------------------------- the scheduled sweep
def sweep(ctx: Context, limit: int = 200) -> dict[str, int]:
    """Warn before deadlines, escalate lapsed steps, close resolved cases after 7 days.

    Reads only the ``due`` index. Each action is a conditional write on the
    version the index returned; if a person moved the case meanwhile the write
    fails and the case is left to its new state.
    """
    now, cfg = ctx.now, ctx.settings
    clocks = hours.clocks(cfg)
    done = {"warned": 0, "escalated": 0, "overdue": 0, "closed": 0, "skipped": 0, "failed": 0}
    for case in store.due_cases(isoformat(now), limit=limit):
        due = case.due()
        if not due:
            continue
        kind = due[0]
        if kind == "warn" and case.deadline and model.parse(case.deadline) <= now:
            kind = "lapse"  # the sweep was late (or the limit is tiny): escalate now, no stale warning
        try:
            if kind == "warn":
                new = model.warn(case, now)
                _commit(case, new, notifications.team_messages(new, "deadline_warning", cfg), ctx=ctx)
                done["warned"] += 1
            elif kind == "lapse":
                new = model.lapse(case, now, clocks)
                if new.step != case.step:
                    _commit(case, new, notifications.arrival(new, cfg, created=False,
                                                             reason=new.timeline[-1]["reason"]), ctx=ctx)
                    metric("CaseEscalated", actor="system", step=new.step)
                    done["escalated"] += 1
                else:
                    _commit(case, new, notifications.team_messages(new, "overdue", cfg), ctx=ctx)
                    done["overdue"] += 1
            elif kind == "autoclose":
                _commit(case, model.autoclose(case, now), ctx=ctx)
                done["closed"] += 1
        except (store.VersionConflict, RuleViolation):
            done["skipped"] += 1  # someone else moved it first; the next run sees the new state
        except (aws.ClientError, aws.BotoCoreError, aws.TransactionContended) as exc:  # one case must not stall the rest
            done["failed"] += 1
            logger.warning("sweep could not move case", extra={"case_id": case.case_id, "error": type(exc).__name__})
    if done["escalated"] or done["warned"] or done["failed"]:
        logger.info("escalation sweep", extra=done)
    return done


# ---------------------------------------------------------------- views
def summary(case: Case, *, staff: bool = False) -> schemas.CaseSummary:
    """A 工单 in a list: its subject (first words of the description); staff lists add the owner's display
    name and the assignee (the owner's own list names no staff)."""
    extra = dict(assignee=case.assignee, user_name=wording.display_name(case.username)) if staff else {}
    return schemas.CaseSummary(case_id=case.case_id, category=case.category, priority=case.priority, step=case.step,
                               status=case.status, deadline=case.deadline, created_at=case.created_at,
                               warn_at=case.warn_at, subject=wording.subject(case.description), **extra)


def what_next(case: Case, time_zone: str) -> str:
    step = case.step_def
    following = step_defs.next_step(case.step)
    deadline = notifications.local_time(case.deadline, time_zone)
    if case.status == "closed":
        return "工单已关闭。如有新的问题，请新建工单。"
    if case.status == "resolved":
        until = notifications.local_time(case.reopen_until, time_zone)
        return (f"客服已将工单标记为已解决。请确认问题是否解决；如未解决，您可以在 {until} 前重新打开"
                f"（回到「{step.title}」），逾期工单将自动关闭。")
    if case.status == "waiting_user":
        text = "客服已答复，正在等待您的回复，处理时限暂停计时；您回复后继续计时。"
        if following:
            text += f"如果答复没有解决问题，您可以申请升级至「{following.title}」。"
        return text
    if step.final:
        return (f"工单已进入最后一步「{step.title}」：负责团队将在 {deadline} 前联系您。"
                "您也可以通过下方的监管投诉和法律途径维护权益，并导出工单记录作为证据。")
    clock_kind = "（全天候计时）" if case.security else "（按工作时间计时）"
    text = f"「{step.title}」将在 {deadline} 前答复您{clock_kind}。"
    if following:
        text += f"如届时仍未答复，工单将自动升级至「{following.title}」；如答复未解决问题，您也可以随时申请升级。"
    return text


def staff_what_next(case: Case, time_zone: str) -> str:
    """``what_next`` in the teams' words (staff views): what the step's team owes, and by when."""
    step = case.step_def
    following = step_defs.next_step(case.step)
    if case.status == "closed":
        return "工单已关闭。"
    if case.status == "resolved":
        until = notifications.local_time(case.reopen_until, time_zone)
        return f"已解决，待用户确认；用户可在 {until} 前重新打开（回到「{step.title}」），逾期自动关闭。"
    if case.status == "waiting_user":
        return "已答复，等待用户回复：计时暂停，用户回复后继续计时。"
    deadline = notifications.local_time(case.deadline, time_zone)
    clock_kind = "全天候计时" if case.security else "按工作时间计时"
    text = f"「{step.title}」须在 {deadline} 前答复用户（{clock_kind}）。"
    if following:
        text += f"逾期自动升级至「{following.title}」。"
    else:
        text += "这是最后一步：逾期会提醒负责团队。"
    return text


def _timeline(case: Case, *, staff: bool) -> list[schemas.TimelineEntry]:
    """The case's events in the reader's words (``wording``): the owner's view leaves out what concerns only
    the teams and every staff-written reason and name; the staff view keeps everything, with who acted."""
    entries = []
    for entry in case.timeline:
        shown = {k: entry.get(k) for k in ("at", "event", "actor", "from", "to")}
        if staff:
            shown.update(text=wording.for_staff(entry), reason=entry.get("reason") or "",
                         by=entry.get("by"), by_name=entry.get("by_name"))
        else:
            text = wording.for_user(entry)
            if text is None:
                continue
            shown.update(text=text, reason=wording.user_reason(entry))
        entries.append(schemas.TimelineEntry.model_validate(shown))
    return entries


def _message(stored: dict) -> schemas.ConversationEntry:
    return schemas.ConversationEntry(at=stored["at"], author=stored["author"], text=stored["text"],
                                     kind=stored.get("kind"))


def _conversation(case: Case, added: tuple[dict, ...] = ()) -> list[schemas.ConversationEntry]:
    stored = store.conversation(case.case_id, "MSG")
    return [_message(m) for m in (*stored, *added)]


def _legal(case: Case) -> schemas.LegalGuidance:
    return schemas.LegalGuidance(routes=[schemas.LegalRoute(**r) for r in step_defs.LEGAL_ROUTES],
                                 evidence_to_keep=list(step_defs.EVIDENCE_TO_KEEP),
                                 export_json=f"/support/cases/{case.case_id}/export",
                                 export_html=f"/support/cases/{case.case_id}/export.html")


def _satisfaction(case: Case) -> schemas.Satisfaction | None:
    """Every field set (a rating without a comment is stored without the attribute)."""
    if not case.csat:
        return None
    return schemas.Satisfaction(rating=case.csat["rating"], comment=case.csat.get("comment"), at=case.csat["at"])


def case_view(ctx: Context, case: Case, *, staff: bool, added: tuple[dict, ...] = ()) -> schemas.CaseView:
    tz = ctx.settings.time_zone
    view = dict(
        case_id=case.case_id, reference=case.case_id, category=case.category,
        category_title=step_defs.CATEGORY_TITLES[case.category], description=case.description,
        repayment_id=case.repayment_id, priority=case.priority, step=case.step,
        step_title=case.step_def.title,
        step_description=(f"由 {case.step_def.team} 团队处理（需 {case.step_def.role} 角色）" if staff
                          else case.step_def.description),
        status=case.status, status_title=(wording.STAFF_STATUS if staff else wording.USER_STATUS)[case.status],
        deadline=case.deadline, deadline_local=notifications.local_time(case.deadline, tz),
        clock_paused=case.status == "waiting_user", reopen_until=case.reopen_until,
        what_next=staff_what_next(case, tz) if staff else what_next(case, tz), created_at=case.created_at,
        version=case.version,
        timeline=_timeline(case, staff=staff), conversation=_conversation(case, added),
        legal_guidance=_legal(case) if case.step_def.final else None,
        satisfaction=_satisfaction(case),
    )
    if staff:
        view.update(assignee=case.assignee, user_id=case.user_id, user_name=wording.display_name(case.username),
                    warn_at=case.warn_at,
                    notes=[schemas.InternalNote(at=n["at"], author=n["author"], text=n["text"])
                           for n in store.conversation(case.case_id, "NOTE")])
    return schemas.CaseView(**view)


# ---------------------------------------------------------------- export (for a complaint)
def export(actor: Actor, ctx: Context, case_id: str) -> schemas.CaseExport:
    case = _load_visible(actor, case_id)
    return schemas.CaseExport(
        reference=case.case_id, exported_at=isoformat(ctx.now), category=case.category,
        category_title=step_defs.CATEGORY_TITLES[case.category], description=case.description,
        repayment_id=case.repayment_id, priority=case.priority, created_at=case.created_at,
        step=case.step, step_title=case.step_def.title, status=case.status,
        status_title=model.STATUS_TITLES[case.status], timeline=_timeline(case, staff=False),
        conversation=_conversation(case), legal_routes=[schemas.LegalRoute(**r) for r in step_defs.LEGAL_ROUTES],
        evidence_to_keep=list(step_defs.EVIDENCE_TO_KEEP),
        satisfaction=_satisfaction(case),
        attachments=[schemas.AttachmentInfo(**_attachment_info(s)) for s in attachments.list_case(case.case_id)],
    )


def _html(ctx: Context, template: str, **context) -> str:
    # Same Jinja2 environment (autoescape on) as the help centre.
    from chalicelib.edge.render import render
    tz = ctx.settings.time_zone
    return render(template, local_time=lambda value: notifications.local_time(value, tz), time_zone=tz, **context)


def export_html(actor: Actor, ctx: Context, case_id: str) -> str:
    return _html(ctx, "escalation/case_export.html", export=as_body(export(actor, ctx, case_id)))
