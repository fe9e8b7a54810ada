"""Signing in with a user name and password against the Cognito user pool (the same calls locally, where
moto serves them, and on AWS): ``InitiateAuth`` with ``USER_PASSWORD_AUTH``, the ``NEW_PASSWORD_REQUIRED``
challenge answered with ``RespondToAuthChallenge``, and ``REFRESH_TOKEN_AUTH``.

These are the pool's public (unauthenticated) operations: the function's role needs no permission for them.
"""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.adapters import aws
from chalicelib.config import settings


@dataclass(frozen=True)
class Tokens:
    id_token: str
    refresh_token: str | None


@dataclass(frozen=True)
class NewPasswordRequired:
    """The user signed in with a temporary password and must choose a new one first."""
    username: str
    challenge_session: str   # Cognito's opaque challenge session (3 minutes)


class SignInFailed(Exception):
    """Wrong name or password (Cognito says the same for an unknown user), or a password Cognito refused."""


def _idp():
    return aws.client("cognito-idp")


def _tokens(result: dict, refresh_token: str | None = None) -> Tokens:
    auth = result["AuthenticationResult"]
    return Tokens(id_token=auth["IdToken"], refresh_token=auth.get("RefreshToken") or refresh_token)


def _asked(call, refused: tuple[str, ...]) -> dict:
    """Cognito's answer to ``call()``; an error whose code is one of ``refused`` is a ``SignInFailed``."""
    try:
        return call()
    except aws.ClientError as exc:
        if exc.response["Error"]["Code"] in refused:
            raise SignInFailed(exc.response["Error"]["Code"]) from None
        raise


def _signed_in(result: dict) -> Tokens:
    if "AuthenticationResult" not in result:  # another challenge (MFA…) this demo does not handle
        raise SignInFailed(str(result.get("ChallengeName")))
    return _tokens(result)


def sign_in(username: str, password: str) -> Tokens | NewPasswordRequired:
    result = _asked(lambda: _idp().initiate_auth(
        ClientId=settings().user_pool_client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password}),
        refused=("NotAuthorizedException", "UserNotFoundException", "PasswordResetRequiredException",
                 "UserNotConfirmedException", "InvalidParameterException"))
    if result.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
        return NewPasswordRequired(username=username, challenge_session=result["Session"])
    return _signed_in(result)


def set_new_password(username: str, challenge_session: str, new_password: str) -> Tokens:
    return _signed_in(_asked(lambda: _idp().respond_to_auth_challenge(
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
