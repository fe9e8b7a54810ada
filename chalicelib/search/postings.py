"""The postings interface between the scorer (``index.py``) and the stored index, and its Whoosh reader.

The scorer needs little from an index: per (field, term) the documents and term counts, the
document frequency, per-field document lengths and their total, the documents of an ``ID``
value (a category, a slug) and a document's stored fields. ``Postings`` names exactly that;
``WhooshPostings`` answers it from the Whoosh segment the build writes, through Whoosh's public
reader API. Another store (a test double, another on-disk format) only has to answer the same
eight questions.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Protocol


class Postings(Protocol):
    doc_count: int  # documents in the index; docnums are 0 … doc_count - 1

    def frequencies(self, field: str, term: str) -> Iterable[tuple[int, int]] | None:
        """``(docnum, count)`` of every document holding ``term`` in ``field``, ascending;
        ``None`` for a term the index does not hold."""

    def doc_frequency(self, field: str, term: str) -> int:
        """How many documents hold ``term`` in ``field``."""

    def doc_length(self, docnum: int, field: str) -> int:
        """Number of terms of ``field`` in one document, as the index stores it (0 if none)."""

    def total_length(self, field: str) -> int:
        """Number of terms of ``field`` over all documents."""

    def docs(self, field: str, value: str) -> frozenset[int]:
        """The documents whose ``ID`` field is ``value`` (empty if none)."""

    def first_doc(self, field: str, value: str) -> int | None:
        """The first document whose ``ID`` field is ``value``, if any."""

    def stored(self, docnum: int) -> dict:
        """One document's stored fields."""


def open_postings(index_dir: str | Path) -> Postings:
    """The built index in ``index_dir``, read-only."""
    return WhooshPostings(index_dir)


class WhooshPostings:
    """``Postings`` over a Whoosh index (the build's one segment), opened read-only."""

    def __init__(self, index_dir: str | Path):
        from chalicelib.private_hooks import import_whoosh_reader

        import_whoosh_reader()  # without asyncio and urllib.request (~45 ms of a cold start)
        from whoosh import index as whoosh_index
        from whoosh.reading import TermNotFound

        self._missing = TermNotFound
        self._reader = whoosh_index.open_dir(str(index_dir), readonly=True).reader()
        self.doc_count = self._reader.doc_count_all()

    def frequencies(self, field: str, term: str) -> Iterable[tuple[int, int]] | None:
        try:
            matcher = self._reader.postings(field, term)
        except self._missing:
            return None
        return matcher.items_as("frequency")

    def doc_frequency(self, field: str, term: str) -> int:
        return self._reader.doc_frequency(field, term)

    def doc_length(self, docnum: int, field: str) -> int:
        return self._reader.doc_field_length(docnum, field, 0)

    def total_length(self, field: str) -> int:
        return self._reader.field_length(field)

    def docs(self, field: str, value: str) -> frozenset[int]:
        try:
            return frozenset(self._reader.postings(field, value).all_ids())
        except self._missing:
            return frozenset()

    def first_doc(self, field: str, value: str) -> int | None:
        try:
            return self._reader.first_id(field, value)
        except self._missing:
            return None

    def stored(self, docnum: int) -> dict:
        return self._reader.stored_fields(docnum)

