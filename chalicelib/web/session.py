"""Browser sessions for both front doors: ``/help`` (wallet users) and ``/agent`` (staff).

A session is a server-side item in the sessions table; the browser holds only a random 256-bit id in
the ``rd_session`` cookie (``HttpOnly; Secure; SameSite=Strict``; ``Secure`` is dropped only when
``PUBLIC_BASE_URL`` is http://127.0.0.1 or http://localhost — a setting, never the request). The table
key is the SHA-256 of that id, so a copy of the table holds no usable cookie. Why server-side rather than a
signed cookie: Cognito's refresh token (~1.8 kB) and ID token (~1 kB) together do not fit a 4 kB cookie,
logout must end the session everywhere (a copied cookie stops working), and idle expiry is enforced
where the client cannot change it.

Every request re-verifies the stored Cognito ID token with ``chalicelib.edge.auth.verify`` — the code the
API's bearer tokens go through (signature, issuer, app client, expiry) — and builds the same
``Actor`` the authorizer path builds, so every page is held to the services' rules.

A session records the door it was opened at and opens only that door: staff sign in only at ``/agent``
(where SSO, and MFA with it, applies), wallet users only at ``/help`` and the WebView exchange. A staff
account at the wallet door gets the answer a wrong password gets (``WrongDoor``), never a cookie. An expired ID
token is renewed with the session's refresh token (``REFRESH_TOKEN_AUTH``). A session ends after
``SESSION_IDLE_SECONDS`` without a request and after ``SESSION_MAX_SECONDS`` in any case.

Two-factor sign-in (docs/front-doors.md "Two-factor sign-in for staff"): a staff-door session is opened only with
the second factor passed, and records how (``mfa``: ``totp`` — the pool's software-token code —, or ``sso`` — the
identity provider's sign-in); ``require`` refuses a staff-door session without it (an older one) and sends the
member to sign in again, which enrols an authenticator (``mfa.py``). Wallet users' MFA is optional.

Every form POST carries ``csrf_token``, a random value stored with the session (``check_csrf``); the
sign-in forms, which come before any session, use a double-submit cookie (``rd_login``).
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from urllib.parse import quote, unquote

from chalicelib.config import settings
from chalicelib.edge import auth, httpio
from chalicelib.kernel import clock
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.logs import logger, user_hash
from chalicelib.web import cognito, session_store

COOKIE = "rd_session"
LOGIN_COOKIE = "rd_login"        # double-submit token of the sign-in forms (before a session exists)
DEVICE_COOKIE = "rd_device"      # a browser an account signed in from: gets past the account's sign-in cool-down
DEVICE_SECONDS = 90 * 24 * 3600
DOORS = ("help", "agent")
TOUCH_EVERY_SECONDS = 60         # last_seen is written at most once a minute per session
_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")   # secrets.token_urlsafe(32)


class LoginRequired(Exception):
    """No valid session: the page layer answers 303 to the door's sign-in page (``location``)."""

    def __init__(self, door: str, next_path: str = "", reason: str = "no_session"):
        super().__init__(reason)
        self.door, self.next_path, self.reason = door, next_path, reason

    @property
    def location(self) -> str:
        target = f"/{self.door}/login"
        if self.next_path and safe_next(self.next_path, self.door) == self.next_path:
            target += "?next=" + quote(self.next_path, safe="/")
        if self.reason in ("expired", "mfa"):
            target += ("&" if "?" in target else "?") + f"{self.reason}=1"
        return target


class WrongDoor(Exception):
    """Good credentials at the other door: a staff account at the wallet door (``/help/login``, the WebView
    exchange) or a wallet user at the staff door. Sign-in answers it exactly as a wrong password (nothing
    tells a guesser the password was right); nothing is stored."""


class EnrolmentNeeded(Exception):
    """Good credentials of a staff account with no authenticator yet: enrol one before any session (``mfa.py``)."""

    def __init__(self, actor: Actor):
        super().__init__("mfa enrolment needed")
        self.actor = actor


class Forbidden(Exception):
    """Signed in, but not allowed here (a wallet user on /agent, a missing CSRF token): a 403 page."""

    def __init__(self, message: str = "您没有权限访问此页面。", code: str = "forbidden"):
        super().__init__(message)
        self.message, self.code = message, code


@dataclass(frozen=True)
class WebSession:
    actor: Actor
    csrf_token: str
    door: str
    key: str            # the table key's hash part (never the cookie value)


# The pages a sign-in may lead back to, per door (any other ``next`` goes to the door's home): the door's GET
# pages in the app's route table (``httpio.page_paths``), so a page added later is a landing at once. A path
# parameter matches one segment — anything but a slash ("." and ".." excepted) — so a 工单 link with a
# mistyped or non-Latin id still lands on its (404) page rather than on a dropped connection. Not landings:
# sign-in and sign-out themselves, and the routes that answer a page's script in JSON.
_SEGMENT = r"(?!\.\.?(?:/|$))[^/]+"
_NOT_LANDINGS = re.compile(r"/(?:login|logout|callback|session)(?:/|$)")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\\#]")   # control characters (CR, LF …), backslashes, fragments


@functools.lru_cache(maxsize=8)
def _door_pages(door: str, paths: tuple[tuple[str, bool], ...]) -> tuple[re.Pattern, frozenset[str]]:
    """The door's landings as one pattern, and the literal paths that are not landings although a pattern
    would take them (``/help/cases/suggestions`` is JSON, not the 工单 ``suggestions``)."""
    mine = [(path, answers_json) for path, answers_json in paths
            if path == f"/{door}" or path.startswith(f"/{door}/")]
    patterns = [re.sub(r"\\\{[^/]*?\\\}", lambda _: _SEGMENT, re.escape(path))
                for path, answers_json in mine if not answers_json and not _NOT_LANDINGS.search(path)]
    others = frozenset(path for path, answers_json in mine
                       if "{" not in path and (answers_json or _NOT_LANDINGS.search(path)))
    return re.compile("(?:" + "|".join(patterns or [re.escape(f"/{door}")]) + ")/?"), others


def _landing(door: str, path: str) -> bool:
    pattern, others = _door_pages(door, tuple(httpio.page_paths()))
    return bool(pattern.fullmatch(path)) and path.rstrip("/") not in others


def safe_next(path: str | None, door: str) -> str:
    """Where to go after signing in: one of the door's known pages of this site (``_door_pages``; no open
    redirect, never the sign-in or sign-out page), percent-encoded — plain ASCII, fit for a ``Location``
    header whatever was asked (``/help/cases/中文`` → ``/help/cases/%E4%B8%AD%E6%96%87``). Control characters,
    raw or percent-encoded (``%0D``, ``%0A``), backslashes and fragments send it home instead.
    Idempotent: an answer of ``safe_next`` passes through unchanged."""
    home = f"/{door}" if door == "agent" else "/help/cases"
    if not path or len(path) > 2048:
        return home
    where, _, query = path.partition("?")
    if _UNSAFE.search(path) or _UNSAFE.search(unquote(path)) or not _landing(door, unquote(where)):
        return home
    target = quote(where, safe="/%")
    return target + "?" + quote(query, safe="=&%+") if query else target


# ---------------------------------------------------------------- cookies
def cookies(request) -> dict[str, str]:
    raw = (request.headers or {}).get("cookie") or ""
    found: dict[str, str] = {}
    for part in raw.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name and name not in found:
            found[name] = value.strip().strip('"')
    return found


def _cookie(name: str, value: str, *, max_age: int, path: str = "/", same_site: str = "Strict") -> str:
    text = f"{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite={same_site}"
    return text + ("; Secure" if settings().secure_cookies else "")


def set_cookie(name: str, value: str, *, max_age: int, path: str) -> str:
    """A ``Set-Cookie`` value with the session cookies' attributes (HttpOnly, SameSite=Strict, Secure)."""
    return _cookie(name, value, max_age=max_age, path=path)


def clear_cookie(name: str = COOKIE, path: str = "/") -> str:
    return _cookie(name, "", max_age=0, path=path)


def login_form_token(request) -> tuple[str, str | None]:
    """The sign-in form's CSRF token and, if the browser has none yet, the cookie that carries it."""
    current = cookies(request).get(LOGIN_COOKIE, "")
    if _ID.match(current):
        return current, None
    token = secrets.token_urlsafe(32)
    return token, _cookie(LOGIN_COOKIE, token, max_age=3600)


def check_login_form(request, form: dict) -> None:
    current = cookies(request).get(LOGIN_COOKIE, "")
    sent = form.get("csrf_token", "")
    if not (_ID.match(current) and isinstance(sent, str) and hmac.compare_digest(current, sent)):
        raise Forbidden("表单已过期，请刷新页面后重新提交。", code="csrf_failed")


# ---------------------------------------------------------------- known devices (sign-in throttling)
def remember_device(door: str, account: str) -> str:
    """After a successful sign-in: this browser is a known device of ``account`` (an opaque hash of the
    normalised sign-in name) at ``door`` for 90 days. The ``Set-Cookie`` value (``Path=/<door>/login``)."""
    token = secrets.token_urlsafe(32)
    now = clock.epoch()
    session_store.put_device(_hash(token), {"account": account, "door": door, "created_at": now,
                                            "expires_at": now + DEVICE_SECONDS})
    return _cookie(DEVICE_COOKIE, token, max_age=DEVICE_SECONDS, path=f"/{door}/login")


def known_device(request, door: str, account: str) -> bool:
    """Whether this browser signed in to ``account`` at ``door`` before (one GetItem, only when it matters)."""
    token = cookies(request).get(DEVICE_COOKIE, "")
    if not _ID.match(token):
        return False
    item = session_store.get_device(_hash(token))
    if item is None:
        return False
    return item.get("account") == account and item.get("door") == door and int(item["expires_at"]) > clock.epoch()


# ---------------------------------------------------------------- ids
def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _actor(claims: auth.Claims) -> Actor:
    """Exactly what ``httpio.actor`` builds from the authorizer's context for the same token."""
    return Actor(user_id=claims.sub, username=claims.username, roles=frozenset(claims.groups))


def door_of(actor: Actor) -> str:
    """The one door an account may sign in at: staff and content editors (``kb-editor``: the knowledge-base editor
    ``/agent/kb``, no 工单) at ``/agent`` (where SSO applies), everyone else at ``/help``."""
    return "agent" if actor.is_staff or actor.has_role("kb-editor") else "help"


def needs_mfa(actor: Actor) -> bool:
    """Whose sessions require the second factor: every account of the staff door (support, senior-support,
    kb-editor). Wallet users may enrol one (the pool then asks them too) but need not."""
    return door_of(actor) == "agent"


def start(tokens: cognito.Tokens, door: str, *, mfa: str | None = None) -> tuple[WebSession, str]:
    """A new session for verified Cognito tokens, recording the door it is opened at and how the second factor
    was passed (``mfa``: "totp", "sso" or None): the session and its ``Set-Cookie`` value.

    Raises ``auth.InvalidToken`` if the ID token does not verify, ``WrongDoor`` for an account of the
    other door and ``EnrolmentNeeded`` for a staff account without the second factor (nothing is stored).
    """
    if door not in DOORS:
        raise ValueError(door)
    claims = auth.verify(tokens.id_token)
    actor = _actor(claims)
    if door_of(actor) != door:
        raise WrongDoor(door)
    if needs_mfa(actor) and not mfa:
        raise EnrolmentNeeded(actor)
    cfg = settings()
    now = clock.epoch()
    session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    hashed = _hash(session_id)
    item = {"id_token": tokens.id_token, "door": door, "csrf": csrf, "sub": claims.sub,
            "created_at": now, "last_seen": now, "expires_at": now + cfg.session_max_seconds}
    if tokens.refresh_token:
        item["refresh_token"] = tokens.refresh_token
    if mfa:
        item["mfa"] = mfa
    session_store.create_session(hashed, item)
    logger.info("web session started", extra={"door": door, "user": user_hash(claims.sub)})
    return (WebSession(actor=actor, csrf_token=csrf, door=door, key=hashed),
            _cookie(COOKIE, session_id, max_age=cfg.session_max_seconds))


def require(request, door: str) -> WebSession:
    """The signed-in session for a page of ``door`` ("help" or "agent").

    ``LoginRequired``: no cookie, an unknown (forged) or ended session, idle or past its maximum age,
    or a token that no longer verifies and cannot be refreshed. ``Forbidden``: a session opened at the other
    door, or an account whose roles now belong to the other door.
    """
    if door not in DOORS:
        raise ValueError(door)
    next_path = _path_of(request)
    session_id = cookies(request).get(COOKIE, "")
    if not _ID.match(session_id):
        raise LoginRequired(door, next_path)
    hashed = _hash(session_id)
    item = session_store.get_session(hashed)
    if item is None:
        raise LoginRequired(door, next_path)
    cfg = settings()
    now = clock.epoch()
    idle_too_long = now - int(item["last_seen"]) > cfg.session_idle_seconds
    if idle_too_long or now - int(item["created_at"]) > cfg.session_max_seconds:
        _delete(hashed)
        raise LoginRequired(door, next_path, reason="expired")
    if item.get("door") != door:      # a session opens only the door it was opened at
        raise _wrong_door(door)
    if door == "agent" and not item.get("mfa"):   # a staff session opened without the second factor
        _delete(hashed)
        raise LoginRequired(door, next_path, reason="mfa")
    id_token, refreshed = item["id_token"], False
    try:
        claims = auth.verify(id_token)
    except auth.TokenExpired:
        claims, id_token = _refreshed(item, hashed, door, next_path)
        refreshed = True
    except auth.InvalidToken as exc:
        logger.info("web session token rejected", extra={"reason": str(exc)})
        _delete(hashed)
        raise LoginRequired(door, next_path) from None
    if claims.sub != item.get("sub"):
        _delete(hashed)
        raise LoginRequired(door, next_path)
    if refreshed or now - int(item["last_seen"]) >= TOUCH_EVERY_SECONDS:
        _touch(hashed, now, id_token if refreshed else None, door, next_path)
    actor = _actor(claims)
    if door_of(actor) != door:        # roles changed since sign-in: sign in again at the right door
        raise _wrong_door(door)
    return WebSession(actor=actor, csrf_token=str(item["csrf"]), door=door, key=hashed)


def _wrong_door(door: str) -> Forbidden:
    if door == "agent":
        return Forbidden("客服工作台仅限在员工入口登录的客服人员使用。钱包用户请到帮助中心。", code="staff_only")
    return Forbidden("员工账号请使用客服工作台（员工入口）。", code="wallet_only")


def _refreshed(item: dict, hashed: str, door: str, next_path: str) -> tuple[auth.Claims, str]:
    refresh_token = item.get("refresh_token")
    if not refresh_token:  # a WebView session (POST /help/session) lives as long as the app's token
        _delete(hashed)
        raise LoginRequired(door, next_path, reason="expired")
    try:
        tokens = cognito.refresh(refresh_token)
        return auth.verify(tokens.id_token), tokens.id_token
    except (cognito.SignInFailed, auth.InvalidToken):
        _delete(hashed)
        raise LoginRequired(door, next_path, reason="expired") from None


def _touch(hashed: str, now: int, id_token: str | None, door: str, next_path: str) -> None:
    if not session_store.touch_session(hashed, now, id_token):   # signed out in another tab meanwhile
        raise LoginRequired(door, next_path)


def _delete(hashed: str) -> None:
    session_store.delete_session(hashed)


def end(request) -> str:
    """Sign out: the session item is deleted (the cookie stops working everywhere); the clearing cookie."""
    session_id = cookies(request).get(COOKIE, "")
    if _ID.match(session_id):
        _delete(_hash(session_id))
    return clear_cookie()


def reader(request) -> str | None:
    """The signed-in wallet user reading a public help page, as the opaque hash the reports use (a search or
    an article read that ends without a 工单 counts as a deflection, #15); None for anyone anonymous. The
    public pages never require a session: a missing, ended or forged cookie is simply anonymous."""
    if not _ID.match(cookies(request).get(COOKIE, "")):
        return None
    try:
        return user_hash(require(request, "help").actor.user_id)
    except (LoginRequired, Forbidden):
        return None


def check_csrf(ws: WebSession, form: dict) -> None:
    """Every form POST: the form's ``csrf_token`` must be this session's (else ``Forbidden``, nothing done)."""
    sent = form.get("csrf_token", "")
    if not isinstance(sent, str) or not sent or not hmac.compare_digest(sent, ws.csrf_token):
        raise Forbidden("表单已过期或来源不明（缺少有效的 CSRF 令牌），未做任何更改。请刷新页面后重试。",
                        code="csrf_failed")


def exchange(bearer_header: str | None) -> tuple[WebSession, str]:
    """The wallet app's WebView: its own bearer token for a help-centre session (``POST /help/session``)."""
    token = auth.bearer_token(bearer_header)
    return start(cognito.Tokens(id_token=token, refresh_token=None), "help")


def _path_of(request) -> str:
    """The page asked for (the route with its parameters; the API stage prefix is not part of it)."""
    path = request.path or ""
    for name, value in (request.uri_params or {}).items():
        path = path.replace("{" + name + "}", quote(str(value), safe=""))
    query = request.query_params or {}
    if query:
        from urllib.parse import urlencode
        path += "?" + urlencode(query)
    return path
