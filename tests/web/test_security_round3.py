"""Hardening round three (#21) over HTTP, the browser side: which door a session was opened at, sign-in
throttling and one answer for every wrong credential, ``next=`` redirects, the staff forms' own
idempotency keys, and the pages' headers (CSP with nonces, framing, caching)."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from chalicelib import auth, clock

WRONG = "用户名或密码不正确。"


def _session_cookie(response) -> str | None:
    raw = response.headers.get("set-cookie") or []
    for line in [raw] if isinstance(raw, str) else raw:
        if line.startswith("rd_session=") and "Max-Age=0" not in line:
            return line.split(";", 1)[0]
    return None


def _error_of(page) -> str:
    found = re.search(r'data-testid="login-error"[^>]*>([^<]*)<', page.text) or \
        re.search(r'class="error"[^>]*>([^<]*)<', page.text)
    return found.group(1).strip() if found else ""


# ---------------------------------------------------------------- 1. the door is checked
def test_staff_password_at_the_wallet_door_gets_the_wrong_password_answer_and_no_session(browser_for, agent,
                                                                                       demo_password):
    wrong = browser_for().sign_in("help", "agent", "not-the-password")
    b = browser_for()
    right = b.sign_in("help", "agent", demo_password)
    assert (right.status, _error_of(right)) == (wrong.status, _error_of(wrong)) == (401, WRONG)
    assert _session_cookie(right) is None and "rd_session" not in b.jar
    assert b.get("/agent").status == 303      # nothing that opens the workspace
    assert b.get("/help/cases").status == 303


def test_staff_bearer_token_is_not_exchanged_at_the_webview_door(api, agent, lead, alice):
    forged = api.post("/help/session", headers={"Authorization": "Bearer not.a.token"})
    for staff in (agent, lead):
        refused = api.post("/help/session", headers={"Authorization": f"Bearer {staff.token}"})
        assert refused.status == forged.status == 401
        assert refused.json == forged.json       # the same words as for a token that does not verify
        assert "set-cookie" not in refused.headers
    assert api.post("/help/session", headers={"Authorization": f"Bearer {alice.token}"}).status == 303


def test_a_session_opens_only_the_door_it_was_opened_at(browser_for, api, alice, agent, demo_password, aws,
                                                        monkeypatch):
    """Alice signs in at the wallet door, is then made support staff and her token is refreshed (now with the
    staff group): her wallet-door session still never opens /agent (staff sign in at the staff door, with SSO
    and MFA when they are on). And a staff session from /agent is no wallet session."""
    from chalicelib import aws as aws_clients
    b = browser_for()
    assert b.sign_in("help", "alice", demo_password).status == 303
    aws_clients.client("cognito-idp").admin_add_user_to_group(UserPoolId=aws.pool_id, Username="alice",
                                                               GroupName="support")
    real_verify, calls = auth.verify, []

    def expired_once(token):
        calls.append(token)
        if len(calls) == 1:
            raise auth.TokenExpired("Signature has expired")
        return real_verify(token)
    monkeypatch.setattr(auth, "verify", expired_once)
    from chalicelib.web import cognito
    assert "support" in real_verify(cognito.sign_in("alice", demo_password).id_token).groups  # staff now
    page = b.get("/agent")
    assert page.status == 403
    assert "data-case=" not in page.text
    staff = browser_for()
    monkeypatch.setattr(auth, "verify", real_verify)
    assert staff.sign_in("agent", "agent", demo_password).status == 303
    assert staff.get("/agent").status == 200
    assert staff.get("/help/cases").status == 403


# ---------------------------------------------------------------- 2. a known key before any limit (the page)
def test_a_resubmitted_new_case_form_lands_on_its_case_despite_the_limit(browser_for, alice, demo_password,
                                                                         monkeypatch, business_morning):
    from chalicelib import config
    monkeypatch.setenv("RATE_LIMITS", "case_open=1/86400")
    config.reload()
    b = browser_for()
    b.sign_in("help", "alice", demo_password)
    form = b.get("/help/cases/new")
    fields = {"csrf_token": b.csrf(form), "category": "repayment_delay", "description": "还款三天了还没到账，请帮忙查询",
              "idempotency_key": re.search(r'name="idempotency_key" value="([^"]+)"', form.text).group(1)}
    first = b.post("/help/cases", fields)
    assert first.status == 303 and first.headers["location"].startswith("/help/cases/RD-")
    again = b.post("/help/cases", fields)        # the answer was lost; the browser sends the form again
    assert again.status == 303 and again.headers["location"] == first.headers["location"]
    fields["idempotency_key"] = "another-form"
    assert b.post("/help/cases", fields).status == 429
