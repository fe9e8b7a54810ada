"""The conversations store as the use cases see it: conversations in and out, writes added to a unit of work.

DynamoDB (``dynamo_store.py``) by default; ``use(InMemoryConversations())`` (``memory_store.py``) puts the
in-memory twin in its place, same interface, same conditions. Element name: ``conversation`` — new only on
absence (version 0 → 1), changed only over the version read; else ``Conflict``.
"""
from __future__ import annotations

from chalicelib.adapters import unit_of_work
from chalicelib.adapters.backends import Backend
from chalicelib.adapters.unit_of_work import Conflict
from chalicelib.assistant import dynamo_store
from chalicelib.assistant.model import Conversation

__all__ = ["Conflict", "begin", "use", "backend", "get", "latest", "save"]

backend = Backend(dynamo_store)
use = backend.use


def begin() -> unit_of_work.UnitOfWork:
    return unit_of_work.begin()


def get(user_id: str, conversation_id: str) -> Conversation | None:
    """The user's conversation (None: no such conversation *of this user*)."""
    return backend().get(user_id, conversation_id)


def latest(user_id: str) -> Conversation | None:
    """The user's newest conversation (ids sort by start time; one Query, newest first, limit 1)."""
    return backend().latest(user_id)


def save(uow: unit_of_work.UnitOfWork, conversation: Conversation, *, expires_at: int) -> None:
    """Write ``conversation`` (its ``version`` already the new one) over ``version - 1``."""
    backend().save(uow, conversation, expires_at=expires_at)
