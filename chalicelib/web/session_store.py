"""The sessions table (``SESSIONS_TABLE``): browser sessions, known devices, SSO states and two-factor sign-ins in
progress (``MFA#``: the Cognito challenge session or the not-yet-enrolled account's tokens, ``mfa.py``), each
under its own key and expiring by DynamoDB TTL (``expires_at``). ``session.py``, ``sso.py`` and ``mfa.py`` decide;
this module stores. Items are plain dicts of their attributes; keys are made here from an already hashed id
(nothing stored or logged can be turned back into a cookie)."""
from __future__ import annotations

from typing import Any

from chalicelib.adapters import aws
from chalicelib.config import settings


def _table():
    return aws.table(settings().sessions_table)


def _session_key(hashed: str) -> dict:
    return {"pk": f"SESSION#{hashed}", "sk": "SESSION"}


def _device_key(hashed: str) -> dict:
    return {"pk": f"DEVICE#{hashed}", "sk": "DEVICE"}


def _state_key(hashed: str) -> dict:
    return {"pk": f"SSO#{hashed}", "sk": "STATE"}


def _pending_key(hashed: str) -> dict:
    return {"pk": f"MFA#{hashed}", "sk": "PENDING"}


# ---------------------------------------------------------------- the three conditional writes every kind uses
def _create_once(key: dict, attributes: dict[str, Any]) -> None:
    _table().put_item(Item={**key, **attributes}, ConditionExpression="attribute_not_exists(pk)")


def _take_once(key: dict) -> dict[str, Any] | None:
    """The item, deleted in the same call (consumed once: a replay finds None)."""
    try:
        return _table().delete_item(Key=key, ConditionExpression="attribute_exists(pk)",
                                    ReturnValues="ALL_OLD").get("Attributes")
    except aws.ClientError as exc:
        if aws.is_condition_failure(exc):
            return None
        raise


def _update_existing(key: dict, update: str, values: dict[str, Any]) -> bool:
    """Apply ``update`` to the item if it still exists; False when it was ended (deleted or expired) meanwhile."""
    try:
        _table().update_item(Key=key, UpdateExpression=update, ConditionExpression="attribute_exists(pk)",
                             ExpressionAttributeValues=values)
    except aws.ClientError as exc:
        if aws.is_condition_failure(exc):
            return False
        raise
    return True


# ---------------------------------------------------------------- sessions
def create_session(hashed: str, attributes: dict[str, Any]) -> None:
    """A new session item (never over an existing one)."""
    _create_once(_session_key(hashed), attributes)


def get_session(hashed: str) -> dict[str, Any] | None:
    return _table().get_item(Key=_session_key(hashed), ConsistentRead=True).get("Item")


def touch_session(hashed: str, now: int, id_token: str | None) -> bool:
    """Record activity (and a refreshed token); False when the session was ended meanwhile."""
    update = "SET last_seen = :now"
    values: dict[str, Any] = {":now": now}
    if id_token:
        update += ", id_token = :token"
        values[":token"] = id_token
    return _update_existing(_session_key(hashed), update, values)


def delete_session(hashed: str) -> None:
    _table().delete_item(Key=_session_key(hashed))


# ---------------------------------------------------------------- known devices
def put_device(hashed: str, attributes: dict[str, Any]) -> None:
    _table().put_item(Item={**_device_key(hashed), **attributes})


def get_device(hashed: str) -> dict[str, Any] | None:
    return _table().get_item(Key=_device_key(hashed), ConsistentRead=True).get("Item")


# ---------------------------------------------------------------- SSO states
def create_state(hashed: str, attributes: dict[str, Any]) -> None:
    _create_once(_state_key(hashed), attributes)


def take_state(hashed: str) -> dict[str, Any] | None:
    """The state's item, deleted in the same call (consumed once: a replay finds None)."""
    return _take_once(_state_key(hashed))


# ---------------------------------------------------------------- two-factor sign-ins in progress
def create_pending(hashed: str, attributes: dict[str, Any]) -> None:
    _create_once(_pending_key(hashed), attributes)


def get_pending(hashed: str) -> dict[str, Any] | None:
    return _table().get_item(Key=_pending_key(hashed), ConsistentRead=True).get("Item")


def set_challenge(hashed: str, challenge: str) -> bool:
    """The next Cognito challenge session of a sign-in in progress; False when it ended meanwhile."""
    return _update_existing(_pending_key(hashed), "SET challenge = :c", {":c": challenge})


def take_pending(hashed: str) -> dict[str, Any] | None:
    """The sign-in in progress, deleted in the same call (completed once: a replay finds None)."""
    return _take_once(_pending_key(hashed))
