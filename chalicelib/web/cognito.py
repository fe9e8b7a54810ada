"""Signing in with a user name and password against the Cognito user pool (the same calls locally, where
moto serves them, and on AWS): ``InitiateAuth`` with ``USER_PASSWORD_AUTH``, the ``NEW_PASSWORD_REQUIRED``
challenge answered with ``RespondToAuthChallenge``, and ``REFRESH_TOKEN_AUTH``.

Two-factor sign-in (TOTP, the pool's software-token MFA; docs/front-doors.md "Two-factor sign-in for staff"):
the ``SOFTWARE_TOKEN_MFA`` and ``MFA_SETUP`` challenges, ``AssociateSoftwareToken`` / ``VerifySoftwareToken`` /
``SetUserMFAPreference`` (with the user's own access token, or the challenge session). These are the pool's
public operations too. A lead's reset of a staff member's MFA (``AdminSetUserMFAPreference``,
``AdminUserGlobalSignOut``) and the staff lookup (``AdminGetUser``, ``AdminListGroupsForUser``) are admin
operations the function's role is granted on this pool only (devtools/package.py ``data_policy``).
"""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.adapters import aws
from chalicelib.config import settings


@dataclass(frozen=True)
class Tokens:
    id_token: str
    refresh_token: str | None
    access_token: str | None = None   # needed only to enrol an authenticator (AssociateSoftwareToken)


@dataclass(frozen=True)
class NewPasswordRequired:
    """The user signed in with a temporary password and must choose a new one first."""
    username: str
    challenge_session: str   # Cognito's opaque challenge session (3 minutes)


@dataclass(frozen=True)
class CodeRequired:
    """The user has an authenticator: the pool asks for its 6-digit code (``SOFTWARE_TOKEN_MFA``)."""
    username: str
    challenge_session: str


@dataclass(frozen=True)
class SetupRequired:
    """The pool requires an authenticator the user has not enrolled yet (``MFA_SETUP``; with ``MfaConfiguration:
    ON``, or after a new password): enrol with the challenge session, then answer ``MFA_SETUP``."""
    username: str
    challenge_session: str


Outcome = Tokens | NewPasswordRequired | CodeRequired | SetupRequired


class SignInFailed(Exception):
    """Wrong name or password (Cognito says the same for an unknown user), or a password Cognito refused."""


class WrongCode(Exception):
    """A 6-digit code the pool did not accept (the challenge session may still be good for another try)."""


class ChallengeExpired(Exception):
    """The challenge session is used up or past its 3 minutes: sign in with the password again."""


def _idp():
    return aws.client("cognito-idp")


def _asked(call, refused: tuple[str, ...]) -> dict:
    """Cognito's answer to ``call()``; an error whose code is one of ``refused`` is a ``SignInFailed``."""
    try:
        return call()
    except aws.ClientError as exc:
        if exc.response["Error"]["Code"] in refused:
            raise SignInFailed(exc.response["Error"]["Code"]) from None
        raise


def _tokens(result: dict, refresh_token: str | None = None) -> Tokens:
    auth = result["AuthenticationResult"]
    return Tokens(id_token=auth["IdToken"], refresh_token=auth.get("RefreshToken") or refresh_token,
                  access_token=auth.get("AccessToken"))


def _outcome(username: str, result: dict) -> Outcome:
    """Tokens, or the challenge the pool asks next (any other challenge is refused as a failed sign-in)."""
    challenge = result.get("ChallengeName")
    if challenge == "NEW_PASSWORD_REQUIRED":
        return NewPasswordRequired(username=username, challenge_session=result["Session"])
    if challenge == "SOFTWARE_TOKEN_MFA":
        return CodeRequired(username=username, challenge_session=result["Session"])
    if challenge == "MFA_SETUP" and "SOFTWARE_TOKEN_MFA" in str(
            (result.get("ChallengeParameters") or {}).get("MFAS_CAN_SETUP", "SOFTWARE_TOKEN_MFA")):
        return SetupRequired(username=username, challenge_session=result["Session"])
    if "AuthenticationResult" not in result:  # SMS_MFA, SELECT_MFA_TYPE …: not offered by this pool
        raise SignInFailed(str(challenge))
    return _tokens(result)


def sign_in(username: str, password: str) -> Outcome:
    result = _asked(lambda: _idp().initiate_auth(
        ClientId=settings().user_pool_client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password}),
        refused=("NotAuthorizedException", "UserNotFoundException", "PasswordResetRequiredException",
                 "UserNotConfirmedException", "InvalidParameterException"))
    return _outcome(username, result)


def set_new_password(username: str, challenge_session: str, new_password: str) -> Outcome:
    return _outcome(username, _asked(lambda: _idp().respond_to_auth_challenge(
        ClientId=settings().user_pool_client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=challenge_session,
        ChallengeResponses={"USERNAME": username, "NEW_PASSWORD": new_password}),
        refused=("InvalidPasswordException", "NotAuthorizedException", "CodeMismatchException",
                 "ExpiredCodeException", "InvalidParameterException")))


def refresh(refresh_token: str) -> Tokens:
    """A new ID token for a session whose token expired (the refresh token stays the same)."""
    try:
        result = _idp().initiate_auth(ClientId=settings().user_pool_client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                      AuthParameters={"REFRESH_TOKEN": refresh_token})
    except aws.ClientError as exc:
        if exc.response["Error"]["Code"] in ("NotAuthorizedException", "InvalidParameterException"):
            raise SignInFailed(exc.response["Error"]["Code"]) from None
        raise
    return _tokens(result, refresh_token)


# ---------------------------------------------------------------- two-factor sign-in (TOTP)
_WRONG_CODE = ("CodeMismatchException", "EnableSoftwareTokenMFAException", "InvalidParameterException")
_EXPIRED = ("NotAuthorizedException", "ExpiredCodeException", "ResourceNotFoundException")


def _challenged(call) -> dict:
    """Cognito's answer to a code; ``WrongCode`` for a code it refused, ``ChallengeExpired`` for a session it no
    longer knows (used, or past its 3 minutes)."""
    try:
        return call()
    except aws.ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code in _WRONG_CODE:
            raise WrongCode(code) from None
        if code in _EXPIRED:
            raise ChallengeExpired(code) from None
        raise


def answer_code(username: str, challenge_session: str, code: str) -> Outcome:
    """The ``SOFTWARE_TOKEN_MFA`` challenge answered with the authenticator's code."""
    return _outcome(username, _challenged(lambda: _idp().respond_to_auth_challenge(
        ClientId=settings().user_pool_client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=challenge_session,
        ChallengeResponses={"USERNAME": username, "SOFTWARE_TOKEN_MFA_CODE": code})))


def associate(*, access_token: str | None = None, challenge_session: str | None = None) -> tuple[str, str | None]:
    """A new authenticator secret for the user (base32) and, when enrolling within a challenge, the next session."""
    known = {"AccessToken": access_token} if access_token else {"Session": challenge_session or ""}
    result = _challenged(lambda: _idp().associate_software_token(**known))
    return result["SecretCode"], result.get("Session")


def verify(code: str, *, access_token: str | None = None, challenge_session: str | None = None) -> str | None:
    """The first code from the new authenticator (``VerifySoftwareToken``); the next challenge session, if any."""
    known = {"AccessToken": access_token} if access_token else {"Session": challenge_session or ""}
    result = _challenged(lambda: _idp().verify_software_token(UserCode=code, FriendlyDeviceName="RepayDesk",
                                                              **known))
    if result.get("Status") != "SUCCESS":
        raise WrongCode(str(result.get("Status")))
    return result.get("Session")


def prefer_totp(access_token: str) -> None:
    """Software-token MFA on and preferred: from now on every sign-in asks for a code."""
    _challenged(lambda: _idp().set_user_mfa_preference(
        AccessToken=access_token, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}))


def finish_setup(username: str, challenge_session: str) -> Outcome:
    """The ``MFA_SETUP`` challenge answered once the authenticator is verified."""
    return _outcome(username, _challenged(lambda: _idp().respond_to_auth_challenge(
        ClientId=settings().user_pool_client_id, ChallengeName="MFA_SETUP", Session=challenge_session,
        ChallengeResponses={"USERNAME": username})))


# ---------------------------------------------------------------- a lead's reset (admin operations)
@dataclass(frozen=True)
class PoolUser:
    username: str
    sub: str
    groups: frozenset[str]
    totp: bool            # software-token MFA enabled


def _admin_user(username: str) -> dict | None:
    try:
        return _idp().admin_get_user(UserPoolId=settings().user_pool_id, Username=username)
    except aws.ClientError as exc:
        if exc.response["Error"]["Code"] == "UserNotFoundException":
            return None
        raise


def _has_totp(user: dict) -> bool:
    return "SOFTWARE_TOKEN_MFA" in (user.get("UserMFASettingList") or [])


def pool_user(username: str) -> PoolUser | None:
    """A user of the pool with their groups and whether an authenticator is enrolled; None if there is none."""
    idp, pool = _idp(), settings().user_pool_id
    user = _admin_user(username)
    if user is None:
        return None
    groups = idp.admin_list_groups_for_user(UserPoolId=pool, Username=user["Username"], Limit=60)["Groups"]
    sub = next((a["Value"] for a in user.get("UserAttributes", []) if a["Name"] == "sub"), "")
    return PoolUser(username=user["Username"], sub=sub, groups=frozenset(g["GroupName"] for g in groups),
                    totp=_has_totp(user))


# The API's bearer tokens (routes/auth.py): a staff account's token is accepted only while the account has an
# authenticator enrolled. Cognito then asks the code at every sign-in (also ADMIN_USER_PASSWORD_AUTH and refresh
# tokens issued after enrolment), so such a token was issued after a second factor. Enrolled accounts are
# remembered per container for ENROLLED_CACHE_SECONDS (the authorizer's own cache is as long); a reset forgets.
ENROLLED_CACHE_SECONDS = 300
_enrolled: dict[tuple[str, str], float] = {}


def totp_enrolled(username: str) -> bool:
    import time
    key = (settings().user_pool_id, username)
    if _enrolled.get(key, 0.0) > time.monotonic():
        return True
    user = _admin_user(username)
    if user is None or not _has_totp(user):
        return False
    _enrolled[key] = time.monotonic() + ENROLLED_CACHE_SECONDS
    return True


def reset_totp(username: str) -> None:
    """Software-token MFA off (the next sign-in enrols a new authenticator) and every refresh token revoked (the
    member's open sessions end when their hour-long ID token does)."""
    idp, pool = _idp(), settings().user_pool_id
    idp.admin_set_user_mfa_preference(UserPoolId=pool, Username=username,
                                      SoftwareTokenMfaSettings={"Enabled": False, "PreferredMfa": False})
    idp.admin_user_global_sign_out(UserPoolId=pool, Username=username)
    _enrolled.pop((pool, username), None)
