"""Sign-in and sessions of both doors: cookies, forged/expired/idle sessions, CSRF, the new-password step,
refresh, the WebView exchange, and who may use which door."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from chalicelib.edge import auth
from chalicelib.kernel import clock
from chalicelib.web import session
from tests.web.conftest import expire_token_once


@dataclass
class FakeRequest:
    """What ``session.require`` reads from a Chalice request."""
    cookie: str = ""
    path: str = "/agent"
    uri_params: dict = field(default_factory=dict)
    query_params: dict = field(default_factory=dict)

    @property
    def headers(self):
        return {"cookie": self.cookie} if self.cookie else {}


def _request_for(browser, path="/agent") -> FakeRequest:
    return FakeRequest(cookie="; ".join(f"{k}={v}" for k, v in browser.jar.items()), path=path)


def test_agent_signs_in_with_password_and_gets_a_strict_http_only_cookie(browser_for, agent, demo_password,
                                                                        monkeypatch):
    from chalicelib import config
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://support.example.com")
    config.reload()
    b = browser_for()
    answer = b.sign_in("agent", "agent", demo_password, next_path="/agent/cases/RD-20261201-ABCD")
    assert answer.status == 303
    assert answer.headers["location"] == "/agent/cases/RD-20261201-ABCD"
    cookie = next(c for c in b.set_cookies(answer) if c.startswith("rd_session="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" in cookie  # PUBLIC_BASE_URL is not a local http address here
    ws = session.require(_request_for(b), "agent")
    # Exactly the actor the bearer-token path builds for the same user.
    assert ws.actor.user_id == agent.user_id and ws.actor.roles == frozenset({"support"})
    assert ws.actor.username == "agent"


def test_secure_is_dropped_only_for_a_local_http_base_url(browser_for, agent, demo_password, monkeypatch):
    from chalicelib import config
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
    config.reload()
    answer = browser_for().sign_in("agent", "agent", demo_password)
    cookie = next(c for c in answer.headers["set-cookie"] if c.startswith("rd_session="))
    assert "Secure" not in cookie and "HttpOnly" in cookie
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://support.example.com")
    config.reload()
    answer = browser_for().sign_in("agent", "agent", demo_password)
    assert "Secure" in next(c for c in answer.headers["set-cookie"] if c.startswith("rd_session="))


def test_wrong_password_is_a_page_and_no_session(browser_for, agent):
    b = browser_for()
    answer = b.sign_in("agent", "agent", "not-the-password")
    assert answer.status == 401
    assert "用户名或密码不正确" in answer.text
    assert "rd_session" not in b.jar


def test_forged_or_unknown_cookie_is_sent_to_sign_in(browser_for, agent, demo_password):
    for forged in ("rd_session=" + "A" * 43, "rd_session=not-even-the-right-shape", "rd_session=",
                   "rd_session=" + "A" * 42 + "'"):
        with pytest.raises(session.LoginRequired) as refused:
            session.require(FakeRequest(cookie=forged, path="/agent/cases/{case_id}",
                                        uri_params={"case_id": "RD-20261201-ABCD"}), "agent")
        assert refused.value.location == "/agent/login?next=/agent/cases/RD-20261201-ABCD"


def test_idle_session_expires_and_is_deleted(browser_for, agent, demo_password):
    from chalicelib.config import settings
    b = browser_for()
    b.sign_in("agent", "agent", demo_password)
    request = _request_for(b)
    session.require(request, "agent")
    clock.advance(dt.timedelta(seconds=settings().session_idle_seconds - 30))
    session.require(request, "agent")          # still within the idle time: touched, so it starts again
    clock.advance(dt.timedelta(seconds=settings().session_idle_seconds - 30))
    session.require(request, "agent")
    clock.advance(dt.timedelta(seconds=settings().session_idle_seconds + 1))
    with pytest.raises(session.LoginRequired) as refused:
        session.require(request, "agent")
    assert refused.value.reason == "expired" and "expired=1" in refused.value.location
    clock.reset()
    with pytest.raises(session.LoginRequired):  # deleted: even with the clock back it is gone
        session.require(request, "agent")


def test_session_ends_after_its_maximum_age_even_when_active(browser_for, agent, demo_password):
    from chalicelib.config import settings
    b = browser_for()
    b.sign_in("agent", "agent", demo_password)
    request = _request_for(b)
    step = settings().session_idle_seconds - 60
    for _ in range(settings().session_max_seconds // step + 2):
        clock.advance(dt.timedelta(seconds=step))
        try:
            session.require(request, "agent")
        except session.LoginRequired as exc:
            assert exc.reason == "expired"
            break
    else:
        pytest.fail("the session outlived SESSION_MAX_SECONDS")


def test_expired_token_is_refreshed_with_the_refresh_token(browser_for, agent, demo_password, monkeypatch, aws):
    from chalicelib.adapters import aws as aws_clients
    from chalicelib.config import settings
    b = browser_for()
    b.sign_in("agent", "agent", demo_password)
    table = aws_clients.table(settings().sessions_table)
    before = [i for i in table.scan()["Items"] if i["pk"].startswith("SESSION#")]  # test inspection only
    assert len(before) == 1 and before[0]["refresh_token"]
    real_verify, calls = expire_token_once(monkeypatch)
    ws = session.require(_request_for(b), "agent")
    assert ws.actor.username == "agent"
    after = table.get_item(Key={"pk": before[0]["pk"], "sk": "SESSION"})["Item"]
    assert calls[1] == after["id_token"]                 # the refreshed token was verified and stored
    assert after["id_token"] != before[0]["id_token"]


def test_refresh_refused_means_sign_in_again(browser_for, agent, demo_password, monkeypatch):
    from chalicelib.web import cognito
    b = browser_for()
    b.sign_in("agent", "agent", demo_password)
    monkeypatch.setattr(auth, "verify", lambda token: (_ for _ in ()).throw(auth.TokenExpired("expired")))

    def refused(token):
        raise cognito.SignInFailed("NotAuthorizedException")
    monkeypatch.setattr(cognito, "refresh", refused)
    with pytest.raises(session.LoginRequired) as exc:
        session.require(_request_for(b), "agent")
    assert exc.value.reason == "expired"


def test_wallet_user_cannot_sign_in_at_the_agent_door(browser_for, alice, demo_password):
    b = browser_for()
    answer = b.sign_in("agent", "alice", demo_password)
    assert answer.status == 401 and "用户名或密码不正确" in answer.text   # as a wrong password: no oracle (#21)
    assert "rd_session" not in b.jar


def test_wallet_user_session_never_reaches_agent_pages(browser_for, alice, demo_password):
    b = browser_for()
    assert b.sign_in("help", "alice", demo_password).status == 303
    assert session.require(_request_for(b, "/help/cases"), "help").actor.username == "alice"
    with pytest.raises(session.Forbidden):
        session.require(_request_for(b), "agent")


def test_sign_in_form_without_its_csrf_token_is_refused(browser_for, agent, demo_password):
    b = browser_for()
    b.get("/agent/login")
    answer = b.post("/agent/login", {"username": "agent", "password": demo_password})
    assert answer.status == 403
    assert "rd_session" not in b.jar


def test_csrf_token_is_the_sessions_own(browser_for, agent, demo_password):
    b = browser_for()
    b.sign_in("agent", "agent", demo_password)
    ws = session.require(_request_for(b), "agent")
    session.check_csrf(ws, {"csrf_token": ws.csrf_token})
    for form in ({}, {"csrf_token": ""}, {"csrf_token": ws.csrf_token[:-1] + "x"}):
        with pytest.raises(session.Forbidden):
            session.check_csrf(ws, form)
    other = browser_for()
    other.sign_in("agent", "agent", demo_password)
    with pytest.raises(session.Forbidden):  # another session's token
        session.check_csrf(ws, {"csrf_token": session.require(_request_for(other), "agent").csrf_token})


def test_logout_without_csrf_changes_nothing_and_with_it_ends_the_session(browser_for, agent, demo_password):
    b = browser_for()
    b.sign_in("agent", "agent", demo_password)
    request = _request_for(b)
    assert b.post("/agent/logout", {}).status == 403
    ws = session.require(request, "agent")     # still signed in
    answer = b.post("/agent/logout", {"csrf_token": ws.csrf_token})
    assert answer.status == 303 and answer.headers["location"].startswith("/agent/login")
    with pytest.raises(session.LoginRequired):  # the old cookie no longer works anywhere
        session.require(request, "agent")


def test_new_password_required_flow(browser_for, aws, demo_password):
    from chalicelib.adapters import aws as aws_clients
    idp = aws_clients.client("cognito-idp")
    idp.admin_create_user(UserPoolId=aws.pool_id, Username="newagent", TemporaryPassword="Temp-passw0rd!1",
                          MessageAction="SUPPRESS")
    idp.admin_add_user_to_group(UserPoolId=aws.pool_id, Username="newagent", GroupName="support")
    b = browser_for()
    page = b.sign_in("agent", "newagent", "Temp-passw0rd!1")
    assert page.status == 200 and "设置新密码" in page.text and "rd_session" not in b.jar
    challenge = page.text.split('name="challenge" value="', 1)[1].split('"', 1)[0]
    mismatch = b.post("/agent/login/new-password", {"csrf_token": b.csrf(page), "username": "newagent",
                                                   "challenge": challenge, "new_password": "Brand-new-passw0rd",
                                                   "confirm_password": "Brand-new-passw0rd-typo"})
    assert mismatch.status == 400 and "不一致" in mismatch.text and "rd_session" not in b.jar
    done = b.post("/agent/login/new-password", {"csrf_token": b.csrf(mismatch), "username": "newagent",
                                               "challenge": challenge, "new_password": "Brand-new-passw0rd",
                                               "confirm_password": "Brand-new-passw0rd"})
    # a new staff member has no authenticator yet: enrolment before any session (two-factor sign-in)
    assert done.status == 200 and 'data-testid="mfa-enrol"' in done.text and "rd_session" not in b.jar
    done = b.enter_code("agent")
    assert done.status == 303 and done.headers["location"] == "/agent"
    assert session.require(_request_for(b), "agent").actor.username == "newagent"
    # The new password is the one that works from now on.
    assert browser_for().sign_in("agent", "newagent", "Brand-new-passw0rd").status == 303
    assert browser_for().sign_in("agent", "newagent", "Temp-passw0rd!1").status == 401


def test_webview_exchanges_the_apps_bearer_token_for_a_session(api, alice, browser_for):
    answer = api.post("/help/session?next=/help/cases", headers={"Authorization": f"Bearer {alice.token}"})
    assert answer.status == 303 and answer.headers["location"] == "/help/cases"
    cookies = answer.headers["set-cookie"]
    cookie = next(c for c in ([cookies] if isinstance(cookies, str) else cookies) if c.startswith("rd_session="))
    request = FakeRequest(cookie=cookie.split(";", 1)[0], path="/help/cases")
    assert session.require(request, "help").actor.user_id == alice.user_id
    forged = alice.token[:-4] + ("AAAA" if not alice.token.endswith("AAAA") else "BBBB")
    refused = api.post("/help/session", headers={"Authorization": f"Bearer {forged}"})
    assert refused.status == 401 and "set-cookie" not in refused.headers


def test_next_never_leaves_the_door():
    assert session.safe_next("//evil.example.com/agent", "agent") == "/agent"
    assert session.safe_next("https://evil.example.com", "agent") == "/agent"
    assert session.safe_next("/help/cases", "agent") == "/agent"
    assert session.safe_next("/agent/cases/RD-20261201-ABCD", "agent") == "/agent/cases/RD-20261201-ABCD"
    assert session.safe_next("/agent/login", "agent") == "/agent"


def test_next_leads_to_every_page_of_the_door_and_to_nothing_else(api):
    """The landings come from the route table: every GET page of the door (「我的还款」 included, which a hand
    list once forgot), never a sign-in page or a route that answers a page's script in JSON."""
    for page in ("/help/repayments", "/help/repayments/rp_0123", "/help/bills", "/help/notices", "/help/cases/new",
                 "/help/receipts/verify?serial=RD1", "/help/articles/find-hotline"):
        assert session.safe_next(page, "help") == page
    for not_a_page in ("/help/cases/suggestions", "/help/cases/RD-1/messages", "/help/login", "/help/session",
                       "/help/nowhere", "/agent/reports"):
        assert session.safe_next(not_a_page, "help") == "/help/cases", not_a_page
    assert session.safe_next("/agent/reports", "agent") == "/agent/reports"
    assert session.safe_next("/agent/callback", "agent") == "/agent"
