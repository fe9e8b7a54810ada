"""Errors as a browser should see them: an HTML page (status kept, the request id, a way back), never raw JSON.

``app.py``'s middleware shapes every failure once (every blueprint's routes too); this module decides *which*
shape and draws the page:

- **API callers keep JSON.** A request whose ``Accept`` prefers ``application/json`` always gets the common
  JSON error shape, and so does any route with the bearer authorizer or outside the browser doors unless the
  caller asks for HTML.
- **Browsers get a page.** A request whose ``Accept`` prefers ``text/html`` (every browser navigation and form
  submission does) gets the page, whatever the route; so does any request to a page of the browser doors
  (``/help…``, ``/agent…``, ``/docs``: routes without the bearer authorizer) that does not say what it accepts,
  except the few routes that answer a page's script in JSON (``replies.answers_json``).

The page says what went wrong in the user's words (the JSON error's ``message``), shows the request id (what
support searches the logs for) and links back: to the page the browser came from on this site, and to the
door's home. Rendering it can never fail the response: if the template cannot be rendered, a plain page is sent.
"""
from __future__ import annotations

import json
from html import escape
from urllib.parse import urlsplit

from chalice import Response

PAGE_PREFIXES = ("/help", "/agent")
PAGE_PATHS = ("/docs",)

TITLES = {400: "内容有误", 401: "请先登录", 403: "无权访问", 404: "找不到这个页面", 405: "不支持这个操作",
          409: "状态已变化", 413: "内容太大", 415: "提交方式不正确", 422: "内容有误", 423: "账户已冻结",
          429: "操作过于频繁", 500: "出错了", 502: "服务暂时不可用", 503: "服务繁忙", 504: "服务响应超时"}
INTERNAL = "服务内部错误，我们已经记录。请稍后重试；如果一直出现，请把下面的请求编号告诉客服。"


def _quality(accept: str, *types: str) -> float | None:
    """The highest ``q`` the ``Accept`` header gives any of ``types`` explicitly (None: not listed)."""
    best = None
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        if fields[0].lower() not in types:
            continue
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        best = q if best is None else max(best, q)
    return best


_HTML = ("text/html", "application/xhtml+xml")
_JSON = ("application/json", "application/problem+json")


def _prefers(accept: str | None, wanted: tuple[str, ...], other: tuple[str, ...], *, on_a_tie: bool) -> bool:
    """``wanted`` listed (quality above 0) and above ``other`` if that is listed too (equal: ``on_a_tie``)."""
    mine = _quality(accept or "", *wanted)
    if not mine:
        return False
    theirs = _quality(accept or "", *other)
    return theirs is None or mine > theirs or (on_a_tie and mine == theirs)


def prefers_html(accept: str | None) -> bool:
    """The caller asks for a page: ``text/html`` listed, and above ``application/json`` if that is listed too."""
    return _prefers(accept, _HTML, _JSON, on_a_tie=False)


def prefers_json(accept: str | None) -> bool:
    """The caller asks for JSON: listed, and at least as high as ``text/html`` if that is listed too."""
    return _prefers(accept, _JSON, _HTML, on_a_tie=True)


def is_page_route(path: str, entry) -> bool:
    """A route of the browser doors (no bearer authorizer) that answers pages, not a script's JSON."""
    if entry is None or entry.authorizer is not None:
        return False
    if getattr(entry.view_function, "answers_json", False):
        return False
    return path in PAGE_PATHS or any(path == p or path.startswith(p + "/") for p in PAGE_PREFIXES)


def wants_page(accept: str | None, path: str, entry) -> bool:
    if prefers_json(accept):
        return False
    return prefers_html(accept) or is_page_route(path, entry)


def json_error(response: Response) -> dict | None:
    """The ``{"code", "message"}`` of a JSON error response (ours), else None."""
    if response.status_code < 400:
        return None
    content_type = next((v for k, v in (response.headers or {}).items() if k.lower() == "content-type"), "")
    if "json" not in str(content_type):
        return None
    body = response.body
    try:
        data = json.loads(body) if isinstance(body, (str, bytes)) else body
    except ValueError:
        return None
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, dict) else None


def _door(path: str) -> str:
    return "agent" if path == "/agent" or path.startswith("/agent/") else "help"


def _came_from(referer: str | None, host: str | None) -> str | None:
    """The page the browser came from, if it is one of this site's (a link, never a redirect)."""
    if not referer or not host:
        return None
    parts = urlsplit(referer)
    if parts.netloc != host or parts.scheme not in ("http", "https") or not parts.path.startswith("/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def page(status: int, message: str | None, request_id: str, *, path: str, referer: str | None = None,
         host: str | None = None, headers: dict | None = None) -> Response:
    """The HTML error page for a failure with ``status`` (kept), its user-facing ``message`` and request id."""
    door = _door(path)
    title = TITLES.get(status, "无法完成" if status < 500 else "出错了")
    text = INTERNAL if status == 500 or not message else message
    home = ("/agent", "返回工作台") if door == "agent" else ("/help", "返回帮助中心")
    back = _came_from(referer, host)
    if back == path:
        back = None
    try:
        from chalicelib.edge.render import render
        html = render("web/error.html", door=door, ws=None, who_unknown=True, title=title, text=text, status=status,
                      request_id=request_id, home=home, back=back)
    except Exception:  # the page must go out even if what failed was rendering itself
        from chalicelib.kernel.logs import logger
        logger.exception("error page could not be rendered")
        html = (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" '
                f'content="width=device-width, initial-scale=1"><title>{escape(title)}</title></head><body>'
                f'<h1>{escape(title)}</h1><p>{escape(text)}</p><p>请求编号：<code>{escape(request_id)}</code></p>'
                f'<p><a href="{home[0]}">{home[1]}</a></p></body></html>')
    kept = {k: v for k, v in (headers or {}).items() if k.lower() in ("retry-after",)}
    return Response(body=html, status_code=status, headers={
        "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin", "X-Request-Id": request_id,
        "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                                   "script-src 'none'", **kept})
