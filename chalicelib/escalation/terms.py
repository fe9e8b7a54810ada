"""The words a 工单 is found by (search): the knowledge base's analysis (``search.service.words``) of the
description when the case is opened and of every conversation message (user and support) as it is added.
Internal notes are not indexed: a word from a note must not find a 工单 for anyone reading the results.

Each word is one item ``TERM#<word>`` / ``<created_at>#<ref>`` written in the same transaction as the
case (so a word never finds a 工单 that was not written, and a written one is always found). A write
indexes at most ``MAX_TERMS_PER_WRITE`` distinct words (a DynamoDB transaction holds 100 elements)."""
from __future__ import annotations

from collections.abc import Sequence

from chalicelib.escalation.model import Case

MAX_TERMS_PER_WRITE = 40
MAX_QUERY_WORDS = 5


def _cjk(word: str) -> bool:
    return all("\u4e00" <= ch <= "\u9fff" for ch in word)


def of_text(text: str) -> list[str]:
    """A text's words as a query reads them (each must be found)."""
    from chalicelib.search import service as search  # cold start: the analyzer loads on the first write/search
    return [w for w in search.words(text) if len(w.encode()) <= 200]


def indexed(text: str) -> list[str]:
    """A text's words as they are indexed: each word, and the two-character pieces of a longer Chinese word
    (「提交银行」 is also found by 「银行」)."""
    found: dict[str, None] = {}
    for word in of_text(text):
        found[word] = None
        if len(word) > 2 and _cjk(word):
            found.update(dict.fromkeys(word[i:i + 2] for i in range(len(word) - 1)))
    return list(found)


def for_write(case: Case, *, new: bool, conversation: Sequence[tuple[str, dict]], room: int) -> list[str]:
    """The words a write adds to the index: the description of a new case, the text of its MSG entries."""
    texts = [case.description] if new else []
    texts += [entry.get("text") or "" for kind, entry in conversation if kind == "MSG"]
    found: dict[str, None] = {}
    for text in texts:
        if text.strip():
            found.update(dict.fromkeys(indexed(text)))
    return list(found)[:max(0, min(MAX_TERMS_PER_WRITE, room))]


def sort_key(case: Case) -> str:
    return f"{case.created_at}#{case.case_id}"
