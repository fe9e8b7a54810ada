"""Request parsing and response shaping shared by every route (``chalicelib/routes/``).

Handlers never touch ``request.json_body`` or index a dict they did not
validate: bodies and query strings go through a pydantic model here, and any
problem becomes a 4xx in the common error shape.
"""
from __future__ import annotations

import contextvars
import functools
import json
import logging
import re
import secrets
import sys
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import quote

import pydantic
from chalice import Chalice, Response
from chalice.app import ChaliceUnhandledError, ChaliceViewError

from chalicelib.edge import errors
from chalicelib.edge.lazy import ModelRef, resolved
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.schema import as_body

MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32  # our bodies nest 3 levels; json.loads recurses once per level (RecursionError near 1,000)
Model = TypeVar("Model", bound=pydantic.BaseModel)

# pydantic error types → what we tell the user, in Chinese.
_MESSAGES = {
    "missing": "缺少必填项",
    "extra_forbidden": "不支持的字段",
    "string_type": "应为文本",
    "bool_type": "应为 true 或 false",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内",
    "string_too_short": "内容太短",
    "string_too_long": "内容太长",
    "string_pattern_mismatch": "格式不正确",
    "greater_than_equal": "数值太小",
    "less_than_equal": "数值太大",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "model_type": "应为 JSON 对象",
    "dict_type": "应为 JSON 对象",
    "union_tag_invalid": "取值不在允许范围内",
    "union_tag_not_found": "缺少必填项",
}


def validation_error(exc: pydantic.ValidationError) -> errors.ValidationFailed:
    first = exc.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first.get("loc", ()) if not isinstance(part, int)) or None
    kind = first.get("type", "")
    if kind == "value_error":  # our own validators raise ValueError with a Chinese message
        text = str(first.get("ctx", {}).get("error", first.get("msg", "")))
    else:
        text = _MESSAGES.get(kind, "格式不正确")
    message = f"{field}：{text}" if field else text
    return errors.ValidationFailed(message, field=field)


def raw_body(request, max_bytes: int = MAX_BODY_BYTES) -> bytes:
    body = request.raw_body or b""
    if len(body) > max_bytes:
        raise errors.PayloadTooLarge(f"请求内容不能超过 {max_bytes // 1024} KB。")
    return body


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_INNERMOST_PAIR = re.compile(rb"\[\]|\{\}")  # one pass: pairs adjacent before it, one level


def _nested_too_deep(body: bytes) -> bool:
    """Whether arrays/objects nest deeper than ``MAX_JSON_DEPTH`` (brackets inside strings do not count).

    Each round deletes the innermost ``[]`` / ``{}`` pairs, one level; whatever is left after
    ``MAX_JSON_DEPTH`` rounds nests deeper (or does not pair up: not JSON either way).
    """
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return False
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    for _ in range(MAX_JSON_DEPTH):
        inner = _INNERMOST_PAIR.sub(b"", brackets)
        if inner == brackets:
            break
        brackets = inner
    return bool(brackets)


def json_object(request, max_bytes: int = MAX_BODY_BYTES) -> dict[str, Any]:
    body = raw_body(request, max_bytes)
    if not body.strip():
        raise errors.BadRequest("请求内容为空，需要一个 JSON 对象。", code="invalid_json")
    too_deep = errors.BadRequest(f"请求内容的 JSON 嵌套过深（最多 {MAX_JSON_DEPTH} 层）。", code="invalid_json")
    if _nested_too_deep(body):
        raise too_deep
    try:
        data = json.loads(body)
    except RecursionError:  # an encoding the bracket count does not see (UTF-16/32 bodies)
        raise too_deep from None
    except (ValueError, UnicodeDecodeError):
        raise errors.BadRequest("请求内容不是合法的 JSON。", code="invalid_json") from None
    if not isinstance(data, dict):
        raise errors.BadRequest("请求内容应为 JSON 对象。", code="invalid_json")
    return data


def parse_body(request, model: type[Model] | ModelRef, *, max_bytes: int = MAX_BODY_BYTES) -> Model:
    """The body as ``model``; ``max_bytes`` for the few routes that take longer texts (an article: 100 kB)."""
    data = json_object(request, max_bytes)
    cls: type[Model] = resolved(model)
    try:
        return cls.model_validate(data)
    except pydantic.ValidationError as exc:
        raise validation_error(exc) from None


def parse_optional_body(request, model: type[Model] | ModelRef) -> Model | None:
    """``parse_body`` when the request has a body at all; ``None`` for an empty one (a body that only adds)."""
    return parse_body(request, model) if (request.raw_body or b"").strip() else None


def parse_query(request, model: type[Model] | ModelRef) -> Model:
    params = dict(request.query_params or {})
    cls: type[Model] = resolved(model)
    try:
        return cls.model_validate(params)
    except pydantic.ValidationError as exc:
        raise validation_error(exc) from None


def header(request, name: str) -> str | None:
    # Chalice's headers are case-insensitive already.
    return (request.headers or {}).get(name)


# A version an ``If-Match`` names: ``3``, ``"3"`` or ``W/"3"`` (the versioned texts: articles, contacts, macros).
_IF_MATCH = re.compile(r'^(?:W/)?"?(\d{1,9})"?$')


def if_match(request, message: str, *, field: str = "If-Match") -> int | None:
    """The version number the request's ``If-Match`` names; None without one, or for ``*`` (any version). Anything
    else is a 400 ``invalid_if_match`` saying ``message`` (``field``: the input it names)."""
    raw = (header(request, "If-Match") or "").strip()
    if not raw or raw == "*":
        return None
    found = _IF_MATCH.match(raw)
    if not found:
        raise errors.ValidationFailed(message, code="invalid_if_match", field=field)
    return int(found.group(1))


def path_number(text: str, message: str, *, code: str) -> int:
    """A version number from the path (``/versions/{number}``): anything but 1–9 digits is a 404 ``code``."""
    if not text.isdigit() or len(text) > 9:
        raise errors.NotFound(message, code=code)
    return int(text)


# A header's value: one string, or a list for a header sent more than once (Chalice's ``Response``).
HeaderValue = str | list[str]


def json_response(body: Any, status: int = 200, headers: Mapping[str, HeaderValue] | None = None) -> Response:
    """``body``: JSON-able data, or a response model (sent as ``models.as_body`` shapes it)."""
    if isinstance(body, pydantic.BaseModel):
        body = as_body(body)
    # Chinese text stays readable in curl output instead of \uXXXX escapes.
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)
    merged: dict[str, HeaderValue] = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"}
    merged.update(headers or {})
    return Response(body=payload, status_code=status, headers=merged)


def error_response(error: errors.ApiError) -> Response:
    return json_response(error.body(), status=error.status, headers=error.headers)


# Chalice's own refusals (raised before our view runs) → our shape, in Chinese.
_CHALICE_ERRORS = {
    "UnsupportedMediaType": ("unsupported_media_type", "请以 JSON 提交（请求头 Content-Type: application/json）。"),
    "MethodNotAllowedError": ("method_not_allowed", "不支持此请求方法。"),
    "BadRequestError": ("bad_request", "请求有误，请检查后重试。"),
    "NotFoundError": ("not_found", "找不到您要的内容。"),
}


def in_error_shape(response: Response) -> Response:
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body and "error" not in body:
        code, message = _CHALICE_ERRORS.get(body["Code"], ("bad_request" if response.status_code < 500
                                                          else "internal_error", "请求无法处理。"))
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-type"}
        return json_response({"error": {"code": code, "message": message}}, status=response.status_code,
                             headers=headers)
    return response


_NOT_IN_A_HEADER = re.compile(r"[^\x21-\x7e]")


def location(target: str) -> str:
    """A ``Location`` value that is plain ASCII whatever ``target`` holds: non-ASCII, spaces and control
    characters percent-encoded, so a redirect can neither split the header (CR/LF) nor fail to encode after
    its work was done (a non-Latin-1 path dropped the connection, #21)."""
    return _NOT_IN_A_HEADER.sub(lambda found: quote(found.group(), safe=""), target)


# ---------------------------------------------------------------- every HTML page's headers
# A strict Content-Security-Policy: a page runs only the scripts that carry this response's nonce
# (``<script nonce="{{ csp_nonce() }}">``; Jinja's global, chalicelib/edge/render.py) — an injected
# script, an inline event handler (onclick=…) or a javascript: URL never runs, even if it got through the
# escaping. Styles stay inline-able (style attributes, no script). No page may be framed (clickjacking),
# and no page is stored by a browser or proxy cache (the pages hold 工单, repayments, a user's name).
_NONCE: contextvars.ContextVar[str | None] = contextvars.ContextVar("csp_nonce", default=None)


def csp_nonce() -> str:
    """This response's script nonce (144 random bits), drawn on first use; ``html_response`` sends it in the
    policy and forgets it, so every page gets its own."""
    nonce = _NONCE.get()
    if nonce is None:
        nonce = secrets.token_urlsafe(18)
        _NONCE.set(nonce)
    return nonce


def new_response() -> None:
    """Forget any nonce drawn before this request (the middleware calls it first)."""
    _NONCE.set(None)


def content_security_policy(*, connect_src: str = "") -> str:
    """The policy of every page; ``connect_src``: one more origin the page's script may send requests to."""
    parts = ["default-src 'self'", "img-src 'self' data:", "style-src 'self' 'unsafe-inline'",
             f"script-src 'nonce-{csp_nonce()}'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"]
    if connect_src:
        parts.append(f"connect-src 'self' {connect_src}")
    return "; ".join(parts)


def html_response(html: str, status: int = 200, headers: Mapping[str, HeaderValue] | None = None) -> Response:
    """An HTML page: strict CSP with this response's nonce, never framed, never cached (``headers`` may
    override, e.g. a page's own ``content_security_policy(connect_src=…)``)."""
    merged: dict[str, HeaderValue] = {
        "Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": content_security_policy(),
        "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Cache-Control": "no-store",
        "Referrer-Policy": "same-origin"}
    merged.update(headers or {})
    new_response()   # the nonce is spent: the next page draws its own
    return Response(body=html, status_code=status, headers=merged)


def roles_context(groups) -> str:
    """The caller's groups as the authorizer passes them on: a JSON list (context values must be strings)."""
    return json.dumps(list(groups), ensure_ascii=False, separators=(",", ":"))


def _roles(context: dict) -> frozenset[str]:
    """Roles from the authorizer context, parsed strictly: a JSON list of names, nothing else."""
    raw = context.get("groups", "[]")
    try:
        roles = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        roles = None
    if not isinstance(roles, list) or not all(isinstance(role, str) and role for role in roles):
        raise errors.Unauthorized()
    return frozenset(roles)


def actor(request) -> Actor:
    """The signed-in caller, as the authorizer established it (the one way routes get it)."""
    context = (request.context or {}).get("authorizer") or {}
    user_id = context.get("principalId") or context.get("sub")
    if not user_id:  # only reachable if a route forgot its authorizer
        raise errors.Unauthorized()
    return Actor(user_id=user_id, username=context.get("username", ""), roles=_roles(context))


def client_key(request) -> str:
    """Who to rate-limit: the signed-in user, else the caller's IP (public routes)."""
    context = request.context or {}
    user = (context.get("authorizer") or {}).get("principalId")
    if user:
        return f"user:{user}"
    return f"ip:{(context.get('identity') or {}).get('sourceIp', 'unknown')}"


def require_role(who: Actor, *roles: str) -> None:
    if not who.has_role(*roles):
        raise errors.Forbidden("此操作仅限客服人员。", code="forbidden_role")


# Every path parameter — an id (rp_…, RD-…, bl_…, sc_…, nt_…, an attachment's), a slug, a step, a report —
# is short ASCII. Anything else is no id of ours: 404 before any AWS call can see it (a 1,100-character id
# made a DynamoDB key over its 1,024 bytes and a 500, #21).
PATH_ID_CHARS, PATH_ID_MAX = "A-Za-z0-9_-", 128
PATH_ID = re.compile(f"[{PATH_ID_CHARS}]{{1,{PATH_ID_MAX}}}")


def check_path_ids(params: dict | None) -> None:
    """404 (``not_found``) unless every path parameter matches ``PATH_ID``. Applied to every JSON route
    (``surface_errors`` through ``openapi.api_contract``) and every page (``chalicelib.edge.pages.page``,
    which answers the page's own 404)."""
    for value in (params or {}).values():
        if not isinstance(value, str) or not PATH_ID.fullmatch(value):
            raise errors.NotFound("找不到您要的内容（编号有误）。", code="not_found")


class UnexpectedError(ChaliceUnhandledError):
    """Carries an exception a view did not expect up to the ``errors_as_json`` middleware."""

    def __init__(self, original: BaseException):
        super().__init__(type(original).__name__)
        self.original = original


def surface_errors(view=None, *, path_ids: bool = False):
    """``view`` with every unexpected exception carried to the ``errors_as_json`` middleware.

    Stock Chalice turns any exception other than ``ChaliceUnhandledError`` into its own bare
    500 *before* middleware runs, so a DynamoDB throttle could not become a 503 with
    ``Retry-After`` in our error shape. ``openapi.api_contract`` applies this to every route
    it documents; a route without a contract takes it as a decorator (a test checks each one).
    ``path_ids``: the path parameters are checked first (``check_path_ids``, a JSON 404); the API's
    JSON routes ask for it, pages check them in ``pages.page`` and answer a page.
    """
    if view is None:
        return functools.partial(surface_errors, path_ids=path_ids)

    @functools.wraps(view)
    def guarded(*args, **kwargs):
        try:
            if path_ids:
                check_path_ids(kwargs)
            return view(*args, **kwargs)
        except (ChaliceUnhandledError, ChaliceViewError):
            raise
        except Exception as exc:
            raise UnexpectedError(exc) from exc
    # a marker on the wrapper function (read by the route-table test); mypy types functools.wraps' result
    # as a _Wrapped without arbitrary attributes, which plain functions have
    guarded.surfaces_errors = True  # type: ignore[attr-defined]
    return guarded


_APPS: list[App] = []   # the App of this process (app.py's, its blueprints registered; tests may make more)


def page_paths() -> list[tuple[str, bool]]:
    """Every GET route of this process's app, from Chalice's route table: ``(path, answers_json)`` — the
    latter for browser-door routes that answer a page's script (``replies.answers_json``), not a person."""
    return [(path, bool(getattr(entries["GET"].view_function, "answers_json", False)))
            for app in _APPS for path, entries in app.routes.items() if "GET" in entries]


class App(Chalice):
    """Chalice with a logger of its own.

    Chalice names its logger after the app and sets it to ERROR; that is the name our
    Powertools logger (service "repaydesk") uses, so Chalice logs as ``chalice.<app name>``,
    to stdout in Chalice's format, at ERROR (DEBUG when ``app.debug``).
    """

    def __init__(self, app_name: str, configure_logs: bool = True, **kwargs):
        super().__init__(app_name, configure_logs=False, **kwargs)
        _APPS.append(self)
        self.log = logging.getLogger(f"chalice.{app_name}")
        self.configure_logs = configure_logs
        if configure_logs and not self.log.handlers:
            handler = logging.StreamHandler(sys.stdout)
            handler.setFormatter(logging.Formatter(self.FORMAT_STRING))
            self.log.addHandler(handler)
            self.log.propagate = False
            self.debug = self.debug  # Chalice's (public) setter puts the logger at the level for it
