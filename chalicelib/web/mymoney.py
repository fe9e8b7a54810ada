"""「我的还款」: the wallet user's money in the browser (``/help/repayments``, ``/help/bills``, ``/help/notices``).

The same services as the JSON API (``repay.service``, ``bills.service``, ``notices`` through it) with the same
``Actor``, reached with the help door's session instead of a bearer token: someone else's repayment, bill or
notice is a 404 page, as it is a 404 there. Every form POST checks the session's CSRF token and answers 303;
retrying a repayment carries the form's own ``idempotency_key`` (a double submit retries once — the repay
service's ``Idempotency-Key`` rules).

The public receipt check (``/help/receipts/verify``) needs no session: the form a receipt's printed address
opens, prefilled; ``GET /receipts/verify`` stays the JSON check for programs.
"""
from __future__ import annotations

import secrets
from urllib.parse import quote, urlencode

import pydantic

from chalicelib.adapters import ratelimit
from chalicelib.edge import errors, pages
from chalicelib.edge.pages import Reply
from chalicelib.kernel import clock, refusals
from chalicelib.web import session

DOOR = "help"
PAGE_SIZE = 10
_TITLES = {404: "找不到这笔记录", 409: "还款状态已变化", 423: "账户已冻结"}
_BACK = ("/help/repayments", "返回我的还款")

# A repayment's status in words, and what it means for the user.
STATUS_WORDS = {"verification_required": "待短信验证", "processing": "处理中", "succeeded": "已到账",
                "failed": "还款失败", "cancelled": "已取消"}
STATUS_MEANING = {
    "verification_required": ("这笔还款金额较大，需要输入短信验证码才会提交。"
                              "请在钱包 App 中完成验证；超时未验证会自动取消，不会扣款。"),
    "processing": "银行正在处理，钱到账后会短信通知您。",
    "succeeded": "还款已到账。",
    "failed": "这笔还款没有成功。",
    "cancelled": "这笔还款已取消，没有扣款。",
}
UTILITY_WORDS = {"water": "水费", "electricity": "电费", "gas": "燃气费"}
NOTICE_KINDS = {"reminder": "还款提醒", "settled": "还款到账", "failed": "还款失败", "delayed": "到账推迟",
                "schedule": "预约还款"}
SCHEDULE_MODES = {"on_date": "指定日期还款", "by_due_date": "到期前自动还款", "autopay": "每月自动缴费"}
SCHEDULE_STATUS = {"verification_required": "待短信验证", "active": "已预约", "running": "执行中",
                   "completed": "已完成", "cancelled": "已取消"}


def _key() -> str:
    return secrets.token_urlsafe(18)


def _repay():
    from chalicelib.repay import service
    return service


def _bills():
    from chalicelib.bills import service
    return service


# ---------------------------------------------------------------- words
def local_time(value: str | None, time_zone: str = "Asia/Shanghai") -> str:
    """An ISO time (UTC ``…Z`` or with an offset) as ``YYYY-MM-DD HH:MM`` in the service's time zone."""
    if not value:
        return ""
    try:
        return clock.parse(value).astimezone(clock.zone(time_zone)).strftime("%Y-%m-%d %H:%M")
    except (ValueError, TypeError):
        return value


def payee_label(payee: dict) -> str:
    """Who was paid, as the texts name it (last digits only): 招商银行信用卡（尾号 4324）."""
    kind = payee.get("kind")
    if kind == "credit_card":
        return f"{payee.get('issuer', '')}信用卡（尾号 {payee.get('card_last4', '')}）"
    if kind == "loan":
        return f"{payee.get('platform', '')}借款（合同尾号 {str(payee.get('contract_number', ''))[-4:]}）"
    if kind == "utility":
        return (f"{payee.get('biller', '')}{UTILITY_WORDS.get(payee.get('utility', ''), '')}"
                f"（户号尾号 {str(payee.get('account_number', ''))[-4:]}）")
    return "收款方"


def status_words(item: dict) -> str:
    words = STATUS_WORDS.get(item["status"], "处理中")
    if item["status"] == "processing" and (item.get("notice") or {}).get("code") == "delayed":
        words = "处理中（到账推迟）"
    return words


def repayment_label(item: dict) -> str:
    """One line for a repayment anywhere a user picks or sees one: date · amount · payee · status."""
    return (f"{local_time(item['created_at'])[:10]} · {item['amount']} 元 · {payee_label(item.get('payee') or {})} · "
            f"{status_words(item)}")


def linked(actor, repayment_id: str | None) -> dict | None:
    """The repayment a 工单 names, readable and linked to its page (the owner's own: the service checks)."""
    if not repayment_id:
        return None
    repay = _repay()
    try:
        view = repay.get(actor, repayment_id, repay.current())
    except refusals.Missing:
        return {"url": None, "label": "（这笔还款记录已无法查看）"}
    return {"url": _path(repayment_id), "label": repayment_label(view)}


def _path(repayment_id: str, tail: str = "") -> str:
    return f"/help/repayments/{quote(repayment_id, safe='')}{tail}"


def _article(slug: str | None) -> dict | None:
    """A knowledge-base article to read next (slug and title); the slug alone if the index is unavailable."""
    if not slug:
        return None
    from chalicelib.search import service as kb
    try:
        found = kb.get_article(slug)
    except errors.ApiError:
        return {"slug": slug, "title": "帮助文章"}
    return {"slug": slug, "title": found.title} if found else None


def _render(template: str, ws: session.WebSession, status: int = 200, **context) -> Reply:
    return pages.html(template, status=status, door=DOOR, ws=ws, local_time=local_time, **context)


def _cursor(request) -> str | None:
    cursor = (request.query_params or {}).get("cursor") or None
    if cursor is not None and len(cursor) > 200:
        raise errors.ValidationFailed("翻页标记无效，请从第一页重新查看。", field="cursor")
    return cursor


def _page_of(read):
    """A page read with an opaque cursor: a cursor that is not one of ours is a 400 in plain words."""
    try:
        return read()
    except refusals.Invalid as exc:
        if exc.field == "cursor":
            raise errors.ValidationFailed("翻页标记无效，请从第一页重新查看。", field="cursor") from None
        raise


def _posted(request) -> tuple[session.WebSession, dict]:
    ws = session.require(request, DOOR)
    form = pages.form(request)
    session.check_csrf(ws, form)
    return ws, form


def _tabs(current: str, ws: session.WebSession) -> dict:
    """The three pages' tabs, with the unread count on 消息 (one COUNT Query, bounded)."""
    bills = _bills()
    unread = bills.unread_notices(ws.actor, bills.current())
    badge = "99+" if unread["unread_more"] else (str(unread["unread"]) if unread["unread"] else "")
    return {"current": current, "unread": badge}


# ---------------------------------------------------------------- repayments
@pages.page(DOOR, titles=_TITLES, back=_BACK)
def list_page(request) -> Reply:
    ws = session.require(request, DOOR)
    cursor = _cursor(request)
    repay = _repay()
    from chalicelib.repay import schemas
    found = _page_of(lambda: repay.history(ws.actor, schemas.ListQuery(limit=PAGE_SIZE, cursor=cursor),
                                           repay.current()))
    rows = [{"id": item["id"], "url": _path(item["id"]), "status": item["status"], "status_title": status_words(item),
             "payee": payee_label(item.get("payee") or {}), "amount": item["amount"], "created_at": item["created_at"],
             "expected_date": item["expected_arrival"]["date"], "actual_arrival": item.get("actual_arrival"),
             "retryable": bool((item.get("failure") or {}).get("retryable")) and item["status"] == "failed"}
            for item in found["items"]]
    return _render("web/my_repayments.html", ws, title="我的还款", repayments=rows,
                   next_cursor=found.get("next_cursor"), first_page=cursor is None, tabs=_tabs("repayments", ws))


_DONE = {"retried": "已重新提交，银行处理中。到账后会短信通知您。"}


@pages.page(DOOR, titles=_TITLES, back=_BACK)
def detail_page(request, repayment_id: str) -> Reply:
    ws = session.require(request, DOOR)
    repay = _repay()
    ctx = repay.current()
    item = repay.get(ws.actor, repayment_id, ctx)
    failure = item.get("failure")
    notice = item.get("notice")
    warning = item.get("warning")
    view = {
        **item, "url": _path(item["id"]), "status_title": status_words(item),
        "meaning": (notice or {}).get("message") if item["status"] == "processing" and notice
        else STATUS_MEANING.get(item["status"], ""),
        "payee_label": payee_label(item.get("payee") or {}),
        "failure_article": _article(failure["kb_article"]) if failure else None,
        "notice_article": _article(notice["kb_article"]) if notice else None,
        "warning_article": _article(warning["kb_article"]) if warning else None,
        "can_retry": item["status"] == "failed" and bool(failure and failure["retryable"]),
        "has_receipt": item["status"] == "succeeded",
        "case_category": "repayment_failed" if item["status"] in ("failed", "cancelled") else "repayment_delay",
    }
    done = _DONE.get((request.query_params or {}).get("done", ""), "")
    return _render("web/my_repayment.html", ws, title=f"还款详情 · {view['status_title']}", r=view, done=done,
                   idempotency_key=_key(), tabs=_tabs("repayments", ws))


@pages.page(DOOR, titles=_TITLES, back=_BACK)
def retry(request, repayment_id: str) -> Reply:
    """Retry a repayment that failed for a retryable reason: the repay service's retry, exactly once per form."""
    ws, form = _posted(request)
    key = form.get("idempotency_key") or ""
    if not key or len(key) > 255 or not key.isascii() or not key.isprintable():
        raise errors.ValidationFailed("表单已过期，请刷新页面后重试。", field="idempotency_key")
    repay = _repay()
    repay.retry(ws.actor, key, repayment_id, repay.current())
    return pages.redirect(_path(repayment_id, "?done=retried"))


@pages.page(DOOR, titles={**_TITLES, 409: "还没有电子回单"}, back=_BACK)
def receipt_page(request, repayment_id: str) -> Reply:
    """The printable 电子回单 of a settled repayment (the API's receipt.html, through the session)."""
    ws = session.require(request, DOOR)
    repay = _repay()
    return Reply(200, repay.receipt_html(ws.actor, repayment_id, repay.current()))


# ---------------------------------------------------------------- bills
@pages.page(DOOR, titles={**_TITLES, 404: "找不到这个账单"}, back=("/help/bills", "返回账单与提醒"))
def bills_page(request) -> Reply:
    ws = session.require(request, DOOR)
    cursor = _cursor(request)
    bills = _bills()
    from chalicelib.bills import schemas
    ctx = bills.current()
    found = _page_of(lambda: bills.list_bills(ws.actor, schemas.PageQuery(limit=PAGE_SIZE, cursor=cursor), ctx))
    schedules: dict[str, list[dict]] = {}
    for s in bills.list_schedules(ws.actor, schemas.PageQuery(limit=50), ctx)["items"]:
        if s["status"] in ("completed", "cancelled"):
            continue
        schedules.setdefault(s["bill_id"], []).append(
            {**s, "mode_title": SCHEDULE_MODES.get(s["mode"], ""),
             "status_title": SCHEDULE_STATUS.get(s["status"], "")})
    rows = [{**b, "title": b.get("name") or b["label"], "schedules": schedules.get(b["id"], [])}
            for b in found["items"]]
    done = {"reminders_on": "已开启到期提醒。", "reminders_off": "已关闭到期提醒。"}.get(
        (request.query_params or {}).get("done", ""), "")
    return _render("web/my_bills.html", ws, title="账单与提醒", bills=rows, next_cursor=found.get("next_cursor"),
                   first_page=cursor is None, done=done, reminder_days=bills.rules_of(ctx).reminder_days,
                   tabs=_tabs("bills", ws))


@pages.page(DOOR, titles={**_TITLES, 404: "找不到这个账单"}, back=("/help/bills", "返回账单与提醒"))
def bill_reminders(request, bill_id: str) -> Reply:
    """Reminders on or off for one saved bill (the API's PATCH /bills/{id} {"reminders"})."""
    ws, form = _posted(request)
    wanted = form.get("reminders")
    if wanted not in ("on", "off"):
        raise errors.ValidationFailed("请选择开启或关闭提醒。", field="reminders")
    bills = _bills()
    from chalicelib.bills import schemas
    bills.update_bill(ws.actor, bill_id, schemas.BillChange(reminders=wanted == "on"), bills.current())
    return pages.redirect(f"/help/bills?done=reminders_{wanted}#bill-{quote(bill_id, safe='')}")


# ---------------------------------------------------------------- notices
def _notice_link(ref: dict) -> tuple[str, str] | None:
    if ref.get("repayment_id"):
        return _path(ref["repayment_id"]), "查看还款"
    if ref.get("bill_id"):
        return f"/help/bills#bill-{quote(ref['bill_id'], safe='')}", "查看账单"
    return None


def _ask_link(notice: dict) -> str | None:
    """A failed or delayed repayment's notice: 「问智能客服」 opens the assistant about that repayment (#24)."""
    repayment_id = (notice.get("ref") or {}).get("repayment_id")
    if notice.get("kind") not in ("failed", "delayed") or not repayment_id:
        return None
    return "/help/assistant?" + urlencode({"repayment": repayment_id})


@pages.page(DOOR, titles={**_TITLES, 404: "找不到这条消息"}, back=("/help/notices", "返回消息"))
def notices_page(request) -> Reply:
    ws = session.require(request, DOOR)
    cursor = _cursor(request)
    bills = _bills()
    from chalicelib.bills import schemas
    found = _page_of(lambda: bills.list_notices(ws.actor, schemas.PageQuery(limit=PAGE_SIZE, cursor=cursor),
                                                bills.current()))
    rows = [{**n, "kind_title": NOTICE_KINDS.get(n["kind"], "消息"), "link": _notice_link(n.get("ref") or {}),
             "ask": _ask_link(n)} for n in found["items"]]
    unread = "99+" if found["unread_more"] else str(found["unread"])
    return _render("web/my_notices.html", ws, title="消息", notices=rows, unread=unread,
                   next_cursor=found.get("next_cursor"), first_page=cursor is None,
                   tabs={"current": "notices", "unread": unread if found["unread"] else ""})


@pages.page(DOOR, titles={**_TITLES, 404: "找不到这条消息"}, back=("/help/notices", "返回消息"))
def read_notice(request, notice_id: str) -> Reply:
    """Mark one notice read (repeating it is harmless), then back to the inbox."""
    ws, _ = _posted(request)
    bills = _bills()
    bills.read_notice(ws.actor, notice_id, bills.current())
    return pages.redirect(f"/help/notices#notice-{quote(notice_id, safe='')}")


# ---------------------------------------------------------------- the public receipt check
def receipt_check_page(query, client: str, viewer: session.WebSession | None = None) -> Reply:
    """Was this receipt issued by us? The form (prefilled from the printed address) and, once either is given,
    the answer — the JSON check's answer in words. Rate-limited per ``client`` as the JSON route is."""
    serial, code = (query.serial or "").strip()[:64], (query.code or "").strip()[:64]
    result, problem, status, headers = None, "", 200, {}
    if query.serial is not None or query.code is not None:
        from chalicelib.repay import schemas
        try:
            checked = schemas.ReceiptQuery.model_validate({"serial": query.serial or "", "code": query.code or ""})
        except pydantic.ValidationError:
            problem, status = "请填写回单上的流水号和校验码（各不超过 64 个字符）。", 400
        else:
            try:
                ratelimit.hit("receipt_verify", client)
                repay = _repay()
                result = repay.verify_receipt(checked.serial, checked.code, repay.current())
            except errors.ApiError as exc:          # too many checks from here (429)
                if exc.status != 429:
                    raise
                problem, status, headers = exc.message, 429, dict(exc.headers or {})
            except refusals.Busy as exc:                # receipts not configured: 503, the form stays
                problem, status = errors.from_domain(exc).message, 503
    from chalicelib.edge.render import render
    from chalicelib.web import helpdoor
    here = "/help/receipts/verify" + (("?" + urlencode({"serial": serial, "code": code})) if serial or code else "")
    html = render("help/receipt_check.html", serial=serial, code=code, result=result, problem=problem, query="",
                  ws=viewer, here=here)
    return Reply(status, html, {**helpdoor.cache_headers(viewer), **headers})
