"""A user's verified e-mail address: it lives in Cognito only (``email`` with ``email_verified`` = true), never in
our tables or logs. An address Cognito has not verified counts as none. ``use(InMemoryMailbox)`` for the fast tests."""
from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.adapters import cognito_users
from chalicelib.adapters.backends import Backend


def verified_email(username: str) -> str | None:
    memory = twin()
    if memory is not None:
        return memory.verified.get(username)
    attributes = cognito_users.attributes(username) or {}
    if attributes.get("email_verified") != "true":
        return None
    return (attributes.get("email") or "").lower() or None


@dataclass
class InMemoryMailbox:
    verified: dict[str, str] = field(default_factory=dict)   # username → verified address


twin = Backend(None)
use = twin.use
