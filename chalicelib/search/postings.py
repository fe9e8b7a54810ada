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
        whoosh_index = _whoosh_index_module()
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


def _whoosh_index_module():
    """``whoosh.index``, with Whoosh's reader imported without asyncio and urllib.request.

    Two of Whoosh-Reloaded's imports cost a cold start ~45 ms for nothing a search uses:

    - ``cached_property`` (one property, ``SegmentReader.deleted_docs_set``) comes from the PyPI
      package of that name, which imports asyncio (~30 ms) only to support coroutines; the
      standard library's ``functools.cached_property`` behaves the same for a plain method.
    - ``whoosh.compat`` imports ``urllib.request.urlretrieve`` (~13 ms: http.client, ssl,
      email), which no Whoosh module calls; the stand-in imports the real one if it ever is.

    The stand-ins are in ``sys.modules`` only while ``whoosh.reading`` is first imported;
    afterwards the real modules are importable as before. ``urllib.request`` is a standard-library
    module another thread could import in that moment (boto3 does), so it is stood in only while
    this is the process's only thread — as in a Lambda cold start, where the first search opens
    the index before anything else runs; otherwise Whoosh imports the real one.
    """
    import sys
    import threading

    if "whoosh.reading" not in sys.modules:
        import functools
        import types

        def urlretrieve(*args, **kwargs):
            from urllib.request import urlretrieve as real

            return real(*args, **kwargs)

        wanted = {"cached_property": ("cached_property", functools.cached_property)}
        if threading.active_count() == 1:
            wanted["urllib.request"] = ("urlretrieve", urlretrieve)
        stand_ins = {}
        for name, (attribute, value) in wanted.items():
            if name not in sys.modules:
                stand_ins[name] = types.ModuleType(name, f"stand-in for whoosh.reading's import of {attribute}")
                setattr(stand_ins[name], attribute, value)
        sys.modules.update(stand_ins)
        try:
            import whoosh.reading  # noqa: F401
        finally:
            for name, stand_in in stand_ins.items():
                if sys.modules.get(name) is stand_in:
                    del sys.modules[name]
    from whoosh import index as whoosh_index

    return whoosh_index
