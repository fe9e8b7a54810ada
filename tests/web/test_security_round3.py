"""Hardening round three (#21) over HTTP, the browser side: which door a session was opened at, sign-in
throttling and one answer for every wrong credential, ``next=`` redirects, the staff forms' own
idempotency keys, and the pages' headers (CSP with nonces, framing, caching)."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from chalicelib.edge import auth
from chalicelib.kernel import clock
from tests.web.conftest import expire_token_once

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
    from chalicelib.adapters import aws as aws_clients
    b = browser_for()
    assert b.sign_in("help", "alice", demo_password).status == 303
    aws_clients.client("cognito-idp").admin_add_user_to_group(UserPoolId=aws.pool_id, Username="alice",
                                                               GroupName="support")
    real_verify, _ = expire_token_once(monkeypatch)
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
    fields = {"csrf_token": b.csrf(form), "category": "repayment_delay",
              "description": "还款三天了还没到账，请帮忙查询",
              "idempotency_key": re.search(r'name="idempotency_key" value="([^"]+)"', form.text).group(1)}
    first = b.post("/help/cases", fields)
    assert first.status == 303 and first.headers["location"].startswith("/help/cases/RD-")
    again = b.post("/help/cases", fields)        # the answer was lost; the browser sends the form again
    assert again.status == 303 and again.headers["location"] == first.headers["location"]
    fields["idempotency_key"] = "another-form"
    assert b.post("/help/cases", fields).status == 429


# ---------------------------------------------------------------- 4. sign-in throttling, one answer
@pytest.fixture
def from_address(monkeypatch):
    """``from_address("203.0.113.7")``: the requests that follow come from that client address (API Gateway's
    ``sourceIp``; the local gateway otherwise always says 127.0.0.1)."""
    from chalice import local

    def use(address: str) -> None:
        monkeypatch.setattr(local.LambdaEventConverter, "LOCAL_SOURCE_IP", address)
    return use


def test_wrong_passwords_from_one_client_never_lock_the_owner_out(browser_for, alice, demo_password, from_address,
                                                                 business_morning):
    from_address("198.51.100.66")
    attacker = browser_for()
    answers = [attacker.sign_in("help", name, f"guess-{i}").status
               for i, name in enumerate(["alice", "ALICE", " alice ", "Ａｌｉｃｅ", "aLiCe"] * 2)]
    assert answers[:5] == [401] * 5 and set(answers[5:]) == {429}   # every spelling is the same account
    assert attacker.sign_in("help", "alice", demo_password).status == 429   # not even the right one, from there
    assert "rd_session" not in attacker.jar
    from_address("203.0.113.10")
    owner = browser_for()
    assert owner.sign_in("help", "alice", demo_password).status == 303


def test_password_spraying_from_one_client_is_throttled(browser_for, alice, demo_password, from_address,
                                                        business_morning):
    from_address("198.51.100.77")
    sprayer = browser_for()
    answers = [sprayer.sign_in("help", f"user{i:02d}", "Spring2026!").status for i in range(25)]
    assert answers[:20] == [401] * 20 and answers[20:] == [429] * 5
    refused = sprayer.last
    assert 0 < int(refused.headers["retry-after"]) <= 900
    from_address("203.0.113.11")
    assert browser_for().sign_in("help", "alice", demo_password).status == 303   # others are not affected


def test_successful_sign_ins_do_not_count(browser_for, agent, demo_password, business_morning):
    """A call centre behind one address: many good sign-ins from it are never throttled."""
    for _ in range(25):
        assert browser_for().sign_in("agent", "agent", demo_password).status == 303


def test_a_guess_spread_over_many_addresses_cools_the_account_down_but_a_known_browser_gets_past(
        browser_for, alice, demo_password, from_address, business_morning):
    from_address("203.0.113.12")
    owner = browser_for()
    assert owner.sign_in("help", "alice", demo_password).status == 303     # her browser, known from now on
    assert any(c.startswith("rd_device=") and "Path=/help/login" in c for c in owner.set_cookies(owner.last))
    owner.jar.pop("rd_session")
    for host in range(6):                                                # a botnet: 5 guesses from each address
        from_address(f"198.51.100.{host + 1}")
        assert [browser_for().sign_in("help", "alice", "guess").status for _ in range(5)] == [401] * 5
    from_address("192.0.2.50")
    stranger = browser_for()
    cooled = stranger.sign_in("help", "alice", demo_password)           # a new browser waits (no hard lock)
    assert cooled.status == 429 and "rd_session" not in stranger.jar
    assert "曾经登录过的设备" in cooled.text
    from_address("203.0.113.12")
    assert owner.sign_in("help", "alice", demo_password).status == 303  # her own browser gets past
    assert "rd_session" in owner.jar
    clock.advance(dt.timedelta(minutes=16))                             # and the cool-down ends by itself
    from_address("192.0.2.50")
    assert browser_for().sign_in("help", "alice", demo_password).status == 303


def test_one_answer_for_every_wrong_credential(browser_for, alice, agent, demo_password):
    answers = {
        "unknown user": browser_for().sign_in("agent", "nobody-here", demo_password),
        "wrong password": browser_for().sign_in("agent", "agent", "wrong-password"),
        "wallet user, right password, staff door": browser_for().sign_in("agent", "alice", demo_password),
        "staff, right password, wallet door": browser_for().sign_in("help", "agent", demo_password),
        "wallet user, wrong password": browser_for().sign_in("help", "alice", "wrong-password"),
    }
    seen = {(a.status, _error_of(a)) for a in answers.values()}
    assert seen == {(401, WRONG)}, {k: (a.status, _error_of(a)) for k, a in answers.items()}


# ---------------------------------------------------------------- 6. next= redirects
def test_a_non_latin_next_is_percent_encoded_and_the_session_works(browser_for, alice, demo_password):
    b = browser_for()
    answer = b.sign_in("help", "alice", demo_password, next_path="/help/cases/%E4%B8%AD%E6%96%87")
    assert answer.status == 303
    assert answer.headers["location"] == "/help/cases/%E4%B8%AD%E6%96%87"
    answer.headers["location"].encode("ascii")
    assert b.get("/help/cases").status == 200                    # the session it made is a working one
    form = b.get("/help/login")                                  # the form's own hidden field, raw Chinese
    direct = b.post("/help/login", {"username": "alice", "password": demo_password, "next": "/help/cases/中文",
                                    "csrf_token": b.csrf(form)})
    assert direct.status == 303 and direct.headers["location"] == "/help/cases/%E4%B8%AD%E6%96%87"


def test_the_webview_exchange_encodes_its_next_too(api, alice):
    answer = api.post("/help/session?next=/help/cases/%E4%B8%AD%E6%96%87",
                      headers={"Authorization": f"Bearer {alice.token}"})
    assert answer.status == 303 and answer.headers["location"] == "/help/cases/%E4%B8%AD%E6%96%87"


@pytest.mark.parametrize("asked", [
    "/help/cases/x%0DSet-Cookie:%20rd_session=evil",          # CR: header splitting
    "/help/cases/x%0ASet-Cookie:%20rd_session=evil",          # LF
    "/helpful-phish", "/help/login", "/help/logout", "//evil.example/help", "/help/cases/..%2F..%2Fagent",
    "/help/cases/RD-1%23frag", "/help%5Cevil", "https://evil.example/help/cases", "/agent"])
def test_next_leads_only_to_known_pages_of_the_door(browser_for, alice, demo_password, asked):
    answer = browser_for().sign_in("help", "alice", demo_password, next_path=asked)
    assert answer.status == 303 and answer.headers["location"] == "/help/cases", answer.headers["location"]


def test_sso_is_handed_next_as_one_query_value(browser_for, monkeypatch, aws):
    from chalicelib import config
    monkeypatch.setenv("AGENT_SIGN_IN", "sso")
    monkeypatch.setenv("SSO_DOMAIN", "https://sso.example.com")
    config.reload()
    b = browser_for()
    b.get("/agent/login")                  # only the SSO button: the form's token is the double-submit cookie
    answer = b.post("/agent/login", {"username": "x", "password": "y", "csrf_token": b.jar["rd_login"],
                                     "next": "/agent?step=senior&mine=1"})
    assert answer.status == 303
    assert answer.headers["location"] == "/agent/login/sso?next=/agent%3Fstep%3Dsenior%26mine%3D1"


@pytest.mark.e2e
def test_over_real_http_a_non_latin_next_is_answered_not_dropped(local_stack):
    """chalice local (a real HTTP server) could not write a non-Latin-1 ``Location`` and dropped the connection
    after the session had been stored; a CR went into the header."""
    import requests
    token = local_stack.token("e2e-next-user", phone="+8613800138088")
    for asked, expected in (("/help/cases/%E4%B8%AD%E6%96%87", "/help/cases/%E4%B8%AD%E6%96%87"),
                            ("/help/cases/x%0DSet-Cookie:%20a=b", "/help/cases")):
        answer = requests.post(f"{local_stack.api_url}/help/session?next={asked}", allow_redirects=False,
                               headers={"Authorization": f"Bearer {token}"}, timeout=15)
        assert answer.status_code == 303 and answer.headers["Location"] == expected
        assert answer.cookies.get("rd_session") and "a" not in answer.cookies


# ---------------------------------------------------------------- 8. staff forms carry their own key
def _form_fields(page, action: str) -> dict:
    form = re.search(rf'<form method="post" action="{re.escape(action)}"(.*?)</form>', page.text, re.S).group(1)
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))


def test_the_same_staff_form_posted_three_times_acts_once(browser_for, api, alice, agent, demo_password,
                                                         business_morning):
    from chalicelib.escalation import service
    from chalicelib.kernel.actor import Actor
    from chalicelib.kernel.context import Context
    owner = Actor(user_id=alice.user_id, username="alice")
    case_id = service.open_case(owner, Context.current(), category="repayment_failed",
                                description="还款失败了，钱却扣了", repayment_id=None).body["case_id"]
    b = browser_for()
    assert b.sign_in("agent", "agent", demo_password).status == 303
    page = b.get(f"/agent/cases/{case_id}")
    base = f"/agent/cases/{case_id}"
    posts = {"assign": {}, "notes": {"text": "已联系银行核实"},
             "reply": {"message": "您好，我们正在核实扣款，请稍候。", "await_user": "0"}}
    for action, fields in posts.items():
        hidden = _form_fields(page, f"{base}/{action}")
        assert hidden.get("idempotency_key"), action            # every staff form has its own key
        answers = [b.post(f"{base}/{action}", {**hidden, **fields}) for _ in range(3)]
        assert [a.status for a in answers] == [303] * 3, (action, answers[-1].text[:300])
    resolve = _form_fields(b.get(base), f"{base}/resolve")
    assert [b.post(f"{base}/resolve", {**resolve, "summary": "已退回扣款"}).status for _ in range(3)] == [303] * 3
    staff_view = api.get(f"/support/cases/{case_id}", token=agent.token).json
    # one reply and one resolution (it is the user's last message too): each once, whatever the posts
    said = sorted(m["text"] for m in staff_view["conversation"] if m["author"] == "support")
    assert said == sorted([posts["reply"]["message"], "已退回扣款"])
    assert [n["text"] for n in staff_view["notes"]] == ["已联系银行核实"]
    events = [e["event"] for e in staff_view["timeline"]]
    assert events.count("assigned") == 1 and events.count("replied") == 1 and events.count("resolved") == 1
    user_view = api.get(f"/support/cases/{case_id}", token=alice.token).json   # the user got one answer
    assert sorted(m["text"] for m in user_view["conversation"] if m["author"] == "support") == said


def test_the_api_replays_a_staff_reply_under_its_key(api, alice, agent, business_morning):
    opened = api.post("/support/cases", token=alice.token,
                      json_body={"category": "fees", "description": "手续费比说的多了，请核实"})
    case_id = opened.json["case_id"]
    sent = [api.post(f"/support/cases/{case_id}/reply", token=agent.token, headers={"Idempotency-Key": "r-1"},
                     json_body={"message": "正在核查", "await_user": False}) for _ in range(2)]
    assert [s.status for s in sent] == [200, 200] and sent[1].headers["idempotent-replayed"] == "true"
    assert sent[0].json == sent[1].json
    note = [api.post(f"/support/cases/{case_id}/notes", token=agent.token, headers={"Idempotency-Key": "n-1"},
                     json_body={"text": "内部：已查流水"}) for _ in range(2)]
    assert [n.status for n in note] == [201, 201] and note[0].json == note[1].json
    assert len(api.get(f"/support/cases/{case_id}", token=agent.token).json["notes"]) == 1


# ---------------------------------------------------------------- 9. headers: CSP with nonces, framing, caching
SCRIPT = re.compile(r"<script\b([^>]*)>", re.I)


def _csp(response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in policy.split(";") if part.strip()}


def _assert_locked_down(response, where: str, personal: bool) -> str | None:
    assert response.headers["content-type"].startswith("text/html"), where
    csp = _csp(response)
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"], where
    assert csp["frame-ancestors"] == "'none'" and response.headers["x-frame-options"] == "DENY", where
    assert csp["object-src"] == "'none'" and csp["base-uri"] == "'none'", where
    nonces = re.findall(r"'nonce-([^']+)'", csp["script-src"])
    scripts = [attrs for attrs in SCRIPT.findall(response.text) if "application/json" not in attrs]
    if scripts:
        assert len(nonces) == 1 and len(nonces[0]) >= 22, where
        for attrs in scripts:   # every script this page runs is the one the header allows, nothing else
            assert f'nonce="{nonces[0]}"' in attrs, (where, attrs)
    assert not re.search(r"\son[a-z]+\s*=", re.sub(r"<script.*?</script>", "", response.text, flags=re.S)), where
    if personal:
        assert response.headers["cache-control"] == "no-store", where
    return nonces[0] if nonces else None


def test_every_page_has_a_strict_csp_cannot_be_framed_and_personal_ones_are_not_stored(
        browser_for, api, alice, bob, agent, lead, demo_password, business_morning, monkeypatch):
    from chalicelib import config
    monkeypatch.setenv("RECEIPT_SECRET", "test-receipt-key-0123456789abcdef0123456789")
    config.reload()
    from tests.repay.conftest import card, run_worker
    paid = api.post("/repayments", token=alice.token, headers={"Idempotency-Key": "hdr-1"}, json_body=card("30.00"))
    run_worker()
    case_id = api.post("/support/cases", token=bob.token,
                       json_body={"category": "fees", "description": "手续费比说的多了，请核实"}).json["case_id"]
    user, staff, senior = browser_for(), browser_for(), browser_for()
    user.sign_in("help", "bob", demo_password)
    staff.sign_in("agent", "agent", demo_password)
    senior.sign_in("agent", "lead", demo_password)
    public = {"/help": None, "/help/search?q=%E8%BF%98%E6%AC%BE": None, "/help/articles/find-hotline": None,
              "/help/articles/no-such-article": None, "/help/contact": None, "/docs": None, "/help/login": None,
              "/agent/login": None}
    personal = {"/help/cases": user, "/help/cases/new": user, f"/help/cases/{case_id}": user,
                f"/help/cases/{case_id}/export.html": user, "/agent": staff, f"/agent/cases/{case_id}": staff,
                "/agent/reports": senior}
    seen = set()
    for path in public:
        nonce = _assert_locked_down(api.get(path), path, personal=False)
        seen.add(nonce)
    for path, who in personal.items():
        answer = who.get(path)
        assert answer.status == 200, (path, answer.status)
        seen.add(_assert_locked_down(answer, path, personal=True))
    for path, who in ((f"/repayments/{paid.json['id']}/receipt.html", alice),
                      (f"/support/cases/{case_id}/export.html", bob)):
        answer = api.get(path, token=who.token)
        assert answer.status == 200, (path, answer.text[:200])
        _assert_locked_down(answer, path, personal=True)
    seen.discard(None)
    assert len(seen) >= 8          # a fresh nonce for every response that runs a script


def test_the_case_page_may_upload_to_the_bucket_and_nowhere_else(browser_for, alice, demo_password, business_morning):
    from chalicelib.escalation import attachments
    user = browser_for()
    user.sign_in("help", "alice", demo_password)
    form = user.get("/help/cases/new")
    fields = {"csrf_token": user.csrf(form), "category": "fees", "description": "手续费比说的多了，请核实",
              "idempotency_key": re.search(r'name="idempotency_key" value="([^"]+)"', form.text).group(1)}
    page = user.get(user.post("/help/cases", fields).headers["location"])
    _assert_locked_down(page, "case page", personal=True)
    assert _csp(page)["connect-src"] == f"'self' {attachments.upload_origin()}"
