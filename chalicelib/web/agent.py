"""The agent workspace (``/agent``): queues, the 工单 page and its actions, over the escalation services.

Every action calls the same escalation service the JSON API calls, with the session's ``Actor``, so the
rules (who may act on which step, conditional moves, 409 on a lost race) are the API's. Forms carry the
session's CSRF token (checked before anything is read or written) and answer 303 back to the 工单.
"""
from __future__ import annotations

import re
import secrets
from urllib.parse import quote, urlencode

import pydantic

from chalicelib.edge import httpio, pages
from chalicelib.edge.pages import Reply
from chalicelib.escalation import macros, model
from chalicelib.escalation import schemas as esc_schemas
from chalicelib.escalation import service as escalation
from chalicelib.escalation import steps as step_defs
from chalicelib.kernel import refusals
from chalicelib.kernel.context import Context
from chalicelib.kernel.schema import as_body
from chalicelib.web import session

PAGE_SIZE = 20
FILTER_READ_PAGES = 5
PRIORITIES = ("P1", "P2", "P3")
DONE = {"assigned": "已分配", "noted": "已添加内部备注", "replied": "已回复用户", "escalated": "已升级",
        "resolved": "已标记解决", "unfrozen": "已解除账户冻结", "merged": "已合并", "unmerged": "已撤销合并"}
AWAIT_CHOICES = {"1": True, "0": False}   # the reply form's two radio buttons; there is no default
CHOOSE_AWAIT = "请选择这条回复之后的处理方式：「等待用户回复（暂停计时）」或「处理中答复（继续计时）」。回复尚未发送。"
_REFERENCE = re.compile(model.REFERENCE_PATTERN)


def _common(ws: session.WebSession) -> dict:
    from chalicelib.search import contacts
    book = contacts.directory()
    return {"door": "agent", "ws": ws, "hotline": (book.hotline("customer_service") or book.hotlines[0]).number,
            "security_line": contacts.security_hotline().number}


def _local(ctx: Context):
    from chalicelib.escalation import notifications
    return lambda value: notifications.local_time(value, ctx.settings.time_zone)


# ---------------------------------------------------------------- queues
def _matches(item: esc_schemas.CaseSummary, filters: dict, ws: session.WebSession) -> bool:
    if filters["priority"] and item.priority != filters["priority"]:
        return False
    if filters["category"] and item.category != filters["category"]:
        return False
    if filters["mine"] and item.assignee != ws.actor.username:
        return False
    if filters["waiting"] and item.status != "waiting_user":
        return False
    return True


@pages.page("agent")
def queue(request) -> Reply:
    ws = session.require(request, "agent")
    if not ws.actor.is_staff:              # a content editor (kb-editor) works no 工单: their desk is the editor
        return pages.redirect("/agent/kb")
    query = request.query_params or {}
    steps = escalation.workable_steps(ws.actor)
    names = [s.name for s in steps]
    step = query.get("step") or names[0]
    if step not in step_defs.NAMES:
        raise refusals.Missing("没有这个步骤。", code="step_not_found")
    if step not in names:
        raise session.Forbidden(f"「{step_defs.get(step).title}」的工单需要高级客服（senior-support）处理。",
                                code="forbidden_role")
    filters = {"priority": query.get("priority") if query.get("priority") in PRIORITIES else "",
               "category": query.get("category") if query.get("category") in step_defs.CATEGORIES else "",
               "mine": query.get("mine") == "1", "waiting": query.get("waiting") == "1"}
    cursor = query.get("cursor") or None
    # A filter is applied to the queue's pages (the index is ordered by deadline, not by priority or
    # category), so a filtered page reads further pages until it holds PAGE_SIZE matches or has read
    # FILTER_READ_PAGES of them: bounded work per request, and a filter never shows a needlessly short page.
    items: list[dict] = []
    read_from = cursor
    for _ in range(FILTER_READ_PAGES if any(filters.values()) else 1):
        page = escalation.queue(ws.actor, step, limit=PAGE_SIZE, cursor=read_from)
        items += [as_body(i) for i in page.items if _matches(i, filters, ws)]
        read_from = page.next_cursor
        if len(items) >= PAGE_SIZE or not read_from:
            break
    ctx = Context.current()
    kept = {k: v for k, v in {"step": step, "priority": filters["priority"], "category": filters["category"],
                              "mine": "1" if filters["mine"] else "", "waiting": "1" if filters["waiting"] else ""
                              }.items() if v}
    next_url = "/agent?" + urlencode({**kept, "cursor": page.next_cursor}) if page.next_cursor else None
    return pages.html("web/agent_queue.html", title="工单队列", steps=steps, step=step, items=items, filters=filters,
                      categories=step_defs.CATEGORY_TITLES, priorities=PRIORITIES, next_url=next_url,
                      first_url=("/agent?" + urlencode(kept)) if cursor else None, now=ctx.now.isoformat(),
                      local_time=_local(ctx), steps_by_name=step_defs.BY_NAME, moved=_moved(query, names),
                      service_notices=_service_notices(ctx), me=as_body(escalation.me(ws.actor, ctx)),
                      status_done=_status_done(query), **_common(ws))


def _status_done(query: dict) -> str:
    """The confirmation after the agent's own status switch (``?done=status&moved=N``, ``web/agent_team.py``)."""
    if query.get("done") != "status":
        return ""
    moved = query.get("moved") or "0"
    return "已更改状态" + (f"（{int(moved)} 个工单随之移动）" if moved.isdigit() and int(moved) else "")


def _service_notices(ctx: Context) -> list[dict]:
    """What users are being told right now (the queue's banner: an agent answering a 工单 should know)."""
    from chalicelib.status import service as status
    return status.for_workspace(ctx)


def _moved(query: dict, workable: list[str]) -> dict | None:
    """The confirmation shown on the queue after this agent escalated a 工单 (``?done=escalated``): which
    工单 went to which step, and a link to it only if the agent may still work that step."""
    ref, to = query.get("case") or "", query.get("to") or ""
    if query.get("done") != "escalated" or not _REFERENCE.match(ref) or to not in step_defs.NAMES:
        return None
    return {"case_id": ref, "to_title": step_defs.get(to).title,
            "link": f"/agent/cases/{quote(ref)}" if to in workable else None}


# ---------------------------------------------------------------- one 工单
@pages.page("agent")
def case_page(request, case_id: str) -> Reply:
    ws = session.require(request, "agent")
    return _case_page(ws, Context.current(), case_id, request.query_params or {})


def _case_page(ws: session.WebSession, ctx: Context, case_id: str, query: dict, *, status: int = 200,
               reply_error: str = "", reply_text: str | None = None) -> Reply:
    """The 工单 page; a refused reply form comes back here (``reply_error``) with what was typed."""
    case = as_body(escalation.workspace_case(ws.actor, ctx, case_id))   # 403 for a step the agent may not work
    repayments = as_body(escalation.case_repayments(ws.actor, ctx, case_id))  # leaves an access record
    common = _common(ws)
    canned = macros.rendered(case, repayments["items"], hotline=common["hotline"],
                             security_line=common["security_line"], time_zone=ctx.settings.time_zone)
    chosen = next((m for m in canned if m["id"] == query.get("macro")), None)
    frozen = None
    if ws.actor.has_role("senior-support"):
        from chalicelib.repay import service as repay_service
        frozen = repay_service.is_frozen(case["user_id"])
    following = step_defs.next_step(case["step"])
    evidence = escalation.list_attachments(ws.actor, ctx, case_id).items
    draft = reply_text if reply_text is not None else (chosen["text"] if chosen else "")
    # The clock choice is the agent's: a chosen macro suggests one, nothing else pre-selects it.
    await_choice = None if reply_text is not None or not chosen else ("1" if chosen["await_user"] else "0")
    return pages.html("web/agent_case.html", status=status, title=f"工单 {case['reference']}", case=case,
                      repayments=repayments, macros=canned, chosen=chosen, frozen=frozen, attachments=evidence,
                      following=following, done=DONE.get(query.get("done", "")), now=ctx.now.isoformat(),
                      idempotency_key=secrets.token_urlsafe(16), local_time=_local(ctx), draft=draft,
                      await_choice=await_choice, reply_error=reply_error, time_zone=ctx.settings.time_zone,
                      status_titles=macros.STATUS_TITLES,
                      kind_labels=macros.KIND_LABELS, payee_label=macros.payee_label, **common)


@pages.page("agent")
def attachment_download(request, case_id: str, attachment_id: str) -> Reply:
    """303 to a fresh presigned GET (a few minutes; saved as a file, never shown inline)."""
    ws = session.require(request, "agent")
    return pages.redirect(escalation.attachment_download(ws.actor, Context.current(), case_id, attachment_id))


def updates(request, case_id: str) -> tuple[int, dict]:
    """The small JSON the 工单 page polls: its version and status, and messages after ``since``."""
    try:
        ws = session.require(request, "agent")
    except session.LoginRequired:
        return 401, {"error": {"code": "unauthorized", "message": "登录已失效，请重新登录。"}}
    except session.Forbidden as exc:
        return 403, {"error": {"code": exc.code, "message": exc.message}}
    since = (request.query_params or {}).get("since", "")
    ctx = Context.current()
    case = escalation.workspace_case(ws.actor, ctx, case_id)
    messages = [as_body(m) for m in case.conversation if m.at > since]
    # Presence (#25): each poll says the agent is here (typing=1: typing); the answer names who else is.
    typing = (request.query_params or {}).get("typing") == "1"
    others = [as_body(o) for o in escalation.presence(ws.actor, ctx, case.case_id, typing).others]
    return 200, {"case_id": case.case_id, "version": case.version, "status": case.status,
                 "status_title": case.status_title, "step": case.step, "assignee": case.assignee,
                 "messages": messages, "others": others}


# ---------------------------------------------------------------- actions
def _validated(model, data: dict):
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise httpio.validation_error(exc) from None


def _act(request, case_id: str):
    ws = session.require(request, "agent")
    form = pages.form(request)
    session.check_csrf(ws, form)       # before anything is read or changed
    return ws, form, Context.current()


def _form_key(form: dict) -> str | None:
    """The form's own Idempotency-Key (a hidden field drawn when the page was rendered): the same form posted
    twice acts once (a form from before the field existed simply acts)."""
    return form.get("idempotency_key") or None


def _back(case_id: str, done: str) -> Reply:
    return pages.redirect(f"/agent/cases/{case_id}?done={done}#top")


@pages.page("agent")
def assign(request, case_id: str) -> Reply:
    ws, form, ctx = _act(request, case_id)
    body = _validated(esc_schemas.Assign, {"assignee": form.get("assignee") or None})
    escalation.assign(ws.actor, ctx, case_id, body.assignee, _form_key(form))
    return _back(case_id, "assigned")


@pages.page("agent")
def note(request, case_id: str) -> Reply:
    ws, form, ctx = _act(request, case_id)
    body = _validated(esc_schemas.Note, {"text": form.get("text", "")})
    escalation.add_note(ws.actor, ctx, case_id, body.text, _form_key(form))
    return _back(case_id, "noted")


@pages.page("agent")
def reply(request, case_id: str) -> Reply:
    """Send a reply; the agent must say whether it waits on the user (pauses the clock) or is a holding
    reply (the clock goes on): without that choice the page comes back (400) with the text kept."""
    ws, form, ctx = _act(request, case_id)
    choice = form.get("await_user", "")
    if choice not in AWAIT_CHOICES:
        return _case_page(ws, ctx, case_id, {}, status=400, reply_error=CHOOSE_AWAIT,
                          reply_text=form.get("message", "")[:2000])
    body = _validated(esc_schemas.Reply, {"message": form.get("message", ""), "await_user": AWAIT_CHOICES[choice]})
    escalation.reply(ws.actor, ctx, case_id, body.message, body.await_user, _form_key(form))
    return _back(case_id, "replied")


@pages.page("agent")
def escalate(request, case_id: str) -> Reply:
    ws, form, ctx = _act(request, case_id)
    body = _validated(esc_schemas.Reason, {"reason": form.get("reason", "")})
    # The form's own key: a double-submitted form moves the 工单 once (escalation requires one).
    key = form.get("idempotency_key") or secrets.token_urlsafe(16)
    moved = escalation.escalate(ws.actor, ctx, case_id, body.reason, key).body
    # Back to the queue the 工单 left (it is no longer there; the next step may be one this agent cannot open).
    return pages.redirect("/agent?" + urlencode({"step": step_defs.previous_step(moved["step"]), "done": "escalated",
                                                 "case": moved["case_id"], "to": moved["step"]}))


@pages.page("agent")
def resolve(request, case_id: str) -> Reply:
    ws, form, ctx = _act(request, case_id)
    body = _validated(esc_schemas.Resolve, {"summary": form.get("summary", "")})
    escalation.resolve(ws.actor, ctx, case_id, body.summary, _form_key(form))
    return _back(case_id, "resolved")


@pages.page("agent")
def unfreeze_confirm(request, case_id: str) -> Reply:
    """The confirmation step before lifting a freeze (senior only: the service refuses anyone else)."""
    ws = session.require(request, "agent")
    ctx = Context.current()
    case = as_body(escalation.workspace_case(ws.actor, ctx, case_id))
    if not ws.actor.has_role("senior-support"):
        raise session.Forbidden("只有高级客服（senior-support）可以解除账户冻结。", code="forbidden_role")
    return pages.html("web/agent_unfreeze.html", title="确认解除冻结", case=case, **_common(ws))


@pages.page("agent")
def unfreeze(request, case_id: str) -> Reply:
    ws, form, ctx = _act(request, case_id)
    case = escalation.workspace_case(ws.actor, ctx, case_id)
    if form.get("confirm") != "yes":
        return pages.redirect(f"/agent/cases/{case_id}/unfreeze")
    escalation.unfreeze(ws.actor, ctx, case.user_id)
    return _back(case_id, "unfrozen")


@pages.page("agent")
def merge(request, case_id: str) -> Reply:
    """Merge this 工单 into another of the same user (its reference typed); back to the kept one."""
    ws, form, ctx = _act(request, case_id)
    body = _validated(esc_schemas.MergeInto, {"into": form.get("into", "")})
    kept = escalation.merge_case(ws.actor, ctx, case_id, body.into, _form_key(form)).body
    return _back(kept["case_id"], "merged")


@pages.page("agent")
def unmerge(request, case_id: str) -> Reply:
    ws, form, ctx = _act(request, case_id)
    escalation.unmerge_case(ws.actor, ctx, case_id, _form_key(form))
    return _back(case_id, "unmerged")
