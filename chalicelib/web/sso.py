"""Single sign-on for agents: the OAuth 2.0 authorization-code flow with PKCE against the user pool's
managed login (``SSO_DOMAIN``), which may in turn federate to the company's SAML/OIDC identity provider
(``SSO_IDENTITY_PROVIDER`` sends the browser straight there).

``begin``: a random ``state`` and PKCE ``code_verifier``; the state's hash keys a server-side item (the
verifier, where to go next, 10 minutes to live) and the state itself goes into a ``rd_sso`` cookie
scoped to the callback path, then the browser is sent to ``<SSO_DOMAIN>/oauth2/authorize``.

``finish`` (``/agent/callback``): the ``state`` in the query must equal the cookie's (this browser began
this login) and its item is deleted conditionally — a replayed or unknown state finds nothing — then the
code is exchanged at ``<SSO_DOMAIN>/oauth2/token`` with the verifier, and the ID token it returns goes
through ``session.start`` (``auth.verify``: signature, issuer, client, expiry) like any other.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from chalicelib.config import settings
from chalicelib.edge import auth
from chalicelib.kernel import clock
from chalicelib.kernel.logs import logger
from chalicelib.web import cognito, session, session_store

STATE_COOKIE = "rd_sso"
CALLBACK_PATH = "/agent/callback"
STATE_SECONDS = 600


class SsoFailed(Exception):
    """The callback cannot complete the sign-in (no/foreign/replayed state, or the code was refused)."""


def redirect_uri() -> str:
    return settings().public_base_url + CALLBACK_PATH


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def _state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def enabled() -> bool:
    cfg = settings()
    return cfg.agent_sign_in == "sso" and bool(cfg.sso_domain)


def begin(next_path: str | None) -> tuple[str, str]:
    """Where to send the browser (the pool's authorize endpoint) and the state cookie to set."""
    cfg = settings()
    if not cfg.sso_domain:
        raise SsoFailed("SSO_DOMAIN is not set")
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)   # 86 characters: within PKCE's 43–128
    now = clock.epoch()
    session_store.create_state(_state_hash(state), {
        "verifier": verifier, "next": session.safe_next(next_path, "agent"), "created_at": now,
        "expires_at": now + STATE_SECONDS})
    query = {"response_type": "code", "client_id": cfg.user_pool_client_id, "redirect_uri": redirect_uri(),
             "scope": "openid email profile", "state": state, "code_challenge": _challenge(verifier),
             "code_challenge_method": "S256"}
    if cfg.sso_identity_provider:
        query["identity_provider"] = cfg.sso_identity_provider
    cookie = session._cookie(STATE_COOKIE, state, max_age=STATE_SECONDS, path=CALLBACK_PATH, same_site="Lax")
    return f"{cfg.sso_domain}/oauth2/authorize?{urlencode(query)}", cookie


@dataclass(frozen=True)
class Finished:
    web_session: session.WebSession
    set_cookie: str
    next_path: str


def finish(request) -> Finished:
    """The callback: check the state, exchange the code, start the session (``SsoFailed`` otherwise)."""
    query = request.query_params or {}
    state, code = query.get("state") or "", query.get("code") or ""
    if query.get("error"):
        raise SsoFailed(f"identity provider answered {query.get('error')}")
    remembered = session.cookies(request).get(STATE_COOKIE, "")
    if not state or not code or not remembered or not hmac.compare_digest(state, remembered):
        raise SsoFailed("state does not match this browser's sign-in")
    item = session_store.take_state(_state_hash(state))   # consumed once: a replayed state finds no item
    if item is None:
        raise SsoFailed("unknown or already used state")
    if int(item["expires_at"]) < clock.epoch():
        raise SsoFailed("sign-in took too long")
    tokens = exchange_code(code, str(item["verifier"]))
    try:
        web_session, cookie = session.start(tokens, "agent", mfa="sso")   # the identity provider's second factor
    except session.WrongDoor:   # the identity provider vouched for a non-staff account: say so, no session
        raise session.Forbidden("客服工作台仅限客服人员登录。钱包用户请到帮助中心登录。", code="staff_only") from None
    except auth.InvalidToken as exc:  # the token endpoint's answer does not verify
        logger.info("sso token rejected", extra={"reason": str(exc)})
        raise SsoFailed("token does not verify") from None
    return Finished(web_session, cookie, str(item["next"]))


def exchange_code(code: str, verifier: str) -> cognito.Tokens:
    import requests

    cfg = settings()
    try:
        response = requests.post(f"{cfg.sso_domain}/oauth2/token", timeout=3, data={
            "grant_type": "authorization_code", "client_id": cfg.user_pool_client_id, "code": code,
            "redirect_uri": redirect_uri(), "code_verifier": verifier})
    except requests.RequestException as exc:
        raise SsoFailed(f"token endpoint unreachable: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise SsoFailed(f"token endpoint answered {response.status_code}")
    try:
        body = response.json()
        return cognito.Tokens(id_token=str(body["id_token"]), refresh_token=body.get("refresh_token"))
    except (ValueError, KeyError, TypeError):
        raise SsoFailed("token endpoint answer without id_token") from None
