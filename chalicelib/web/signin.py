"""The sign-in pages of both doors (``/agent/login``, ``/help/login``), the new-password step, the two-factor
step (``POST /<door>/login/code``: ``mfa.py``), sign-out, the WebView exchange (``POST /help/session``) and the SSO
endpoints. Sessions: ``session.py``."""
from __future__ import annotations

import hashlib
import unicodedata
from urllib.parse import quote

from chalicelib.adapters import ratelimit
from chalicelib.config import settings
from chalicelib.edge import auth, errors, httpio, pages
from chalicelib.edge.pages import Reply
from chalicelib.kernel.logs import logger, user_hash
from chalicelib.web import cognito, mfa, session, sso

TITLES = {"agent": "客服工作台登录", "help": "登录帮助中心"}


def _login_page(request, door: str, *, status: int = 200, error: str = "", username: str = "",
                next_path: str = "", notice: str = "") -> Reply:
    token, cookie = session.login_form_token(request)
    sso_only = door == "agent" and sso.enabled()
    return pages.html("web/login.html", status=status, door=door, title=TITLES[door], csrf_token=token,
                      error=error, username=username, next_path=session.safe_next(next_path, door), notice=notice,
                      sso_only=sso_only, sso_available=door == "agent" and bool(settings().sso_domain),
                      ws=None).with_cookies(cookie)


WRONG_CREDENTIALS = "用户名或密码不正确。"
COOL_DOWN = ("为保护账户安全，此账户近期登录失败较多，请约 {minutes} 分钟后再试。"
             "在曾经登录过的设备（浏览器）上可以直接登录；"
             "钱包用户也可在钱包 App 内打开帮助中心，无需密码。")


# ---------------------------------------------------------------- throttling (#21)
# Failures only are counted (chalicelib/adapters/ratelimit.py, check + count), under three keys:
#   sign_in_client          per client address: password spraying (many names from one client);
#   sign_in_account_client  per account and client: guessing one password from one client;
#   sign_in_account         per account, any client: a guess spread over many addresses. This one is a
#                           cool-down, not a lock: a browser the account signed in from before (the
#                           ``rd_device`` cookie) gets past it, and wallet users have the app's WebView.
# No single client can lock anyone else out: it reaches its own two limits long before the account's.
def login_name(username: str) -> str:
    """The account a sign-in name means, however typed: width (NFKC), case and spaces do not matter."""
    return unicodedata.normalize("NFKC", "".join(username.split())).casefold()


def _throttle_keys(request, username: str) -> tuple[str, str, str]:
    account = hashlib.sha256(login_name(username).encode()).hexdigest()[:32]   # no names in the limits table
    client = httpio.client_key(request)
    return client, f"{account}|{client}", account


def _throttle(request, door: str, username: str) -> None:
    client, pair, account = _throttle_keys(request, username)
    ratelimit.check("sign_in_client", client)
    ratelimit.check("sign_in_account_client", pair)
    try:
        ratelimit.check("sign_in_account", account, message=COOL_DOWN)
    except errors.TooManyRequests:
        if not session.known_device(request, door, account):
            raise


def _count_failure(request, username: str) -> None:
    client, pair, account = _throttle_keys(request, username)
    for action, key in (("sign_in_client", client), ("sign_in_account_client", pair), ("sign_in_account", account)):
        ratelimit.count(action, key)


def _wrong_credentials(request, door: str, username: str, next_path: str) -> Reply:
    """The one answer to every refused credential — unknown user, wrong password, an account of the other
    door — counted as a failure for the throttles."""
    _count_failure(request, username)
    return _login_page(request, door, status=401, error=WRONG_CREDENTIALS, username=username, next_path=next_path)


@pages.page()
def login_page(request, *, door: str) -> Reply:
    query = request.query_params or {}
    notice = "您已长时间未操作或登录已过期，请重新登录。" if query.get("expired") else ""
    if query.get("mfa"):
        notice = "客服工作台须使用两步验证：请重新登录，并按提示绑定身份验证器。"
    if query.get("signed_out"):
        notice = "您已安全退出。"
    return _login_page(request, door, next_path=query.get("next", ""), notice=notice)


def _signed_in(request, tokens: cognito.Tokens, door: str, username: str, next_path: str,
               second_factor: str | None = None) -> Reply:
    target = session.safe_next(next_path, door)   # decided before a session exists: nothing can fail after it
    try:
        ws, cookie = session.start(tokens, door, mfa=second_factor)
    except session.EnrolmentNeeded:   # a staff account without an authenticator: enrol one first (mfa.py)
        return _second_factor(request, tokens, door, username, next_path)
    except auth.InvalidToken:
        logger.warning("sign-in returned a token that does not verify")
        return pages.message("登录失败", "登录凭证校验失败，请重试。", 401, door=door)
    except session.WrongDoor:   # right password, other door: answered as a wrong one (no oracle, no cookie)
        logger.info("sign-in at the wrong door refused", extra={"door": door})
        return _wrong_credentials(request, door, username, next_path)
    logger.info("signed in", extra={"door": door, "user": user_hash(ws.actor.user_id)})
    device = session.remember_device(door, _throttle_keys(request, username)[2])
    return pages.redirect(target, cookie, device, session.clear_cookie(session.LOGIN_COOKIE),
                          mfa.clear(door) if second_factor == "totp" else None)


def _go_on(request, outcome: cognito.Outcome, door: str, username: str, next_path: str) -> Reply:
    """After a password (or a new one): a challenge's page, or the session."""
    if isinstance(outcome, cognito.NewPasswordRequired):
        token, cookie = session.login_form_token(request)
        return pages.html("web/new_password.html", door=door, title="设置新密码", csrf_token=token,
                          username=outcome.username, challenge=outcome.challenge_session,
                          next_path=session.safe_next(next_path, door), error="", ws=None).with_cookies(cookie)
    if isinstance(outcome, (cognito.CodeRequired, cognito.SetupRequired)):
        return _second_factor(request, outcome, door, username, next_path)
    return _signed_in(request, outcome, door, username, next_path)


def _second_factor(request, outcome: cognito.Outcome, door: str, username: str, next_path: str) -> Reply:
    try:
        return mfa.begin(request, door, username=username, account=_throttle_keys(request, username)[2],
                         next_path=next_path, outcome=outcome)
    except mfa.StartAgain as exc:
        logger.info("two-factor sign-in could not start", extra={"door": door, "reason": str(exc)})
        return _login_page(request, door, status=401, error=mfa.START_AGAIN, username=username, next_path=next_path)


@pages.page()
def login_code(request, *, door: str) -> Reply:
    """The authenticator's code: at every sign-in of an enrolled account, or the first one while enrolling."""
    try:
        done = mfa.step(request, door)
    except mfa.StartAgain as exc:
        logger.info("two-factor sign-in not found", extra={"door": door, "reason": str(exc)})
        return _login_page(request, door, status=401, error=mfa.START_AGAIN).with_cookies(mfa.clear(door))
    if isinstance(done, mfa.Done):
        return _signed_in(request, done.tokens, door, done.username, done.next_path, second_factor="totp")
    return done


@pages.page()
def login(request, *, door: str) -> Reply:
    form = pages.form(request)
    session.check_login_form(request, form)
    username, password = form.get("username", "").strip(), form.get("password", "")
    next_path = form.get("next", "")
    if door == "agent" and sso.enabled():
        return pages.redirect("/agent/login/sso?next=" + quote(session.safe_next(next_path, door), safe="/"))
    if not username or not password or len(username) > 128 or len(password) > 256:
        return _login_page(request, door, status=400, error="请输入用户名和密码。", username=username[:128],
                           next_path=next_path)
    _throttle(request, door, username)   # before Cognito is asked: password guessing and spraying
    try:
        outcome = cognito.sign_in(username, password)
    except cognito.SignInFailed:
        return _wrong_credentials(request, door, username, next_path)
    return _go_on(request, outcome, door, username, next_path)


@pages.page()
def new_password(request, *, door: str) -> Reply:
    form = pages.form(request)
    session.check_login_form(request, form)
    username, challenge = form.get("username", ""), form.get("challenge", "")
    password, again = form.get("new_password", ""), form.get("confirm_password", "")
    next_path = form.get("next", "")

    def again_page(error: str, status: int = 400) -> Reply:
        token, cookie = session.login_form_token(request)
        return pages.html("web/new_password.html", status=status, door=door, title="设置新密码", csrf_token=token,
                          username=username, challenge=challenge, next_path=session.safe_next(next_path, door),
                          error=error, ws=None).with_cookies(cookie)
    if not username or not challenge:
        return _login_page(request, door, status=400, error="请重新登录。")
    if password != again:
        return again_page("两次输入的新密码不一致。")
    if len(password) < 10 or len(password) > 256:
        return again_page("新密码至少 10 位，需包含大写字母、小写字母和数字。")
    try:
        outcome = cognito.set_new_password(username, challenge, password)
    except cognito.SignInFailed as exc:
        if str(exc) in ("NotAuthorizedException", "ExpiredCodeException", "CodeMismatchException"):
            return _login_page(request, door, status=401, error="设置新密码的时间已过，请重新登录。", username=username)
        return again_page("新密码不符合要求：至少 10 位，需包含大写字母、小写字母和数字。")
    return _go_on(request, outcome, door, username, next_path)


@pages.page()
def logout(request, *, door: str) -> Reply:
    """Sign out (form POST with the session's CSRF token; without a valid session there is nothing to end)."""
    form = pages.form(request)
    try:
        ws = session.require(request, door)
    except (session.LoginRequired, session.Forbidden):
        return pages.redirect(f"/{door}/login", session.clear_cookie())
    session.check_csrf(ws, form)
    return pages.redirect(f"/{door}/login?signed_out=1", session.end(request))


def webview_session(request) -> Reply:
    """The wallet app's WebView: ``Authorization: Bearer <the app's Cognito token>`` → session cookie, 303."""
    header = (request.headers or {}).get("authorization")
    target = session.safe_next((request.query_params or {}).get("next"), "help")
    try:
        ws, cookie = session.exchange(header)
    except (auth.InvalidToken, session.WrongDoor):   # a staff token gets what a bad token gets: no session
        return Reply(401, '{"error":{"code":"unauthorized","message":"请先登录（登录已失效或凭证无效）。"}}',
                     {"Content-Type": "application/json; charset=utf-8"})
    logger.info("webview session", extra={"user": user_hash(ws.actor.user_id)})
    return pages.redirect(target, cookie)


@pages.page("agent")
def sso_begin(request) -> Reply:
    if not settings().sso_domain:
        return pages.message("未启用单点登录", "本环境没有配置单点登录（SSO_DOMAIN），请使用用户名和密码登录。", 404,
                             door="agent", link=("/agent/login", "返回登录"))
    location, cookie = sso.begin((request.query_params or {}).get("next"))
    return pages.redirect(location, cookie)


@pages.page("agent")
def sso_callback(request) -> Reply:
    try:
        done = sso.finish(request)
    except sso.SsoFailed as exc:
        logger.info("sso callback refused", extra={"reason": str(exc)})
        return pages.message("登录失败",
                             "单点登录未能完成（登录请求已过期、已使用或不是从本浏览器发起）。请重新登录。", 400,
                             door="agent", link=("/agent/login", "重新登录")).with_cookies(
            session.clear_cookie(sso.STATE_COOKIE, sso.CALLBACK_PATH))
    # A 200 page that moves on by itself, not a 303: the browser arrived here from the identity provider
    # (a cross-site navigation), and a SameSite=Strict cookie is sent only once the navigation starts here.
    return pages.html("web/sso_done.html", door="agent", next_path=done.next_path, ws=None).with_cookies(
        done.set_cookie, session.clear_cookie(sso.STATE_COOKIE, sso.CALLBACK_PATH))
