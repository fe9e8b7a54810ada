"""A Whoosh field for terms the project's own analyser already produced.

Whoosh would re-tokenise a joined string and build a Token object per word; the build hands
it ``{term: count}`` instead, which is what the postings need (a large part of build time on
10,000 articles). Lives in its own module because Whoosh pickles the schema by class path.
"""
from __future__ import annotations

from whoosh.fields import TEXT
from whoosh.system import pack_uint


class CountedText(TEXT):
    def index(self, value, **kwargs):
        return ((term.encode("utf-8"), freq, float(freq), pack_uint(freq)) for term, freq in value.items())
