"""The workspace page for service notices (``/agent/notices``): every staff member sees what users are told; senior
support posts and takes notices down. The forms call the same service as the API (``chalicelib.status.service``:
the same role checks and rules) with the session's ``Actor``; every POST carries the session's CSRF token, checked
before anything is read or written. A refused notice comes back as the page (400) with the message and what was
typed; nothing is stored."""
from __future__ import annotations

import datetime as dt

import pydantic

from chalicelib.edge import httpio, pages
from chalicelib.edge.pages import Reply
from chalicelib.kernel import clock, refusals
from chalicelib.kernel.context import Context
from chalicelib.status import schemas
from chalicelib.status import service as status
from chalicelib.web import session

DONE = {"posted": "公告已发布。", "deleted": "公告已撤下。"}
FIELD_NAMES = (("text", "公告内容"), ("scope", "范围"), ("starts_at", "开始时间"), ("ends_at", "结束时间"))


def _local_input(moment_iso: str, tz: str) -> str:
    """A stored instant as a ``datetime-local`` field's value in the service's time zone."""
    return clock.parse(moment_iso).astimezone(clock.zone(tz)).strftime("%Y-%m-%dT%H:%M")


def _instant(value: str, tz: str) -> str | None:
    """A ``datetime-local`` value (no offset: the service's time zone) as ISO 8601 with its offset."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value            # the service refuses it with its own message
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=clock.zone(tz))
    return moment.isoformat()


def _render(ws: session.WebSession, ctx: Context, *, status_code: int = 200, error: str = "",
            values: dict | None = None, done: str = "") -> Reply:
    listed = status.staff_list(ws.actor, ctx)["items"]    # 403 for anyone not staff (the service's check)
    tz = ctx.settings.time_zone
    local = ctx.now.astimezone(clock.zone(tz))
    defaults = {"text": "", "scope": "all", "starts_at": local.strftime("%Y-%m-%dT%H:%M"),
                "ends_at": (local + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")}
    return pages.html("web/agent_notices.html", status=status_code, title="服务公告", notices=listed,
                      may_post=status.may_post(ws.actor), scopes=status.scope_choices(ctx) if status.may_post(ws.actor)
                      else [], values={**defaults, **(values or {})}, error=error, done=done,
                      local=lambda iso: status.local_text(iso, ctx), door="agent", ws=ws)


@pages.page("agent", back=("/agent/notices", "返回服务公告"))
def page(request) -> Reply:
    ws = session.require(request, "agent")
    return _render(ws, Context.current(), done=DONE.get((request.query_params or {}).get("done", ""), ""))


@pages.page("agent", back=("/agent/notices", "返回服务公告"))
def create(request) -> Reply:
    ws, form = pages.posted(request, "agent")
    ctx = Context.current()
    tz = ctx.settings.time_zone
    values = {name: form.get(name, "")[:400] for name, _ in FIELD_NAMES}
    try:
        body = schemas.NewNotice.model_validate({"text": values["text"], "scope": values["scope"],
                                                 "starts_at": _instant(values["starts_at"], tz),
                                                 "ends_at": _instant(values["ends_at"], tz) or ""})
        status.post(ws.actor, body, ctx)
    except pydantic.ValidationError as exc:
        return _render(ws, ctx, status_code=400, error=_labelled(httpio.validation_error(exc).message), values=values)
    except refusals.Invalid as exc:
        return _render(ws, ctx, status_code=400, error=_labelled(exc.message or ""), values=values)
    return pages.redirect("/agent/notices?done=posted")


@pages.page("agent", back=("/agent/notices", "返回服务公告"))
def delete(request, notice_id: str) -> Reply:
    ws, _ = pages.posted(request, "agent")
    status.remove(ws.actor, notice_id, Context.current())
    return pages.redirect("/agent/notices?done=deleted")


def _labelled(message: str) -> str:
    for field, name in FIELD_NAMES:
        message = message.replace(f"{field}：", f"{name}：")
    return message
