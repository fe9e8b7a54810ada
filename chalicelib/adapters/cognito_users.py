"""A user's attributes as Cognito holds them (phone number, e-mail address and whether it is verified): the one
``AdminGetUser`` behind ``sms.user_phone`` and ``mailbox.verified_email``. What it returns is never stored or
logged by us."""
from __future__ import annotations

from chalicelib.adapters import aws
from chalicelib.config import settings


def attributes(username: str) -> dict[str, str] | None:
    """The user's attributes by name; None when the user pool has no such user."""
    idp = aws.client("cognito-idp")
    try:
        user = idp.admin_get_user(UserPoolId=settings().user_pool_id, Username=username)
    except idp.exceptions.UserNotFoundException:
        return None
    return {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
