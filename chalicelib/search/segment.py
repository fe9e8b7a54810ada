"""A Whoosh segment writer for pre-counted terms: the same files as Whoosh's own, much faster.

Whoosh's ``SegmentWriter`` sends every posting — ~250–400 per article here, 3–4 million for
10,000 articles — one by one through a sorting pool (a tuple per posting, size bookkeeping),
then through ``FieldWriter.add_postings``, which looks the document's field length up in the
length column file per posting and hands it to ``W3PostingsWriter.add_posting`` (four type
asserts per posting). That was ~10 µs a posting, most of the build.

``CountedSegmentWriter`` keeps the postings of ``CountedText`` fields (``{term: count}``
values, already sorted by document) in plain per-term lists while documents are added, and
at commit writes each term's postings a block (128 postings) at a time through Whoosh's own
``W3PostingsWriter`` — same blocks, term infos, length bytes and statistics as the stock
writer, so readers see an identical index. Other indexed fields (the ``ID`` fields) and all
stored fields, lengths and columns go through Whoosh's code unchanged.
"""
from __future__ import annotations

from array import array
from collections.abc import Mapping, Sequence
from itertools import groupby

from whoosh.codec.whoosh3 import W3FieldWriter
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
        field = self.schema[name]
        # what a reader's doc_field_length gives (the length byte's value; None for 0)
        quantised = {}
        for docnum, length in self._lengths[name].items():
            byte = length_to_byte(length)
            quantised[docnum] = byte_to_length(byte) if byte else None
        packed: dict[int, bytes] = {}
        table = self._postings[name]
        writer.start_field(name, field)
        for term in sorted(table):  # code-point order = UTF-8 byte order = Whoosh's order
            docnums, counts = table[term]
            writer.start_term(term.encode("utf-8"))
            postings = writer._postwriter
            limit = postings._blocklimit
            for start in range(0, len(docnums), limit):
                ids = docnums[start:start + limit]
                freqs = counts[start:start + limit]
                postings._ids = array("I", ids)
                postings._weights = array("f", freqs)
                values = []
                for freq in freqs:
                    value = packed.get(freq)
                    if value is None:
                        value = packed[freq] = pack_uint(freq)
                    values.append(value)
                postings._values = values
                block_lengths = [length for length in map(quantised.get, ids) if length]
                postings._minlength = min(block_lengths) if block_lengths else None
                postings._maxlength = max(block_lengths, default=0)
                postings._maxweight = float(max(freqs))  # the stock writer sees float weights
                if start + limit < len(docnums):
                    postings._write_block()
            writer.finish_term()
        writer.finish_field()
