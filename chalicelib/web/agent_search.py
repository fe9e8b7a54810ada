"""Finding a 工单 in the agent workspace (``/agent/search``, the search box on the queue page) and the leads'
access records (``/agent/access``), over the same escalation / repay services as the JSON API.

One box: what looks like a reference (lower case or full width accepted) is looked up exactly and, when the
agent may open it, goes straight to the 工单 (303); anything else is searched as words of the description and
conversation. A choice beside the box searches a user name or a repayment id instead, or the phone's last four
digits and the day the 工单 was opened: typed ``1234 2026-12-01`` in the box (also recognised without the
choice), or the digits in the box and the day in the date field beside it. Read-only GET forms.
"""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urlencode

import pydantic

from chalicelib.edge import pages
from chalicelib.edge.pages import Reply
from chalicelib.escalation import model, wording
from chalicelib.escalation import schemas as esc_schemas
from chalicelib.escalation import service as escalation
from chalicelib.escalation import steps as step_defs
from chalicelib.kernel import refusals
from chalicelib.kernel.context import Context
from chalicelib.kernel.schema import as_body
from chalicelib.web import session
from chalicelib.web.agent import PRIORITIES, _common, _local

PAGE_SIZE = 20
BY = {"text": "编号或关键词", "user": "用户名", "repayment": "还款编号", "phone": "手机尾号+日期"}
_REFERENCE = re.compile(model.REFERENCE_PATTERN)
_PHONE_AND_DAY = re.compile(r"^(\d{4})[\s,，、]+(\d{4}-\d{1,2}-\d{1,2})$")


def _phone_fields(text: str, day: str | None) -> dict:
    """``1234 2026-12-01`` (full width folded), or the digits with the date field's day."""
    folded = unicodedata.normalize("NFKC", text).strip()
    both = _PHONE_AND_DAY.match(folded)
    if both:
        digits, day = both.group(1), both.group(2)
    else:
        digits = folded
    if day:
        parts = day.split("-")
        day = "-".join([parts[0], *(p.zfill(2) for p in parts[1:])]) if len(parts) == 3 else day
    return {"phone_last4": digits, "date": day or None}


def _query(by: str, text: str, params: dict) -> esc_schemas.CaseSearchQuery:
    fields: dict = {"limit": PAGE_SIZE, "cursor": params.get("cursor") or None}
    if by == "phone" or (by == "text" and _PHONE_AND_DAY.match(unicodedata.normalize("NFKC", text).strip())):
        fields.update(_phone_fields(text, params.get("date")))
    elif by == "user":
        fields["user"] = text
    elif by == "repayment":
        fields["repayment_id"] = text
    elif _REFERENCE.match(escalation.normalize_reference(text)):
        fields["ref"] = text
    else:
        fields["q"] = text
    for name in ("status", "priority", "category"):
        if params.get(name):
            fields[name] = params[name]
    try:
        return esc_schemas.CaseSearchQuery(**fields)
    except pydantic.ValidationError:
        if "phone_last4" in fields:
            raise refusals.Invalid("按手机号后四位查找请写成「1234 2026-12-01」（后四位和受理日期），"
                                   "或在日期栏选择日期。", code="invalid_search") from None
        raise refusals.Invalid("查找条件无效，请检查后重试。", code="invalid_search") from None


@pages.page("agent")
def search(request) -> Reply:
    ws = session.require(request, "agent")
    params = request.query_params or {}
    by = params.get("by") if params.get("by") in BY else "text"
    text = (params.get("q") or "").strip()
    page = escalation.search(ws.actor, Context.current(), _query(by, text, params)) if text else None
    if page is not None and page.exact and page.items:
        return pages.redirect(f"/agent/cases/{quote(page.exact)}")
    kept = {k: v for k, v in {"q": text, "by": by, **{k: params.get(k) or "" for k in (
        "date", "status", "priority", "category")}}.items() if v}
    more = page.next_cursor if page else None
    next_url = ("/agent/search?" + urlencode({**kept, "cursor": more})) if more else None
    first_url = ("/agent/search?" + urlencode(kept)) if params.get("cursor") else None
    ctx = Context.current()
    return pages.html("web/agent_search.html", title="查找工单", text=text, by=by, choices=BY,
                      day=params.get("date") or "", items=[as_body(i) for i in page.items] if page else [],
                      searched=page is not None,
                      next_url=next_url, first_url=first_url,
                      categories=step_defs.CATEGORY_TITLES, priorities=PRIORITIES,
                      filters={k: params.get(k) or "" for k in ("status", "priority", "category")},
                      local_time=_local(ctx), statuses=wording.STAFF_STATUS, **_common(ws))


# ---------------------------------------------------------------- the leads' access records
@pages.page("agent")
def access(request) -> Reply:
    from chalicelib.repay import schemas as repay_schemas
    from chalicelib.repay import service as repay
    ws = session.require(request, "agent")
    params = {k: v for k, v in (request.query_params or {}).items() if v and k in (
        "staff", "user_id", "since", "until", "cursor")}
    try:
        query = repay_schemas.AccessQuery(**params)
    except pydantic.ValidationError:
        raise refusals.Invalid("筛选条件无效：日期格式为 2026-12-09，用户为用户 ID。", code="invalid_filter") from None
    ctx = Context.current()
    items, more = repay.access_page(ws.actor, ctx, staff=query.staff, user_id=query.user_id, since=query.since,
                                    until=query.until, limit=query.limit, cursor=query.cursor)
    kept = {k: v for k, v in params.items() if k != "cursor"}
    return pages.html("web/agent_access.html", title="访问记录", items=items, filters=kept,
                      next_url=("/agent/access?" + urlencode({**kept, "cursor": more})) if more else None,
                      csv_url="/agent/access.csv?" + urlencode(kept), local_time=_local(ctx), **_common(ws))


@pages.page("agent")
def access_csv(request) -> Reply:
    """The CSV file's text as a 200 ``Reply`` (the route sends it as a download), or a refusal page."""
    from chalicelib.repay import schemas as repay_schemas
    from chalicelib.repay import service as repay
    ws = session.require(request, "agent")
    params = request.query_params or {}
    try:
        query = repay_schemas.AccessQuery(**{k: v for k, v in params.items() if v and k in (
            "staff", "user_id", "since", "until")}, limit=200)
    except pydantic.ValidationError:
        raise refusals.Invalid("筛选条件无效。", code="invalid_filter") from None
    items, _ = repay.access_page(ws.actor, Context.current(), staff=query.staff, user_id=query.user_id,
                                 since=query.since, until=query.until, limit=query.limit, cursor=None)
    return Reply(200, repay.access_csv(items))
