"""Two-factor sign-in (TOTP, the pool's software-token MFA) between the password and the session, at either door
(docs/front-doors.md "Two-factor sign-in for staff"). ``signin.py`` calls ``begin`` when the password was right
but the sign-in is not finished, and ``step`` for each code the browser sends; a ``Done`` goes on to the session.

Three ways in, one page (``web/mfa.html``):

- ``code``: the account has an authenticator; the pool asked ``SOFTWARE_TOKEN_MFA``; the code answers it.
- ``enrol``: a staff account without one (the pool's MFA is OPTIONAL, so Cognito signed it in with the password
  alone): ``AssociateSoftwareToken`` with its access token, the secret shown (grouped, and as an ``otpauth://``
  URI), the first code ``VerifySoftwareToken``, then ``SetUserMFAPreference`` — every later sign-in asks a code.
- ``setup``: the pool itself asked ``MFA_SETUP`` (MfaConfiguration ON, or after a new password): the same, with
  the challenge session, and ``MFA_SETUP`` answered at the end.

What the browser holds is a random id in the ``rd_mfa`` cookie (``Path=/<door>/login``, HttpOnly, SameSite=Strict,
5 minutes); the Cognito challenge session, the tokens of an account still enrolling and the secret stay in the
sessions table under the id's SHA-256 (``MFA#``, expiring by TTL) and are taken (deleted) when the sign-in
completes, so a replayed form finds nothing. The forms carry the sign-in forms' CSRF token. Wrong codes are
counted per account (``mfa_code`` in RATE_LIMITS, ``chalicelib/adapters/ratelimit.py``); no code or secret is
logged.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

from chalicelib.adapters import ratelimit
from chalicelib.edge import pages
from chalicelib.edge.pages import Reply
from chalicelib.kernel import clock
from chalicelib.kernel.logs import logger, metric, user_hash
from chalicelib.web import cognito, session, session_store

PENDING_COOKIE = "rd_mfa"
PENDING_SECONDS = 300        # Cognito's challenge session lasts 3 minutes; an enrolment gets 5
ISSUER = "RepayDesk"
_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")
_CODE = re.compile(r"^[0-9]{6}$")

TITLES = {"code": "两步验证", "enrol": "绑定身份验证器", "setup": "绑定身份验证器"}
WRONG_CODE = "验证码不正确。请输入身份验证器 App 上当前显示的 6 位数字（每 30 秒更新一次）后重试。"
NOT_A_CODE = "请输入身份验证器 App 上显示的 6 位数字。"
TOO_MANY = "验证码错误次数过多，为保护账户安全，请约 {minutes} 分钟后再试。"
START_AGAIN = "两步验证未在时限内完成（或已在别处完成），请重新输入用户名和密码登录。"


class StartAgain(Exception):
    """No sign-in in progress for this browser (none, expired, used, or Cognito's session ran out)."""


@dataclass(frozen=True)
class Done:
    tokens: cognito.Tokens
    username: str
    next_path: str


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def secret_groups(secret: str) -> str:
    """The base32 secret as typed into an app by hand: groups of four."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def otpauth_uri(username: str, secret: str) -> str:
    """The key URI authenticator apps read (the de-facto Key Uri Format: SHA1, 6 digits, 30 s, Cognito's)."""
    label = quote(f"{ISSUER}:{username}", safe="")
    return f"otpauth://totp/{label}?secret={secret}&issuer={ISSUER}&algorithm=SHA1&digits=6&period=30"


def _page(request, door: str, item: dict, *, status: int = 200, error: str = "", cookie: str | None = None) -> Reply:
    token, login_cookie = session.login_form_token(request)
    stage, secret = str(item["stage"]), str(item.get("secret") or "")
    return pages.html("web/mfa.html", status=status, door=door, title=TITLES[stage], stage=stage, csrf_token=token,
                      username=item["username"], error=error, secret=secret_groups(secret),
                      uri=otpauth_uri(str(item["username"]), secret) if secret else "",
                      ws=None).with_cookies(login_cookie, cookie)


def begin(request, door: str, *, username: str, account: str, next_path: str,
          outcome: cognito.Outcome) -> Reply:
    """Password right, second factor to come: remember the sign-in server-side and show the code page."""
    item: dict = {"door": door, "username": username, "account": account, "next": next_path}
    try:
        _enrol(item, outcome)
    except (cognito.WrongCode, cognito.ChallengeExpired) as exc:   # Cognito's session ran out meanwhile
        raise StartAgain(f"cannot enrol: {type(exc).__name__}") from None
    return _store(request, door, item)


def _enrol(item: dict, outcome: cognito.Outcome) -> None:
    """What the sign-in in progress holds: the challenge to answer, or the new authenticator's secret."""
    if isinstance(outcome, cognito.CodeRequired):
        item.update(stage="code", challenge=outcome.challenge_session)
    elif isinstance(outcome, cognito.SetupRequired):
        secret, challenge = cognito.associate(challenge_session=outcome.challenge_session)
        item.update(stage="setup", secret=secret, challenge=challenge or outcome.challenge_session)
    elif isinstance(outcome, cognito.Tokens) and outcome.access_token:
        secret, _ = cognito.associate(access_token=outcome.access_token)
        item.update(stage="enrol", secret=secret, id_token=outcome.id_token, access_token=outcome.access_token,
                    refresh_token=outcome.refresh_token or "")
    else:
        raise StartAgain("nothing to enrol with")


def _store(request, door: str, item: dict) -> Reply:
    pending_id, now = secrets.token_urlsafe(32), clock.epoch()
    session_store.create_pending(_hash(pending_id), {**item, "created_at": now, "expires_at": now + PENDING_SECONDS})
    logger.info("two-factor sign-in started", extra={"door": door, "stage": item["stage"],
                                                     "account": str(item["account"])[:12]})
    cookie = session.set_cookie(PENDING_COOKIE, pending_id, max_age=PENDING_SECONDS, path=f"/{door}/login")
    return _page(request, door, item, cookie=cookie)


def _pending(request, door: str) -> tuple[str, dict]:
    pending_id = session.cookies(request).get(PENDING_COOKIE, "")
    if not _ID.match(pending_id):
        raise StartAgain("no sign-in in progress")
    hashed = _hash(pending_id)
    item = session_store.get_pending(hashed)
    if item is None or item.get("door") != door or int(item["expires_at"]) < clock.epoch():
        raise StartAgain("unknown, other door's or expired sign-in")
    return hashed, item


def _typed(code: str) -> str:
    """Full-width digits and spaces (``１２３ ４５６``) are what a phone keyboard may give: read as ASCII."""
    return "".join(unicodedata.normalize("NFKC", code).split())


def clear(door: str) -> str:
    return session.clear_cookie(PENDING_COOKIE, f"/{door}/login")


def step(request, door: str) -> Reply | Done:
    """One code from the browser: ``Done`` (go on to the session), or the page again with what went wrong."""
    form = pages.form(request)
    session.check_login_form(request, form)
    hashed, item = _pending(request, door)
    code = _typed(form.get("code", ""))
    if not _CODE.match(code):
        return _page(request, door, item, status=400, error=NOT_A_CODE)
    account, username, stage = str(item["account"]), str(item["username"]), str(item["stage"])
    ratelimit.check("mfa_code", account, message=TOO_MANY)
    try:
        tokens = _answer(hashed, item, code)
    except cognito.WrongCode:
        ratelimit.count("mfa_code", account)
        metric("MfaWrongCode", stage=stage)
        logger.info("two-factor code refused", extra={"door": door, "stage": stage, "account": account[:12]})
        return _page(request, door, item, status=401, error=WRONG_CODE)
    except cognito.ChallengeExpired:
        session_store.take_pending(hashed)
        raise StartAgain("cognito session expired") from None
    if session_store.take_pending(hashed) is None:   # completed in another tab meanwhile
        raise StartAgain("already completed")
    metric("MfaPassed", stage=stage)
    logger.info("two-factor sign-in passed", extra={"door": door, "stage": stage, "user": user_hash(username)})
    return Done(tokens=tokens, username=username, next_path=str(item.get("next") or ""))


def _answer(hashed: str, item: dict, code: str) -> cognito.Tokens:
    stage, username = item["stage"], str(item["username"])
    if stage == "code":
        outcome = cognito.answer_code(username, str(item["challenge"]), code)
    elif stage == "enrol":
        access = str(item["access_token"])
        cognito.verify(code, access_token=access)
        cognito.prefer_totp(access)
        return cognito.Tokens(id_token=str(item["id_token"]), refresh_token=str(item.get("refresh_token") or "")
                              or None, access_token=access)
    else:
        challenge = cognito.verify(code, challenge_session=str(item["challenge"])) or str(item["challenge"])
        session_store.set_challenge(hashed, challenge)
        outcome = cognito.finish_setup(username, challenge)
    if not isinstance(outcome, cognito.Tokens):
        raise cognito.ChallengeExpired(type(outcome).__name__)
    return outcome
