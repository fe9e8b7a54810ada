"""The in-memory twin of the conversations store (``store.use(InMemoryConversations())``): same interface,
same conditions (new only on absence, changed only over the version read)."""
from __future__ import annotations

from chalicelib.adapters.unit_of_work import Change
from chalicelib.assistant import codec
from chalicelib.assistant.model import Conversation


class InMemoryConversations:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict] = {}     # (user, id) → codec data + expires_at

    def get(self, user_id: str, conversation_id: str) -> Conversation | None:
        found = self.items.get((user_id, conversation_id))
        return codec.from_data(found) if found else None

    def latest(self, user_id: str) -> Conversation | None:
        mine = sorted(cid for uid, cid in self.items if uid == user_id)
        return self.get(user_id, mine[-1]) if mine else None

    def save(self, uow, conversation: Conversation, *, expires_at: int) -> None:
        key = (conversation.user_id, conversation.id)
        previous = conversation.version - 1

        def holds() -> bool:
            current = self.items.get(key)
            return current is None if previous == 0 else current is not None and current["version"] == previous

        def apply() -> None:
            self.items[key] = {**codec.to_data(conversation), "expires_at": expires_at}

        uow.add("conversation", Change(holds, apply))
