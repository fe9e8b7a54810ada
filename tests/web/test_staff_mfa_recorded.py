"""The two-factor calls of the Cognito adapter (chalicelib/web/cognito.py) against recorded Cognito answers
(tests/web/fixtures/cognito_mfa/), for what moto 5.2.5 does not do: refuse a wrong code, answer ``MFA_SETUP`` to a
password sign-in, expire a challenge session (docs/front-doors.md "What moto does and does not check"). botocore's
Stubber checks every request against the service model and the expected parameters, and every answer against the
documented response shape. No moto, no network: the fast tier."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).parent / "fixtures" / "cognito_mfa"
CLIENT_ID = "3n4b5urk1ft4fl3mg5e62d9ado"


def recorded(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def error(name: str) -> dict:
    return recorded("errors")[name]


@pytest.fixture
def idp(monkeypatch):
    """A real botocore cognito-idp client behind a Stubber, in place of the adapter's client."""
    import boto3
    from botocore.stub import Stubber

    from chalicelib import config
    from chalicelib.kernel import clock
    from chalicelib.web import cognito

    monkeypatch.setenv("USER_POOL_ID", "ap-southeast-1_Recorded1")
    monkeypatch.setenv("USER_POOL_CLIENT_ID", CLIENT_ID)
    config.reload()
    clock.freeze(clock.parse("2026-12-09T02:30:00Z"))
    client = boto3.client("cognito-idp", region_name="ap-southeast-1", aws_access_key_id="x",
                          aws_secret_access_key="x")
    monkeypatch.setattr(cognito, "_idp", lambda: client)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()
    clock.reset()
    config.reload()


def fail(stubber, method: str, name: str, expected: dict) -> None:
    e = error(name)
    stubber.add_client_error(method, service_error_code=e["Code"], service_message=e["Message"],
                             http_status_code=e["Status"], expected_params=expected)


def test_an_enrolled_account_is_asked_its_code_and_a_wrong_one_is_refused_then_the_right_one_signs_in(idp):
    from chalicelib.web import cognito
    from infra import local
    challenge = recorded("initiate_auth_software_token_mfa")
    idp.add_response("initiate_auth", challenge, {
        "ClientId": CLIENT_ID, "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": "agent", "PASSWORD": "Demo-passw0rd!"}})
    secret = recorded("associate_software_token_session")["SecretCode"]
    right = local.totp_code(secret)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    answer = {"ClientId": CLIENT_ID, "ChallengeName": "SOFTWARE_TOKEN_MFA", "Session": challenge["Session"],
              "ChallengeResponses": {"USERNAME": "agent", "SOFTWARE_TOKEN_MFA_CODE": wrong}}
    fail(idp, "respond_to_auth_challenge", "wrong_code_at_sign_in", answer)
    idp.add_response("respond_to_auth_challenge", recorded("respond_tokens"), {
        **answer, "ChallengeResponses": {"USERNAME": "agent", "SOFTWARE_TOKEN_MFA_CODE": right}})

    outcome = cognito.sign_in("agent", "Demo-passw0rd!")
    assert outcome == cognito.CodeRequired(username="agent", challenge_session=challenge["Session"])
    with pytest.raises(cognito.WrongCode):
        cognito.answer_code("agent", outcome.challenge_session, wrong)
    tokens = cognito.answer_code("agent", outcome.challenge_session, right)
    assert isinstance(tokens, cognito.Tokens)
    assert tokens.id_token == recorded("respond_tokens")["AuthenticationResult"]["IdToken"]


def test_a_used_or_expired_challenge_session_means_signing_in_again(idp):
    from chalicelib.web import cognito
    for name in ("session_expired", "session_used"):
        fail(idp, "respond_to_auth_challenge", name, None)
        with pytest.raises(cognito.ChallengeExpired):
            cognito.answer_code("agent", recorded("initiate_auth_software_token_mfa")["Session"], "123456")


def test_mfa_setup_is_enrolled_with_the_challenge_session_and_a_wrong_first_code_is_refused(idp):
    """Cognito's MFA_SETUP (a pool with MFA ON, or after a new password): associate and verify with the challenge
    session, each call answering the next session, and MFA_SETUP answered with the last one."""
    from chalicelib.web import cognito
    from infra import local
    setup = recorded("initiate_auth_mfa_setup")
    associated = recorded("associate_software_token_session")
    verified = recorded("verify_software_token_session")
    idp.add_response("initiate_auth", setup, None)
    outcome = cognito.sign_in("newagent", "Demo-passw0rd!")
    assert outcome == cognito.SetupRequired(username="newagent", challenge_session=setup["Session"])

    idp.add_response("associate_software_token", associated, {"Session": setup["Session"]})
    secret, session = cognito.associate(challenge_session=outcome.challenge_session)
    assert secret == associated["SecretCode"] and session == associated["Session"]

    right = local.totp_code(secret)
    wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"
    fail(idp, "verify_software_token", "wrong_code_at_enrolment",
         {"Session": session, "UserCode": wrong, "FriendlyDeviceName": "RepayDesk"})
    with pytest.raises(cognito.WrongCode):
        cognito.verify(wrong, challenge_session=session)
    idp.add_response("verify_software_token", verified,
                     {"Session": session, "UserCode": right, "FriendlyDeviceName": "RepayDesk"})
    assert cognito.verify(right, challenge_session=session) == verified["Session"]

    idp.add_response("respond_to_auth_challenge", recorded("respond_tokens"), {
        "ClientId": CLIENT_ID, "ChallengeName": "MFA_SETUP", "Session": verified["Session"],
        "ChallengeResponses": {"USERNAME": "newagent"}})
    tokens = cognito.finish_setup("newagent", verified["Session"])
    assert isinstance(tokens, cognito.Tokens) and tokens.access_token


def test_a_challenge_this_pool_does_not_offer_is_a_failed_sign_in(idp):
    from chalicelib.web import cognito
    sms = {"ChallengeName": "SMS_MFA", "ChallengeParameters": {}, "Session": "AYABeSmsChallengeSession0123456789"}
    idp.add_response("initiate_auth", sms, None)
    with pytest.raises(cognito.SignInFailed):
        cognito.sign_in("agent", "Demo-passw0rd!")


def test_the_authenticator_page_shows_the_secret_in_groups_and_as_a_key_uri():
    from chalicelib.web import mfa
    secret = recorded("associate_software_token_session")["SecretCode"]
    grouped = mfa.secret_groups(secret)
    assert grouped.replace(" ", "") == secret and all(len(g) == 4 for g in grouped.split())
    uri = mfa.otpauth_uri("li.na@repaydesk", secret)
    assert uri.startswith("otpauth://totp/RepayDesk%3Ali.na%40repaydesk?secret=" + secret)
    assert "issuer=RepayDesk" in uri and "digits=6" in uri and "period=30" in uri
