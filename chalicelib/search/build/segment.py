"""A Whoosh segment writer for pre-counted terms: the same files as Whoosh's own, much faster.

Whoosh's ``SegmentWriter`` sends every posting — ~250–400 per article here, 3–4 million for
10,000 articles — one by one through a sorting pool (a tuple per posting, size bookkeeping),
then through ``FieldWriter.add_postings``, which looks the document's field length up in the
length column file per posting and hands it to ``W3PostingsWriter.add_posting`` (four type
asserts per posting). That was ~10 µs a posting, most of the build.

``CountedSegmentWriter`` takes the ``CountedText`` fields as finished postings (per term:
ascending docnums and counts, as the build's workers produce them) and at commit writes each
term a block (128 postings) at a time through a subclass of Whoosh's ``W3PostingsWriter`` —
the same blocks, term infos, length bytes and statistics as the stock writer (the build's
segment files are byte-identical to it). Other indexed fields (the ``ID`` fields) and all
stored fields, lengths and columns go through Whoosh's code unchanged. What this takes of
Whoosh's writer internals comes through ``chalicelib.private_hooks.whoosh_segment_writer_base``
(pinned to the Whoosh version it was written for); this module names none of them.
"""
from __future__ import annotations

import os
import traceback
from collections.abc import Mapping, Sequence
from itertools import groupby

from whoosh.formats import Existence, Frequency
from whoosh.system import pack_uint
from whoosh.util.numeric import byte_to_length, length_to_byte

from chalicelib.private_hooks import whoosh_segment_writer_base


class CountedSegmentWriter(whoosh_segment_writer_base()):  # type: ignore[misc]  # Whoosh's writer, chosen at run time
    """A ``SegmentWriter`` that takes fields' postings ready-made.

    ``add_postings(field, {term: (docnums, counts)}, lengths)`` for the ``CountedText``
    fields (and optionally ``ID`` fields), then ``add_document(**stored_and_other_fields)``
    per document in docnum order, then ``commit()``. ``write_postings(background=True)``,
    once every indexed field's postings are given, writes the terms and postings files in a
    forked process while this one adds the documents' stored fields. Only what this
    project's schema uses is supported: no boosts, vectors or spelling fields.
    """

    def __init__(self, ix, **kwargs):
        super().__init__(ix, **kwargs)
        self._postings: dict[str, Mapping[str, tuple[Sequence[int], Sequence[int]]]] = {}
        self._lengths: dict[str, Sequence[int]] = {}
        self._postings_done = False
        self._child: int | None = None

    def add_postings(self, name: str, postings: Mapping[str, tuple[Sequence[int], Sequence[int]]],
                     lengths: Sequence[int] | None = None) -> None:
        """Every posting of one field: term → (ascending docnums, counts); ``lengths``: per
        docnum, the document's number of terms in the field (scorable fields)."""
        field = self.schema[name]
        if not isinstance(field.format, (Frequency, Existence)) or field.vector or field.separate_spelling():
            raise ValueError(f"{name}: only frequency or existence postings can be given")
        if field.scorable and lengths is None:
            raise ValueError(f"{name}: a scorable field needs its per-document lengths")
        if self._postings_done:
            raise ValueError("postings are already written")
        self._postings[name] = postings
        self._lengths[name] = lengths if field.scorable and lengths is not None else ()  # (scorable: given)

    def write_postings(self, background: bool = True) -> None:
        """Write the terms and postings files now (in a forked process if ``background`` and
        the platform forks) rather than at commit."""
        missing = {name for name, field in self.schema.items() if field.indexed} - set(self._postings)
        if missing:
            raise ValueError(f"no postings given for {sorted(missing)}")
        writer = self.fieldwriter
        if background and hasattr(os, "fork"):
            # Nothing buffered may be written twice: the child inherits the open files.
            for inherited in self.postings_files():
                inherited.flush()
            pid = os.fork()
            if pid == 0:  # the child: write, close, leave without running the parent's cleanup
                try:
                    self._write_given_fields()
                    writer.close()
                except BaseException:
                    traceback.print_exc()
                    os._exit(1)
                os._exit(0)
            self._child = pid
            writer.is_closed = True  # the child owns the files now: this process never writes them
        else:
            self._write_given_fields()
            writer.close()
        self._postings_done = True

    def add_document(self, **fields):
        """``SegmentWriter.add_document`` minus boosts, vectors and spelling; fields whose
        postings were given are only stored (if stored) and their lengths recorded."""
        writer = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        names = sorted({name for name in fields if not name.startswith("_")} | set(self._postings))
        self.check_document(names)
        writer.start_doc(docnum)
        try:
            for name in names:
                field = schema[name]
                value = fields.get(name)
                if name in self._postings:
                    lengths = self._lengths[name]
                    writer.add_field(name, field, value if field.stored else None, lengths[docnum] if lengths else 0)
                    continue
                if value is None:
                    continue
                if field.vector or field.separate_spelling():
                    raise NotImplementedError(f"{name}: vectors and spelling fields are not supported")
                if self._postings_done and field.indexed:
                    raise ValueError(f"{name}: postings are already written")
                length = 0
                if field.indexed:
                    for tbytes, freq, weight, vbytes in field.index(value):
                        if field.scorable:
                            length += freq
                        self.pool.add((name, tbytes, docnum, weight, vbytes))
                writer.add_field(name, field, value if field.stored else None, length)
                if field.column_type:
                    writer.add_column_value(name, field.column_type, field.to_column_value(value))
        except Exception:
            writer.cancel_doc()
            raise
        writer.finish_doc()
        self.document_added()
        self.docnum += 1

    def finish_segment(self):
        self.perdocwriter.close()
        if self._child is not None:
            _, status = os.waitpid(self._child, 0)
            self._child = None
            for inherited in self.postings_files():
                inherited.close()  # this process's copies: nothing buffered, nothing written
            if status != 0:
                raise RuntimeError("writing the postings failed in a child process "
                                   f"(exit code {os.waitstatus_to_exitcode(status)}; its traceback is above)")
        if not self._postings_done:
            self._write_given_fields()
            self.fieldwriter.close()

    def abandon_segment(self):
        if self._child is not None:  # cancelled or failed before commit: do not leave it behind
            os.waitpid(self._child, 0)
            self._child = None

    def _write_given_fields(self) -> None:
        pdr = self.per_document_reader() if self.codec.length_stats and self.perdocwriter.is_closed else None
        pool_fields = {name: list(items) for name, items in groupby(self.pool.iter_postings(), key=lambda p: p[0])}
        for name in sorted(set(pool_fields) | {n for n, table in self._postings.items() if table}):
            if name in pool_fields:
                self.fieldwriter.add_postings(self.schema, pdr, iter(pool_fields[name]))
            else:
                self._write_given_field(name)
        if pdr:
            pdr.close()

    def _write_given_field(self, name: str) -> None:
        writer = self.fieldwriter
        # per docnum, what a reader's doc_field_length gives (the length byte's value; 0 for none)
        quantised = [0] * len(self._lengths[name])
        for docnum, length in enumerate(self._lengths[name]):
            if length:
                byte = length_to_byte(length)
                quantised[docnum] = byte_to_length(byte) if byte else 0
        length_of = quantised.__getitem__
        value_of = _PackedCounts().__getitem__
        table = self._postings[name]
        writer.start_field(name, self.schema[name])
        postings = self.block_postings_writer()
        limit = postings.block_limit
        for term in sorted(table):  # code-point order = UTF-8 byte order = Whoosh's order
            docnums, counts = table[term]
            writer.start_term(term.encode("utf-8"))
            for start in range(0, len(docnums), limit):
                ids = docnums[start:start + limit]
                freqs = counts[start:start + limit]
                lengths = list(filter(None, map(length_of, ids))) if quantised else []
                postings.set_block(ids, freqs, list(map(value_of, freqs)),
                                   min(lengths) if lengths else None, max(lengths, default=0))
                if start + limit < len(docnums):
                    postings.write_block()
            writer.finish_term()
        writer.finish_field()


class _PackedCounts(dict):
    """count → its posting value bytes (``pack_uint``), made on first use."""

    def __missing__(self, count: int) -> bytes:
        value = self[count] = pack_uint(count)
        return value

