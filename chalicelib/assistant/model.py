"""The assistant's vocabulary: intents (read from ``intents.yaml``), conversations and their turns, replies.

Everything here is a frozen dataclass or a pure rule; no I/O. A conversation is one item in the store
(``store.py``), changed only over the version it was read at.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field

MAX_TEXT = 500            # characters of one message kept and understood (longer: refused, 413-like 400)
MAX_TURNS = 60            # messages in one conversation (user + assistant); then a new conversation
KEEP = dt.timedelta(days=30)   # the conversation's TTL after its last turn
HANDOVER = "handover"     # the action (and intent) that is always one tap away: 转人工
RESOLVED = "resolved"     # "问题已解决": the user says the assistant solved it (resolved without a 工单)

# 12–19 digit runs (spaces or dashes between groups allowed): card numbers never reach the store.
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){11,18}\d(?!\d)")
# mainland mobile numbers (11 digits starting 1[3-9]) are masked too (a card run is masked first)
_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def mask_numbers(text: str) -> str:
    """Card numbers (12–19 digits) keep their last four digits; phone numbers their first three and last four."""
    def card(match: re.Match) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        return "**** " + digits[-4:]

    return mask_phones(_CARD.sub(card, text))


def mask_phones(text: str) -> str:
    """Mobile numbers only (``138****5678``): for an answer that quotes a number back."""
    return _PHONE.sub(lambda m: m.group(0)[:3] + "****" + m.group(0)[-4:], text)


@dataclass(frozen=True)
class Intent:
    id: str
    label: str                          # the button of a clarifying question ("还款失败")
    examples: tuple[str, ...]
    answer: str                         # the general answer (anonymous visitors get this)
    lookup: tuple[str, ...] = ()        # fact providers (``registry.FACTS``) run for a signed-in user
    templates: dict[str, str] = field(default_factory=dict)   # grounded answers a provider may pick, by name
    actions: tuple[str, ...] = ()       # action handlers (``registry.ACTIONS``) offered with the answer
    articles: tuple[str, ...] = ()      # KB slugs shown with the answer
    kind: str = "topic"                 # topic | smalltalk | handover | out_of_scope


@dataclass(frozen=True)
class Action:
    id: str          # "<handler name>" or "<handler name>:<argument>" (``retry_repayment:<repayment id>``)
    label: str

    @property
    def name(self) -> str:
        return self.id.partition(":")[0]

    @property
    def argument(self) -> str:
        return self.id.partition(":")[2]


@dataclass(frozen=True)
class Article:
    slug: str
    title: str


@dataclass(frozen=True)
class Reply:
    text: str
    facts: tuple[str, ...] = ()
    actions: tuple[Action, ...] = ()
    articles: tuple[Article, ...] = ()
    handover_case_id: str | None = None
    escalate: str | None = None         # the flow failed (``failed.py``): why, in the words the 工单 records


@dataclass(frozen=True)
class Turn:
    at: str                          # ISO instant
    who: str                         # "user" | "assistant"
    text: str                        # masked before it is stored
    intent: str | None = None        # what the user's message was understood as / what the answer was about
    action: str | None = None        # the action a user's turn tapped
    facts: tuple[str, ...] = ()
    actions: tuple[Action, ...] = ()
    articles: tuple[Article, ...] = ()


@dataclass(frozen=True)
class Conversation:
    id: str
    user_id: str
    started_at: str
    turns: tuple[Turn, ...] = ()
    version: int = 0
    intents: tuple[str, ...] = ()            # every intent answered, in order (what the assistant already tried)
    clarifying: tuple[str, ...] = ()         # intents offered by a pending clarifying question
    case_id: str | None = None               # the 工单 a handover opened
    resolved: bool = False
    missed: int = 0                          # messages in a row the assistant did not understand (``failed.py``)

    @property
    def offered(self) -> frozenset[str]:
        """The action ids the last answer offered: only those may be tapped now."""
        for turn in reversed(self.turns):
            if turn.who == "assistant":
                return frozenset(a.id for a in turn.actions)
        return frozenset()

    def add(self, *turns: Turn, **changes) -> Conversation:
        return dataclasses.replace(self, turns=self.turns + turns, version=self.version + 1, **changes)

    @property
    def full(self) -> bool:
        return len(self.turns) + 2 > MAX_TURNS
