"""The help door's visitor: who (if anyone) is reading a help-centre page, and how the header names them.

The help centre's public pages (``/help``, articles, search, contact, the receipt check) never require a
session, but they show a header with 登录 or the signed-in user's name and their links (我的工单, 提交工单,
我的还款). A page that names someone is personal: ``cache_headers`` marks it ``private, no-store`` and every
help page ``Vary: Cookie``, so no cache ever hands one reader's header to another.

The name shown is the Cognito user name, unless that is an opaque id (a UUID-like ``sub``) or a phone
number: then the phone, masked (``138****8001``) — never a UUID, never a full number.
"""
from __future__ import annotations

import re
import threading
import time

from chalicelib.kernel.logs import logger
from chalicelib.web import session

_OPAQUE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$|^[0-9a-f]{24,}$", re.I)
_PHONE = re.compile(r"^\+?\d[\d\s-]{6,}$")
FALLBACK_NAME = "我的账户"
_PHONES_TTL_SECONDS = 600
_phones: dict[str, tuple[float, str | None]] = {}
_phones_lock = threading.Lock()


def viewer(request) -> session.WebSession | None:
    """The signed-in wallet user reading a public help page, or None (no, an ended or a forged cookie: anonymous).

    A staff member's session is for the agent door only (``door`` is checked by ``require``)."""
    if not session.cookies(request).get(session.COOKIE):
        return None
    try:
        return session.require(request, "help")
    except (session.LoginRequired, session.Forbidden):
        return None


def mask_phone(number: str) -> str:
    """``+8613800138001`` → ``138****8001`` (the country code dropped; 3 first and 4 last digits kept)."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) < 8:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def _phone_of(username: str) -> str | None:
    """The user's phone from Cognito (one AdminGetUser), remembered for a few minutes per container."""
    now = time.monotonic()
    with _phones_lock:
        cached = _phones.get(username)
    if cached and now - cached[0] < _PHONES_TTL_SECONDS:
        return cached[1]
    from chalicelib.adapters import sms
    try:
        phone = sms.user_phone(username)
    except Exception:   # the header is not worth a failed page: the neutral name instead
        logger.warning("display name: phone lookup failed")
        return None
    with _phones_lock:
        if len(_phones) > 1000:
            _phones.clear()
        _phones[username] = (now, phone)
    return phone


def display_name(actor) -> str:
    """What the header calls the signed-in user: user name, else masked phone, else 我的账户."""
    name = (actor.username or "").strip()
    if name and _PHONE.match(name):
        return mask_phone(name)
    if name and not _OPAQUE.match(name) and name != actor.user_id:
        return name
    phone = _phone_of(name) if name else None
    return mask_phone(phone) if phone else FALLBACK_NAME


def cache_headers(ws: session.WebSession | None) -> dict[str, str]:
    """A public help page's caching: personal (a signed-in header) is never stored; anonymous may be stored
    but is revalidated each time (views are counted); both vary on the cookie."""
    if ws is not None:
        return {"Cache-Control": "private, no-store", "Vary": "Cookie"}
    return {"Cache-Control": "no-cache", "Vary": "Cookie"}
