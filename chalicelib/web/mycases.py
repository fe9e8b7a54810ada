"""「我的工单」: the wallet user's own 工单 in the browser (``/help/cases…``), on the escalation services.

Every page needs the help-door session (``session.require(request, "help")``); every form POST checks
its CSRF token and answers 303 (post/redirect/get). The service rules are the API's: the same
``Actor``, the same use cases, so someone else's 工单 is a 404 page here as it is a 404 there. State
changes carry a per-render ``idempotency_key`` hidden field, so a double-submitted form acts once.

Two small JSON answers serve the pages' scripts (same session; CSRF on the POSTs): suggested articles
while the new-工单 form is typed, new messages since a cursor while a 工单 page is open, and the
presigned S3 form for an attachment.
"""
from __future__ import annotations

import secrets
from urllib.parse import quote

import pydantic

from chalicelib.adapters import ratelimit
from chalicelib.edge import errors, httpio, pages
from chalicelib.edge.pages import Reply
from chalicelib.escalation import schemas, steps
from chalicelib.escalation import service as escalation
from chalicelib.kernel import refusals
from chalicelib.kernel.context import Context
from chalicelib.kernel.schema import as_body
from chalicelib.web import script_json, session

DOOR = "help"
PAGE_SIZE = 10
ACTIVE_STATUS = {"open": "处理中", "waiting_user": "等待您回复", "resolved": "已解决，待您确认", "closed": "已关闭"}


def _key() -> str:
    return secrets.token_urlsafe(18)


def _local(ctx: Context):
    from chalicelib.escalation import notifications
    return lambda value: notifications.local_time(value, ctx.settings.time_zone)


def _render(template: str, ws: session.WebSession, ctx: Context, status: int = 200, **context) -> Reply:
    return pages.html(template, status=status, door=DOOR, ws=ws, local_time=_local(ctx),
                      time_zone=ctx.settings.time_zone, **context)


def _posted(request) -> tuple[session.WebSession, dict]:
    ws = session.require(request, DOOR)
    form = pages.form(request)
    session.check_csrf(ws, form)
    return ws, form


def _case_path(case_id: str, anchor: str = "") -> str:
    return f"/help/cases/{quote(case_id, safe='')}" + (f"#{anchor}" if anchor else "")


_json = script_json.reply
_json_refusals = script_json.refusals_as_json


# ---------------------------------------------------------------- list
@pages.page(DOOR)
def list_page(request) -> Reply:
    ws = session.require(request, DOOR)
    ctx = Context.current()
    cursor = (request.query_params or {}).get("cursor") or None
    if cursor is not None and len(cursor) > 500:
        cursor = None
    cases, next_cursor = escalation.my_cases_page(ws.actor, limit=PAGE_SIZE, cursor=cursor)
    rows = [{"case_id": c.case_id, "category_title": steps.CATEGORY_TITLES[c.category],
             "subject": subject(c.description), "step_title": c.step_def.title, "status": c.status,
             "status_title": ACTIVE_STATUS[c.status], "created_at": c.created_at, "deadline": c.deadline,
             "priority": c.priority} for c in cases]
    return _render("web/my_cases.html", ws, ctx, title="我的工单", cases=rows, next_cursor=next_cursor,
                   first_page=cursor is None)


def subject(description: str, limit: int = 40) -> str:
    """A 工单's subject in a list: the first non-empty line of what the user wrote, cut at ``limit`` characters."""
    first = next((line.strip() for line in (description or "").splitlines() if line.strip()), "")
    return first if len(first) <= limit else first[:limit - 1] + "…"


# ---------------------------------------------------------------- new
def _repayments(ws: session.WebSession) -> list[dict]:
    """The user's own recent repayments to pick from (the repay domain's history, the caller's only)."""
    from chalicelib.repay import schemas as repay_schemas
    from chalicelib.repay import service as repay
    from chalicelib.web import mymoney
    page = repay.history(ws.actor, repay_schemas.ListQuery(limit=20), repay.current())
    return [{"id": item["id"], "label": mymoney.repayment_label(item)} for item in page["items"]]


DESCRIPTION_MAX = 2000   # escalation.schemas.NewCase.description

# An article's 「还是没解决？」 opens the form with the article as context: the category it is about, if clear.
ARTICLE_CATEGORY = {"repayment-delay": "repayment_delay", "credit-card-repayment": "repayment_delay",
                    "repayment-failed": "repayment_failed", "loan-repayment": "repayment_failed",
                    "utility-bills": "repayment_failed", "fees": "fees", "avoid-late-fees": "fees",
                    "account-compromised": "account_security"}


def _article(slug: str | None) -> dict | None:
    """The help article a 工单 comes from (slug and title), if it is one; None for anything else."""
    if not slug or len(slug) > 80:
        return None
    from chalicelib.search import service as kb
    try:
        found = kb.get_article(slug)
    except errors.ApiError:   # the index is unavailable: the form works without the context
        return None
    return {"slug": slug, "title": found.title} if found else None


def with_article(description: str, article: dict | None) -> str:
    """The description the agent reads: what the user wrote, and the article they read first (if it fits)."""
    if not article:
        return description
    line = f"\n\n（提交前看过帮助文章：《{article['title']}》）"
    return description + line if len(description) + len(line) <= DESCRIPTION_MAX else description


def _new_form(ws, ctx, *, status: int = 200, error: str = "", values: dict | None = None,
              article: dict | None = None, existing: str | None = None) -> Reply:
    values = {"category": "", "description": "", "repayment_id": "", **(values or {})}
    return _render("web/case_new.html", ws, ctx, status=status, title="提交工单", error=error, values=values,
                   existing=existing, existing_path=_case_path(existing) if existing else None,
                   categories=steps.CATEGORY_TITLES, repayments=_repayments(ws), idempotency_key=_key(),
                   article=article, service_notices=_status().for_case_form(ctx))


def _status():
    from chalicelib.status import service  # service notices: the form's banner and its deflection count
    return service


@pages.page(DOOR)
def new_page(request) -> Reply:
    ws = session.require(request, DOOR)
    query = request.query_params or {}
    article = _article(query.get("article"))
    category = query.get("category") or (ARTICLE_CATEGORY.get(article["slug"], "") if article else "")
    values = {"description": (query.get("q") or "")[:2000], "category": category if category in steps.CATEGORY_TITLES
              else "", "repayment_id": (query.get("repayment_id") or "")[:40]}
    return _new_form(ws, Context.current(), values=values, article=article)


@pages.page(DOOR)
def create(request) -> Reply:
    ws, form = _posted(request)
    ctx = Context.current()
    article = _article(form.get("article"))
    values = {"category": form.get("category", ""), "description": form.get("description", ""),
              "repayment_id": form.get("repayment_id") or None}
    try:
        body = schemas.NewCase.model_validate(values)
    except pydantic.ValidationError as exc:
        problem = httpio.validation_error(exc).message
        return _new_form(ws, ctx, status=400, error=_labelled(problem), values=values, article=article)
    try:
        outcome = escalation.open_case(ws.actor, ctx, category=body.category,
                                       description=with_article(body.description, article),
                                       repayment_id=body.repayment_id, insist=form.get("insist") == "1",
                                       idempotency_key=form.get("idempotency_key") or None,
                                       limit=lambda: ratelimit.hit("case_open", ws.actor.user_id))  # after a replay
    except refusals.Conflicting as exc:
        if exc.code != "duplicate_case":
            raise
        # an open 工单 already names this repayment: offer it first, with a way to open a new one anyway
        return _new_form(ws, ctx, status=409, values=values, article=article, existing=(exc.details or {})["existing"])
    except refusals.DomainError as exc:
        if not exc.field:  # not about what was typed: the page-level answer
            raise
        refusal = errors.from_domain(exc)
        return _new_form(ws, ctx, status=refusal.status, error=_labelled(refusal.message), values=values,
                         article=article)
    seen = [s for s in form.get("suggestions_opened", "").split(",") if s][:5]
    if seen:
        escalation.not_deflected(body.description, seen, ctx)
    return pages.redirect(_case_path(outcome.body["case_id"]))


def _labelled(message: str) -> str:
    for field, name in (("category", "问题类别"), ("description", "问题描述"), ("repayment_id", "关联还款")):
        message = message.replace(f"{field}：", f"{name}：")
    return message


@_json_refusals
def suggestions(request) -> Reply:
    """JSON for the new-工单 form's script: articles that may already answer what is being typed."""
    session.require(request, DOOR)
    q = ((request.query_params or {}).get("q") or "").strip()[:200]
    if not q:
        return _json({"query": "", "items": []})
    try:
        found = escalation.suggestions(q)
    except errors.ApiError:   # nothing searchable left in the text, or the index is down: no suggestions
        return _json({"query": q, "items": []})
    return _json(found.model_dump(mode="json"))


@_json_refusals
def deflection(request) -> Reply:
    """The form's script reports that a suggestion was opened (sendBeacon); 204, counted without the user."""
    ws, form = _posted(request)
    slug, q = form.get("slug", "")[:80], form.get("q", "")[:200]
    if slug:
        escalation.deflected(q, slug, Context.current())
    notices = [n for n in form.get("notices", "")[:400].split(",") if n]
    if notices:   # left the form without submitting it, after reading the service notices shown on it
        _status().deflected(notices, Context.current())
    return Reply(204, "")


# ---------------------------------------------------------------- one 工单
@pages.page(DOOR)
def case_page(request, case_id: str) -> Reply:
    ws = session.require(request, DOOR)
    ctx = Context.current()
    view, actions = escalation.owner_page(ws.actor, ctx, case_id)
    files = escalation.list_attachments(ws.actor, ctx, case_id).items
    notice = {"sent": "已发送。", "uploaded": "附件已上传。", "confirmed": "感谢您的评价，工单已关闭。",
              "reopened": "工单已重新打开。", "escalated": "已申请升级，新的团队会在时限内答复您。",
              "rated": "感谢您的评价。", "solved": "感谢确认，工单已关闭。",
              "not_solved": "已告知客服，将继续为您处理。"}.get(
        (request.query_params or {}).get("done", ""), "")
    from chalicelib.web import mymoney
    reply = _render("web/case.html", ws, ctx, title=f"工单 {view.reference}", case=as_body(view),
                   linked_repayment=mymoney.linked(ws.actor, view.repayment_id),
                   actions=actions, attachments=files, notice=notice, idempotency_key=_key(),
                   max_mb=schemas_max_mb(), content_types=",".join(_ACCEPT))
    # The page's script uploads straight to the bucket: only that origin is added to what it may connect to.
    from chalicelib.escalation import attachments
    csp = httpio.content_security_policy(connect_src=attachments.upload_origin())   # same nonce as the page
    return Reply(reply.status, reply.html, {**reply.headers, "Content-Security-Policy": csp})


_ACCEPT = ("image/png", "image/jpeg", "image/webp", "application/pdf")


def schemas_max_mb() -> int:
    from chalicelib.escalation import attachments
    return attachments.MAX_BYTES // (1024 * 1024)


@pages.page(DOOR)
def export_page(request, case_id: str) -> Reply:
    """The printable 工单 record (to attach to a complaint), as the API's export.html."""
    ws = session.require(request, DOOR)
    return Reply(200, escalation.export_html(ws.actor, Context.current(), case_id))


@pages.page(DOOR)
def reply(request, case_id: str) -> Reply:
    ws, form = _posted(request)
    message = _text(form, "message", schemas.UserMessage, "回复内容")
    escalation.add_user_message(ws.actor, Context.current(), case_id, message, form.get("idempotency_key") or None)
    return pages.redirect(_case_path(case_id) + "?done=sent#conversation")


@pages.page(DOOR)
def confirm(request, case_id: str) -> Reply:
    ws, form = _posted(request)
    rating, comment = _rating(form)
    escalation.confirm(ws.actor, Context.current(), case_id, form.get("idempotency_key") or None,
                       rating=rating, comment=comment)
    return pages.redirect(_case_path(case_id) + "?done=confirmed")


@pages.page(DOOR)
def update_answer(request, case_id: str) -> Reply:
    """The owner's answer to "does the repayment update solve it?" (the two buttons of the page)."""
    ws, form = _posted(request)
    solved = {"yes": True, "no": False}.get(form.get("solved", ""))
    if solved is None:
        raise refusals.Rejected("请选择“已解决”或“还没解决”。", code="invalid_input", field="solved")
    escalation.answer_update(ws.actor, Context.current(), case_id, solved, form.get("idempotency_key") or None)
    return pages.redirect(_case_path(case_id) + ("?done=solved" if solved else "?done=not_solved"))


@pages.page(DOOR)
def rate(request, case_id: str) -> Reply:
    ws, form = _posted(request)
    rating, comment = _rating(form)
    escalation.rate(ws.actor, Context.current(), case_id, rating, comment)
    return pages.redirect(_case_path(case_id) + "?done=rated")


@pages.page(DOOR)
def reopen(request, case_id: str) -> Reply:
    ws, form = _posted(request)
    reason = _text(form, "reason", schemas.Reason, "原因")
    escalation.reopen(ws.actor, Context.current(), case_id, reason, form.get("idempotency_key") or None)
    return pages.redirect(_case_path(case_id) + "?done=reopened")


@pages.page(DOOR)
def escalate(request, case_id: str) -> Reply:
    ws, form = _posted(request)
    reason = _text(form, "reason", schemas.Reason, "原因")
    escalation.escalate(ws.actor, Context.current(), case_id, reason, form.get("idempotency_key") or _key())
    return pages.redirect(_case_path(case_id) + "?done=escalated")


def _text(form: dict, name: str, model, label: str) -> str:
    try:
        return getattr(model.model_validate({name: form.get(name, "")}), name)
    except pydantic.ValidationError as exc:
        raise errors.ValidationFailed(httpio.validation_error(exc).message.replace(f"{name}：", f"{label}："),
                                      field=name) from None


def _rating(form: dict) -> tuple[int, str | None]:
    raw = form.get("rating", "")
    if raw not in {"1", "2", "3", "4", "5"}:
        raise errors.ValidationFailed("请选择 1–5 分的满意度评价。", field="rating")
    comment = form.get("comment", "")
    if len(comment) > 500:
        raise errors.ValidationFailed("评价内容不能超过 500 个字。", field="comment")
    return int(raw), comment


# ---------------------------------------------------------------- the 工单 page's scripts
@_json_refusals
def messages(request, case_id: str) -> Reply:
    ws = session.require(request, DOOR)
    after = (request.query_params or {}).get("after") or None
    if after is not None and len(after) > 200:
        raise errors.ValidationFailed("after 无效。", field="after")
    found = escalation.messages_since(ws.actor, Context.current(), case_id, after)
    return _json(found.model_dump(mode="json"))


@_json_refusals
def attachment_grant(request, case_id: str) -> Reply:
    """A presigned S3 POST for the file the page's script is about to upload (owner only)."""
    ws, form = _posted(request)
    try:
        body = schemas.AttachmentRequest.model_validate(
            {"filename": form.get("filename", ""), "content_type": form.get("content_type", ""),
             "size": int(form.get("size", "0") or 0)})
    except (pydantic.ValidationError, ValueError):
        raise errors.ValidationFailed("文件信息有误，请重新选择文件。", field="file") from None
    ratelimit.hit("attachment_upload", ws.actor.user_id)
    granted = escalation.attachment_upload(ws.actor, Context.current(), case_id, body.filename, body.content_type,
                                           body.size)
    return _json(granted.model_dump(mode="json"), 201)


@pages.page(DOOR)
def attachment_download(request, case_id: str, attachment_id: str) -> Reply:
    """303 to a presigned GET (a few minutes; saved as a file, never shown inline)."""
    ws = session.require(request, DOOR)
    return pages.redirect(escalation.attachment_download(ws.actor, Context.current(), case_id, attachment_id))
