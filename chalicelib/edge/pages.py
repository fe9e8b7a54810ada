"""What the browser pages share: form parsing, rendering, and the page-level answers to refusals.

A page function returns a ``Reply`` (status, HTML or nothing, headers); ``replies.page``
(``chalicelib/edge/replies.py``) turns it into a response. ``@page(door)`` turns the session's refusals and the
services' ``chalicelib.kernel.refusals`` refusals into pages: no session → 303 to the door's sign-in page
(``?next=`` the page asked for); not allowed →
403 page; a domain refusal → a page with the status ``errors.from_domain`` gives it (404 for someone
else's 工单, 409 for a lost race …) — never a JSON error or a 500 in a browser.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from chalicelib.edge import errors, httpio
from chalicelib.kernel import refusals
from chalicelib.kernel.logs import logger
from chalicelib.web import session

FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Reply:
    status: int = 200
    html: str = ""
    headers: dict = field(default_factory=dict)
    cookies: tuple[str, ...] = ()

    def with_cookies(self, *values: str | None) -> Reply:
        return Reply(self.status, self.html, self.headers, self.cookies + tuple(v for v in values if v))


def redirect(location: str, *cookies: str | None) -> Reply:
    """Post/redirect/get: every successful form POST answers 303 (``Location`` always ASCII: ``httpio.location``)."""
    return Reply(303, "", {"Location": httpio.location(location)}, tuple(c for c in cookies if c))


def render(template: str, **context) -> str:
    from chalicelib.edge.render import render as render_template
    return render_template(template, **context)


def html(template: str, status: int = 200, **context) -> Reply:
    return Reply(status, render(template, **context))


def message(title: str, text: str, status: int, *, door: str = "help", link: tuple[str, str] | None = None,
            ws: session.WebSession | None = None, who_unknown: bool = False) -> Reply:
    """A page with one message. ``who_unknown``: the header shows neither 登录 nor a name (a refusal page,
    rendered without the session at hand)."""
    return html("web/message.html", status=status, title=title, text=text, door=door, link=link, ws=ws,
                who_unknown=who_unknown)


def form(request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (≤ 64 KiB) as field → first value."""
    body = httpio.raw_body(request)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.BadRequest("表单内容编码有误。", code="invalid_form") from None
    return {name: values[0] for name, values in parse_qs(text, keep_blank_values=True).items()}


def posted(request, door: str) -> tuple[session.WebSession, dict[str, str]]:
    """A form POST on ``door``'s pages: the session (else the sign-in page) and the form, its CSRF token checked
    before anything is read or changed."""
    ws = session.require(request, door)
    sent = form(request)
    session.check_csrf(ws, sent)
    return ws, sent


def page(fixed_door: str | None = None, *, titles: dict[int, str] | None = None,
         back: tuple[str, str] | None = None):
    """A page of a door (``fixed_door``, else the ``door`` keyword argument): refusals become pages
    (see the module docstring). ``titles`` (status → heading) and ``back`` (the way back) suit pages that are
    not about a 工单 (the defaults are 「我的工单」's)."""
    headings = {**_TITLES, **(titles or {})}

    def wrap(function):
        @functools.wraps(function)
        def guarded(*args, **kwargs) -> Reply:
            door = fixed_door or kwargs.get("door", "help")
            try:
                if args:   # the request: its path ids are checked before any AWS call (httpio.check_path_ids)
                    httpio.check_path_ids(getattr(args[0], "uri_params", None))
                return function(*args, **kwargs)
            except session.LoginRequired as exc:
                return redirect(exc.location)
            except session.Forbidden as exc:
                logger.info("page refused", extra={"code": exc.code, "door": door})
                return message("无权访问", exc.message, 403, door=door,
                               link=("/agent/login", "换个账号登录") if door == "agent" else ("/help", "返回帮助中心"))
            except refusals.DomainError as exc:
                refusal = errors.from_domain(exc)
                if refusal.status >= 500 and not isinstance(exc, refusals.Busy):
                    raise
                return message(headings.get(refusal.status, "无法完成"), refusal.message, refusal.status, door=door,
                               link=back or _back(door), who_unknown=True)
            except errors.ApiError as exc:
                if exc.status >= 500 and exc.status != 503:
                    raise
                reply = message(headings.get(exc.status, "无法完成"), exc.message, exc.status, door=door,
                                link=back or _back(door), who_unknown=True)
                return Reply(reply.status, reply.html, {**reply.headers, **exc.headers})
        return guarded
    return wrap


_TITLES = {400: "内容有误", 403: "无权操作", 404: "找不到这个工单", 409: "工单状态已变化", 422: "内容有误",
           423: "账户已冻结", 429: "操作过于频繁", 503: "服务繁忙"}


def _back(door: str) -> tuple[str, str]:
    return ("/agent", "返回工作台") if door == "agent" else ("/help/cases", "返回我的工单")
