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
stored fields, lengths and columns go through Whoosh's code unchanged.
"""
from __future__ import annotations

from array import array
from collections.abc import Mapping, Sequence
from itertools import chain, groupby
from operator import sub

from whoosh.codec.whoosh3 import W3FieldWriter, W3PostingsWriter
from whoosh.system import pack_uint
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

from chalicelib.search.fields import CountedText


class CountedSegmentWriter(SegmentWriter):
    """A ``SegmentWriter`` that takes the ``CountedText`` fields as finished postings.

    ``add_document(lengths={field: number of terms}, **other_fields)`` per document (in
    docnum order), ``add_postings(field, {term: (docnums, counts)})`` once per counted field,
    then ``commit()``. Only what this project's schema uses is supported: no boosts, vectors
    or spelling fields.
    """

    def __init__(self, ix, **kwargs):
        super().__init__(ix, **kwargs)
        if not isinstance(self.fieldwriter, W3FieldWriter):
            raise TypeError("CountedSegmentWriter needs Whoosh's W3 codec")
        self._counted = {name for name, field in self.schema.items() if isinstance(field, CountedText)}
        self._postings: dict[str, Mapping[str, tuple[Sequence[int], Sequence[int]]]] = {}
        self._lengths: dict[str, dict[int, int]] = {name: {} for name in self._counted}

    def add_document(self, *, lengths: Mapping[str, int] | None = None, **fields):
        """``SegmentWriter.add_document`` minus boosts, vectors and spelling; the counted
        fields come as their lengths only."""
        self._check_state()
        writer = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        lengths = lengths or {}
        names = sorted({name for name in fields if not name.startswith("_")} | set(lengths))
        self._check_fields(schema, names)
        writer.start_doc(docnum)
        try:
            for name in names:
                field = schema[name]
                if name in self._counted:
                    if name in fields:
                        raise ValueError(f"{name}: give counted fields as lengths and add_postings()")
                    length = lengths[name]
                    writer.add_field(name, field, None, length)
                    if length:
                        self._lengths[name][docnum] = length
                    continue
                value = fields[name]
                if value is None:
                    continue
                if field.vector or field.separate_spelling():
                    raise NotImplementedError(f"{name}: vectors and spelling fields are not supported")
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
        self._added = True
        self.docnum += 1

    def add_postings(self, name: str, postings: Mapping[str, tuple[Sequence[int], Sequence[int]]]) -> None:
        """Every posting of one counted field: term → (ascending docnums, counts)."""
        if name not in self._counted:
            raise ValueError(f"{name} is not a CountedText field")
        self._postings[name] = postings

    def _flush_segment(self):
        self.perdocwriter.close()
        pdr = self.per_document_reader() if self.codec.length_stats else None
        pool_fields = {name: list(items) for name, items in groupby(self.pool.iter_postings(), key=lambda p: p[0])}
        for name in sorted(set(pool_fields) | {n for n, table in self._postings.items() if table}):
            if name in pool_fields:
                self.fieldwriter.add_postings(self.schema, pdr, iter(pool_fields[name]))
            else:
                self._write_counted_field(name)
        self.fieldwriter.close()
        if pdr:
            pdr.close()

    def _write_counted_field(self, name: str) -> None:
        writer = self.fieldwriter
        codec = self.codec
        # per docnum, what a reader's doc_field_length gives (the length byte's value; 0 for none)
        quantised = [0] * self.docnum
        for docnum, length in self._lengths[name].items():
            byte = length_to_byte(length)
            quantised[docnum] = byte_to_length(byte) if byte else 0
        length_of = quantised.__getitem__
        value_of = _PackedCounts().__getitem__
        table = self._postings[name]
        writer.start_field(name, self.schema[name])
        postings = writer._postwriter = _BlockPostingsWriter(
            writer._postfile, blocklimit=codec._blocklimit, compression=codec._compression,
            inlinelimit=codec._inlinelimit)
        limit = postings._blocklimit
        for term in sorted(table):  # code-point order = UTF-8 byte order = Whoosh's order
            docnums, counts = table[term]
            writer.start_term(term.encode("utf-8"))
            for start in range(0, len(docnums), limit):
                ids = docnums[start:start + limit]
                freqs = counts[start:start + limit]
                lengths = list(filter(None, map(length_of, ids)))
                postings.set_block(ids, freqs, list(map(value_of, freqs)),
                                   min(lengths) if lengths else None, max(lengths, default=0))
                if start + limit < len(docnums):
                    postings._write_block()
            writer.finish_term()
        writer.finish_field()


class _PackedCounts(dict):
    """count → its posting value bytes (``pack_uint``), made on first use."""

    def __missing__(self, count: int) -> bytes:
        value = self[count] = pack_uint(count)
        return value


class _BlockPostingsWriter(W3PostingsWriter):
    """Whoosh's postings writer, given a whole block (≤ 128 postings) at once instead of one
    ``add_posting`` call per posting, and minifying blocks without a Python loop per posting.
    Writes the same bytes: weights are the counts as floats (what ``CountedText.index`` gives),
    a block's lengths are its documents' quantised field lengths."""

    def set_block(self, ids, counts, values, minlength, maxlength) -> None:
        self._ids = array("I", ids)
        self._weights = array("f", counts)
        self._values = values
        self._minlength = minlength
        self._maxlength = maxlength
        self._maxweight = float(max(counts))

    def _mini_ids(self):
        ids = self._ids
        return tuple(map(sub, ids, chain((0,), ids)))  # delta_encode

    def _mini_weights(self):
        weights = self._weights
        if weights.count(1.0) == len(weights):
            return None
        if weights.count(weights[0]) == len(weights):
            return weights[0]
        return tuple(weights)
