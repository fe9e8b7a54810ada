"""Verifying Cognito-issued bearer JWTs (signature, issuer, audience/client, expiry).

Used by the Chalice authorizer (``chalicelib/routes/auth.py``), so the same check runs under
``chalice local``, in ``chalice.test.Client`` and on AWS. The pool's signing
keys are fetched once per container and cached; an unknown ``kid`` (key
rotation) triggers at most one refetch per minute.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.config import settings

# jwt (with cryptography) and requests cost ~200 ms to import; they are imported
# inside the functions below, so a cold start that serves only public routes never pays.
if TYPE_CHECKING:  # for the annotations only
    import jwt

_ALLOWED_ALGORITHMS = ["RS256"]
_REFETCH_MIN_SECONDS = 60
_LEEWAY_SECONDS = 30


class InvalidToken(Exception):
    """The token is missing, malformed, forged, expired or for another pool/client."""


class TokenExpired(InvalidToken):
    """A genuine token whose time is up (a browser session may refresh it; a bearer caller signs in again)."""


@dataclass(frozen=True)
class Claims:
    sub: str
    username: str
    groups: tuple[str, ...]
    token_use: str


class _KeyCache:
    def __init__(self) -> None:
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0
        self._url = ""
        self._lock = threading.Lock()

    def key(self, kid: str) -> jwt.PyJWK:
        cfg = settings()
        with self._lock:
            stale = time.monotonic() - self._fetched_at > cfg.jwks_cache_seconds
            unknown = kid not in self._keys
            may_refetch = time.monotonic() - self._fetched_at > _REFETCH_MIN_SECONDS
            if self._url != cfg.jwks_url or stale or (unknown and may_refetch):
                self._fetch(cfg.jwks_url)
            if kid not in self._keys:
                raise InvalidToken("unknown signing key")
            return self._keys[kid]

    def _fetch(self, url: str) -> None:
        import jwt
        import requests

        try:
            response = requests.get(url, timeout=3)
            response.raise_for_status()
            key_set = jwt.PyJWKSet.from_dict(response.json())
        except (requests.RequestException, ValueError, jwt.PyJWKSetError) as exc:
            # Keep serving with the keys we have; without any we cannot verify.
            if not self._keys:
                raise InvalidToken("signing keys unavailable") from exc
            return
        self._keys = {k.key_id: k for k in key_set.keys if k.key_id}
        self._fetched_at = time.monotonic()
        self._url = url

    def clear(self) -> None:
        with self._lock:
            self._keys, self._fetched_at, self._url = {}, 0.0, ""


keys = _KeyCache()


def bearer_token(header_value: str | None) -> str:
    if not header_value:
        raise InvalidToken("no Authorization header")
    scheme, _, token = header_value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("not a bearer token")
    return token.strip()


def verify(token: str) -> Claims:
    import jwt

    cfg = settings()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidToken("malformed token") from exc
    if header.get("alg") not in _ALLOWED_ALGORITHMS:
        raise InvalidToken("unexpected algorithm")
    signing_key = keys.key(str(header.get("kid", "")))
    try:
        claims = jwt.decode(
            token,
            key=signing_key.key,
            algorithms=_ALLOWED_ALGORITHMS,
            issuer=cfg.issuer,
            leeway=_LEEWAY_SECONDS,
            options={"require": ["exp", "iss", "sub", "token_use"], "verify_aud": False},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenExpired(str(exc)) from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    token_use = claims.get("token_use")
    # ID tokens name the app client in "aud", access tokens in "client_id".
    if token_use == "id":
        audience = claims.get("aud")
    elif token_use == "access":
        audience = claims.get("client_id")
    else:
        raise InvalidToken("unexpected token_use")
    if audience != cfg.user_pool_client_id:
        raise InvalidToken("token issued for another client")
    username = claims.get("cognito:username") or claims.get("username") or claims["sub"]
    groups = claims.get("cognito:groups", [])
    # Cognito sends a list of group names; anything else (a string would become one role per letter) is refused.
    if not isinstance(groups, list) or not all(isinstance(g, str) and g for g in groups):
        raise InvalidToken("cognito:groups is not a list of group names")
    return Claims(sub=str(claims["sub"]), username=str(username), groups=tuple(groups), token_use=token_use)


def unauthorized_error(message: str = "请先登录（登录已失效或凭证无效）。") -> Exception:
    """What an authorizer raises to deny with a 401.

    On AWS, API Gateway turns an authorizer's ``Exception("Unauthorized")`` into
    a 401 (the template's gateway response gives it our JSON error shape).
    ``chalice local`` and the test client only know their own exception type,
    which is not shipped to Lambda, hence the import guard.
    """
    try:
        from chalice.local import NotAuthorizedError
    except ImportError:
        return Exception("Unauthorized")
    import json
    body = json.dumps({"error": {"code": "unauthorized", "message": message}}, ensure_ascii=False)
    return NotAuthorizedError({"Content-Type": "application/json; charset=utf-8"}, body.encode())
