"""Search signals: what people did after a search, as the learned model reads them.

A signal is ``{"query", "slug", "kind", "at"}`` (optionally ``"count"``): the query text as
typed, the article it concerns, and what happened —

- ``click``: a result was opened from that search (``/help/articles/{slug}?q=…`` or
  ``POST /kb/signals``);
- ``helpful`` / ``not_helpful``: a vote on that article right after that search;
- ``case``: a case was opened after that search (the article did not solve it); exported as
  ``not_helpful`` so the build needs only the three kinds of issue #13's file format.

No personal data: no user id, no IP, no session; a query that looks like a phone, card or ID
number (or an e-mail address) is never stored (``looks_personal``). Plain rules only: the
DynamoDB side is in ``store.py``, the use cases in ``service.py``, the model in ``learned.py``.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from chalicelib.search import analyzer as analysis

KINDS = ("click", "helpful", "not_helpful", "case")
EXPORTED_KIND = {"click": "click", "helpful": "helpful", "not_helpful": "not_helpful", "case": "not_helpful"}
# How much one signal says about (query → article): opening it is a hint, a vote is a statement.
KIND_WEIGHT = {"click": 1.0, "helpful": 2.0, "not_helpful": -2.0}
MAX_QUERY_CHARS = 200

# Six or more digits in a row once spaces, dashes and dots are left out: a phone (11), a bank
# card (16–19), an ID card (18, possibly ending in X), an SMS code (6). Official short numbers
# (95188, 12363) have five.
_LONG_NUMBER = re.compile(r"\d{6,}|\d{5,}x", re.I)
_SEPARATORS = re.compile(r"[\s\-_.·()（）+]")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


def looks_personal(query: str) -> bool:
    """Whether a query may hold a phone, card or ID number or an e-mail address (never stored)."""
    text = analysis.normalize(query)
    return bool(_EMAIL.search(text) or _LONG_NUMBER.search(_SEPARATORS.sub("", text)))


def query_key(query: str) -> str:
    """The form under which queries count as the same: normalised, punctuation and spaces out."""
    text = analysis.normalize(query)
    return "".join(c for c in text if c.isalnum())


@dataclass(frozen=True)
class Signal:
    query: str
    slug: str
    kind: str  # click | helpful | not_helpful
    at: str = ""
    count: int = 1

    def to_json(self) -> str:
        record: dict[str, str | int] = {"query": self.query, "slug": self.slug, "kind": self.kind, "at": self.at}
        if self.count != 1:
            record["count"] = self.count
        return json.dumps(record, ensure_ascii=False)


class SignalError(ValueError):
    """A signals file line that cannot be read (the build stops and names it)."""


def valid(query: str, slug: str, kind: str) -> bool:
    """Whether a signal may be stored: a known kind, a real query, nothing personal."""
    return (kind in KINDS and bool(slug) and bool(query.strip()) and len(query) <= MAX_QUERY_CHARS
            and not looks_personal(query))


def read_signals(lines: Iterable[str], origin: str = "<signals>") -> Iterator[Signal]:
    """Parse JSON lines; a personal-looking query is skipped here too (files made elsewhere)."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            query, slug, kind = str(record["query"]), str(record["slug"]), str(record["kind"])
            count = int(record.get("count", 1))
        except (ValueError, KeyError, TypeError) as exc:
            raise SignalError(f"{origin}:{number}: not a signal ({exc})") from None
        if kind not in EXPORTED_KIND:
            raise SignalError(f"{origin}:{number}: kind must be one of click, helpful, not_helpful, got {kind!r}")
        if count < 1 or not valid(query, slug, kind):
            continue
        yield Signal(query.strip(), slug, EXPORTED_KIND[kind], str(record.get("at") or ""), count)
