"""A conversation ⇄ plain JSON data (what both store twins keep)."""
from __future__ import annotations

from chalicelib.assistant.model import Action, Article, Conversation, Turn


def turn_to_data(turn: Turn) -> dict:
    data: dict = {"at": turn.at, "who": turn.who, "text": turn.text}
    for name in ("intent", "action"):
        if getattr(turn, name):
            data[name] = getattr(turn, name)
    if turn.facts:
        data["facts"] = list(turn.facts)
    if turn.actions:
        data["actions"] = [[a.id, a.label] for a in turn.actions]
    if turn.articles:
        data["articles"] = [[a.slug, a.title] for a in turn.articles]
    return data


def turn_from_data(data: dict) -> Turn:
    return Turn(at=data["at"], who=data["who"], text=data["text"], intent=data.get("intent"),
                action=data.get("action"), facts=tuple(data.get("facts", ())),
                actions=tuple(Action(i, label) for i, label in data.get("actions", ())),
                articles=tuple(Article(s, t) for s, t in data.get("articles", ())))


def to_data(conversation: Conversation) -> dict:
    return {"id": conversation.id, "user_id": conversation.user_id, "started_at": conversation.started_at,
            "version": conversation.version, "turns": [turn_to_data(t) for t in conversation.turns],
            "intents": list(conversation.intents), "clarifying": list(conversation.clarifying),
            "case_id": conversation.case_id, "resolved": conversation.resolved,
            **({"missed": conversation.missed} if conversation.missed else {})}


def from_data(data: dict) -> Conversation:
    return Conversation(id=data["id"], user_id=data["user_id"], started_at=data["started_at"],
                        version=int(data["version"]), turns=tuple(turn_from_data(t) for t in data.get("turns", ())),
                        intents=tuple(data.get("intents", ())), clarifying=tuple(data.get("clarifying", ())),
                        case_id=data.get("case_id"), resolved=bool(data.get("resolved")),
                        missed=int(data.get("missed", 0)))
