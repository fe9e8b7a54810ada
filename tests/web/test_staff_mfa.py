"""Two-factor sign-in for staff (#25 item 5), through the pages and the API against moto's Cognito: enrolment at
the first sign-in, a wrong code, a right code, a staff session or token without the second factor refused, and a
lead's reset. moto 5.2.5 enrols, challenges and signs in as Cognito does but accepts any 6 digits (it checks codes
only on the wall clock, behind an opt-in setting); ``cognito_checks_codes`` puts Cognito's check back — the code of
the secret at the application's clock — answering a wrong one with Cognito's recorded error
(fixtures/cognito_mfa/errors.json). What moto cannot do at all is tested in test_staff_mfa_recorded.py."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra import local

FIXTURES = Path(__file__).parent / "fixtures" / "cognito_mfa"


@pytest.fixture
def cognito_checks_codes(aws, monkeypatch):
    """moto's client, with Cognito's code check on the two calls that take a code."""
    from botocore.exceptions import ClientError

    from chalicelib.adapters import aws as aws_clients
    from chalicelib.web import cognito
    errors = json.loads((FIXTURES / "errors.json").read_text(encoding="utf-8"))
    real = aws_clients.client("cognito-idp")

    def refused(name: str, operation: str) -> ClientError:
        e = errors[name]
        return ClientError({"Error": {"Code": e["Code"], "Message": e["Message"]},
                            "ResponseMetadata": {"HTTPStatusCode": e["Status"]}}, operation)

    class Checking:
        def __getattr__(self, name):
            return getattr(real, name)

        def respond_to_auth_challenge(self, **kw):
            code = kw.get("ChallengeResponses", {}).get("SOFTWARE_TOKEN_MFA_CODE")
            if code is not None and code != local.totp_code():
                raise refused("wrong_code_at_sign_in", "RespondToAuthChallenge")
            return real.respond_to_auth_challenge(**kw)

        def verify_software_token(self, **kw):
            if kw["UserCode"] != local.totp_code():
                raise refused("wrong_code_at_enrolment", "VerifySoftwareToken")
            return real.verify_software_token(**kw)

    monkeypatch.setattr(cognito, "_idp", Checking)


def wrong_code() -> str:
    return f"{(int(local.totp_code()) + 1) % 1_000_000:06d}"


def _session_item(browser) -> dict:
    import hashlib

    from chalicelib.web import session_store
    return session_store.get_session(hashlib.sha256(browser.jar["rd_session"].encode()).hexdigest())


def _mfa_of(aws, username: str) -> list[str]:
    from chalicelib.adapters import aws as aws_clients
    user = aws_clients.client("cognito-idp").admin_get_user(UserPoolId=aws.pool_id, Username=username)
    return user.get("UserMFASettingList") or []


def test_a_new_staff_member_enrols_at_first_sign_in_and_gives_a_code_at_every_sign_in_after(
        aws, browser_for, demo_password, cognito_checks_codes):
    local.ensure_user(aws, "li.na", role="support", mfa=False)
    b = browser_for()
    page = b.sign_in("agent", "li.na", demo_password, second_factor=False)
    # Enrolment: the secret in groups and as a key URI; no session yet, only the sign-in in progress
    assert page.status == 200 and 'data-testid="mfa-enrol"' in page.text
    assert local.MOTO_TOTP_SECRET.upper()[:4] in page.text.upper().replace(" ", "")
    assert "otpauth://totp/RepayDesk%3Ali.na?secret=" in page.text
    assert "rd_session" not in b.jar and "rd_mfa" not in page.text and b.jar["rd_mfa"] not in page.text
    assert _mfa_of(aws, "li.na") == []

    wrong = b.enter_code("agent", wrong_code())   # a wrong first code: clear message, still enrolling
    assert wrong.status == 401 and "验证码不正确" in wrong.text and 'data-testid="mfa-enrol"' in wrong.text
    assert "rd_session" not in b.jar and _mfa_of(aws, "li.na") == []
    typed = b.enter_code("agent", "12 3ab6")
    assert typed.status == 400 and "6 位数字" in typed.text

    replay = browser_for()   # a copy of this browser's sign-in in progress, to replay the form later
    replay.jar, replay.last = dict(b.jar), b.last
    done = b.enter_code("agent")   # the right code: enrolled, signed in, at the workspace
    assert done.status == 303 and done.headers["location"] == "/agent" and "rd_mfa" not in b.jar
    assert _mfa_of(aws, "li.na") == ["SOFTWARE_TOKEN_MFA"] and _session_item(b)["mfa"] == "totp"
    assert b.get("/agent").status == 200
    replayed = replay.enter_code("agent")   # the sign-in in progress was used up: a replay starts again
    assert replayed.status == 401 and "重新输入用户名和密码" in replayed.text and "rd_session" not in replay.jar

    again = browser_for()   # the next sign-in asks the code (the pool's SOFTWARE_TOKEN_MFA challenge)
    page = again.sign_in("agent", "li.na", demo_password, second_factor=False)
    assert page.status == 200 and 'data-testid="mfa-code"' in page.text and "mfa-secret" not in page.text
    refused = again.enter_code("agent", wrong_code())
    assert refused.status == 401 and "验证码不正确" in refused.text and "rd_session" not in again.jar
    full_width = local.totp_code().translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    signed_in = again.enter_code("agent", full_width)   # as a phone's full-width keyboard types it
    assert signed_in.status == 303 and again.get("/agent").status == 200


def test_wrong_codes_are_limited_per_account(aws, agent, browser_for, demo_password, cognito_checks_codes):
    b = browser_for()
    b.sign_in("agent", "agent", demo_password, second_factor=False)
    for _ in range(5):
        assert b.enter_code("agent", wrong_code()).status == 401
    blocked = b.enter_code("agent")   # even the right code waits now
    assert blocked.status == 429 and "分钟后再试" in blocked.text and "rd_session" not in b.jar


def test_a_staff_session_without_the_second_factor_cannot_reach_the_workspace(aws, agent, browser_for,
                                                                              demo_password):
    from chalicelib.adapters import aws as aws_clients
    from chalicelib.config import settings
    b = browser_for()
    assert b.sign_in("agent", "agent", demo_password).status == 303 and b.get("/agent").status == 200
    item = _session_item(b)   # a session from before two-factor sign-in (no "mfa"): refused, sent to sign in
    aws_clients.table(settings().sessions_table).update_item(Key={"pk": item["pk"], "sk": item["sk"]},
                                                             UpdateExpression="REMOVE mfa")
    refused = b.get("/agent/cases/RD-20261209-ABCD")
    assert refused.status == 303 and refused.headers["location"].startswith("/agent/login?next=")
    assert refused.headers["location"].endswith("&mfa=1") and _session_item(b) is None
    assert "两步验证" in b.get(refused.headers["location"]).text
    assert b.get("/agent/cases/RD-20261209-ABCD/updates").status in (303, 401)


def test_a_staff_bearer_token_without_an_authenticator_is_refused_by_the_api(aws, api, agent):
    plain = local.ensure_user(aws, "no.mfa", role="support", mfa=False)   # a real token, no second factor
    refused = api.get("/support/queues/frontline", token=plain)
    assert refused.status == 401 and "两步验证" in refused.text
    assert api.get("/support/queues/frontline", token=agent.token).status == 200   # enrolled: as before


def test_cognito_unreachable_refuses_a_staff_token_with_a_401_never_a_500_or_a_pass(aws, api, agent,
                                                                                    monkeypatch):
    from botocore.exceptions import EndpointConnectionError

    from chalicelib.web import cognito
    unchecked = local.ensure_user(aws, "mfa.unchecked", role="support")   # enrolled, not yet in the cache

    def unreachable(username):
        raise EndpointConnectionError(endpoint_url="https://cognito-idp.example")
    monkeypatch.setattr(cognito, "_admin_user", unreachable)
    refused = api.get("/support/queues/frontline", token=unchecked)
    assert refused.status == 401 and "稍后重试" in refused.text


def test_a_lead_resets_a_members_two_factor_and_it_is_an_access_record(aws, agent, lead, api, browser_for,
                                                                       demo_password):
    from chalicelib.repay import service as repay
    assert api.post("/support/staff/lead/mfa-reset", token=agent.token).status == 403   # not a lead
    b = browser_for()
    b.sign_in("agent", "agent", demo_password)
    assert b.get("/agent/staff/lead/mfa-reset").status == 403   # the page is a lead's too
    lead_b = browser_for()
    assert lead_b.sign_in("agent", "lead", demo_password).status == 303
    form = lead_b.get("/agent/staff/agent/mfa-reset")
    assert form.status == 200 and "确认重置" in form.text
    assert lead_b.post("/agent/staff/agent/mfa-reset", {"csrf_token": "forged"}).status == 403
    assert _mfa_of(aws, "agent") == ["SOFTWARE_TOKEN_MFA"]
    done = lead_b.post("/agent/staff/agent/mfa-reset", {"csrf_token": lead_b.csrf(form)})
    assert done.status == 200 and "已重置 agent 的两步验证" in done.text
    assert _mfa_of(aws, "agent") == []
    records = [r for r in repay.access_log(agent.user_id) if r["event"] == "staff_mfa_reset"]
    assert len(records) == 1 and records[0]["staff_id"] == lead.user_id
    # the member's next sign-in enrols a new authenticator; their old token no longer reaches the API
    page = browser_for().sign_in("agent", "agent", demo_password, second_factor=False)
    assert 'data-testid="mfa-enrol"' in page.text
    assert api.get("/support/queues/frontline", token=agent.token).status == 401
    # the API: unknown member 404, one's own 403, a wallet user is no staff member (404)
    assert api.post("/support/staff/nobody/mfa-reset", token=lead.token).status == 404
    assert api.post("/support/staff/lead/mfa-reset", token=lead.token).status == 403
    answer = api.post("/support/staff/agent/mfa-reset", token=lead.token)
    assert answer.status == 200 and answer.json["had_authenticator"] is False


def test_a_pool_that_asks_mfa_setup_enrols_through_the_challenge_session(aws, browser_for, demo_password,
                                                                          monkeypatch):
    """Cognito's MFA_SETUP (MFA ON in a pool, or after a new password there), which moto never answers to a password
    sign-in: the adapter's calls give the recorded answers (their own wiring is test_staff_mfa_recorded.py's), with
    Cognito's check of the code — a real 256-bit secret, the code by pyotp at the application's clock."""
    from chalicelib.web import cognito
    names = ("initiate_auth_mfa_setup", "associate_software_token_session", "verify_software_token_session")
    recorded = {n: json.loads((FIXTURES / f"{n}.json").read_text(encoding="utf-8")) for n in names}
    secret = recorded["associate_software_token_session"]["SecretCode"]
    local.ensure_user(aws, "wang.fang", role="support", mfa=False)
    real_sign_in, asked = cognito.sign_in, []

    def sign_in(username, password):
        real_sign_in(username, password)   # the password is still Cognito's to check
        return cognito.SetupRequired(username, recorded["initiate_auth_mfa_setup"]["Session"])

    def verify(code, *, access_token=None, challenge_session=None):
        asked.append(challenge_session)
        if code != local.totp_code(secret):
            raise cognito.WrongCode("EnableSoftwareTokenMFAException")
        return recorded["verify_software_token_session"]["Session"]

    def finish_setup(username, challenge_session):
        asked.append(challenge_session)
        return cognito.Tokens(id_token=local.ensure_user(aws, username, role="support"), refresh_token=None)

    monkeypatch.setattr(cognito, "sign_in", sign_in)
    monkeypatch.setattr(cognito, "associate", lambda **kw: (secret, recorded["associate_software_token_session"]
                                                             ["Session"]))
    monkeypatch.setattr(cognito, "verify", verify)
    monkeypatch.setattr(cognito, "finish_setup", finish_setup)
    b = browser_for()
    page = b.sign_in("agent", "wang.fang", demo_password, second_factor=False)
    assert 'data-testid="mfa-setup"' in page.text and secret[:4] in page.text
    assert b.enter_code("agent", wrong_code_for(secret)).status == 401 and "rd_session" not in b.jar
    done = b.enter_code("agent", local.totp_code(secret))
    assert done.status == 303 and _session_item(b)["mfa"] == "totp"
    # each call carried the session the one before answered
    assert asked == [recorded["associate_software_token_session"]["Session"]] * 2 + [
        recorded["verify_software_token_session"]["Session"]]


def wrong_code_for(secret: str) -> str:
    return f"{(int(local.totp_code(secret)) + 1) % 1_000_000:06d}"
