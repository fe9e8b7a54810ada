"""Reading and analysing every article into postings, in two forked processes for large corpora."""
from __future__ import annotations

import os
import time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from chalicelib.search import analyzer as analysis
from chalicelib.search.build.articles import Article, ArticleError, parse_article, render
from chalicelib.search.index import FIELDS

LARGE_CORPUS = 2000  # from this many articles the build uses both cores and leaner bodies


@dataclass
class Chunk:
    """A run of consecutive articles, read and analysed (by one worker process for large corpora).

    Hands back only what the index needs, as postings rather than per-article term lists:
    sending 10,000 articles' analyses between processes cost more than analysing them.
    """
    start: int  # docnum of the first article
    stored: list[dict]  # per article: the stored fields (``related`` comes later)
    origins: list[str]  # per article: its file (for error messages)
    lengths: dict[str, list[int]]  # field → per article: number of terms
    postings: dict[str, dict[str, tuple[array, array]]]  # field → term → (docnums, counts)
    error: ArticleError | None = None  # the first article that could not be read, if any
    seconds: dict[str, float] = field(default_factory=dict)  # CPU seconds per step (read, render, analyse, postings)


@dataclass
class Corpus:
    """Every chunk joined: the index's content, in docnum order."""
    stored: list[dict]
    lengths: dict[str, list[int]]
    # field → term → (docnums, counts); terms in order of first appearance
    postings: dict[str, dict[str, tuple[array, array]]]
    seconds: dict[str, float]  # CPU seconds per step, summed over the worker processes


_forked_job: tuple[list, analysis.Analyzer] | None = None  # what forked workers inherit


def index_articles(items: list[Article] | list[Path], analyzer: analysis.Analyzer) -> Corpus:
    """Read (``Path`` items), render and analyse every article into postings; from
    ``LARGE_CORPUS`` articles on in two forked processes, each taking half of the articles."""
    global _forked_job
    lean_bodies = len(items) >= LARGE_CORPUS
    workers = min(2, os.cpu_count() or 1) if lean_bodies else 1
    bounds = [(len(items) * k // workers, len(items) * (k + 1) // workers) for k in range(workers)]
    if workers == 1:
        chunks = [_index_chunk(items, analyzer, 0, len(items), lean_bodies)]
    else:
        import multiprocessing

        _forked_job = (items, analyzer)  # inherited through fork, never pickled
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                chunks = pool.starmap(_forked_chunk, [(start, stop, lean_bodies) for start, stop in bounds])
        finally:
            _forked_job = None
    return _join(chunks)


def _forked_chunk(start: int, stop: int, lean_bodies: bool) -> Chunk:
    items, analyzer = _forked_job  # type: ignore[misc]
    return _index_chunk(items, analyzer, start, stop, lean_bodies)


def _index_chunk(items: list, analyzer: analysis.Analyzer, start: int, stop: int, lean_bodies: bool) -> Chunk:
    tables: dict[str, dict[str, tuple[list[int], list[int]]]] = {name: {} for name in FIELDS}
    chunk = Chunk(start, [], [], {name: [] for name in FIELDS}, {})
    seconds = chunk.seconds = dict.fromkeys(("read", "render", "analyse", "postings"), 0.0)
    clock = time.process_time  # CPU seconds: what the step costs, whatever else the machine runs
    for docnum in range(start, stop):
        item = items[docnum]
        t0 = clock()
        if isinstance(item, Article):
            article, origin = item, item.slug
        else:
            origin = str(item)
            try:
                article = parse_article(item.read_text(encoding="utf-8"), origin=origin)
            except ArticleError as exc:
                chunk.error = exc
                break
        t1 = clock()
        html, plain = render(article.body) if article.body else ("", "")
        t2 = clock()
        head = analysis.Analysis()
        for text in article.head_texts:
            part = analyzer.analyze(text)
            head.words += part.words
            head.grams += part.grams
            head.grams += part.filler_grams  # characters/bigrams touching a filler: same field, weak in queries
            head.pinyin += part.pinyin
        # 10,000 long articles: body bigrams would double the postings (and the build time);
        # titles and questions keep theirs, body words still match.
        body = analyzer.analyze(plain, lean=True, words_only=lean_bodies)
        t3 = clock()
        chunk.stored.append({"slug": article.slug, "category": article.category, "title": article.title,
                             "questions": article.questions, "tags": article.tags,
                             "updated": article.updated, "html": html, "plain": plain})
        chunk.origins.append(origin)
        for name, terms in (("hw", head.words), ("hg", head.grams), ("hp", head.pinyin),
                            ("bw", body.words), ("bg", body.grams + body.filler_grams), ("bp", body.pinyin)):
            table = tables[name]
            for term, count in Counter(terms).items():
                posting = table.get(term)
                if posting is None:
                    table[term] = ([docnum], [count])
                else:
                    posting[0].append(docnum)
                    posting[1].append(count)
            chunk.lengths[name].append(len(terms))
        t4 = clock()
        seconds["read"] += t1 - t0
        seconds["render"] += t2 - t1
        seconds["analyse"] += t3 - t2
        seconds["postings"] += t4 - t3
    chunk.postings = {name: {term: (array("I", docs), array("I", counts)) for term, (docs, counts) in table.items()}
                      for name, table in tables.items()}
    return chunk


def _join(chunks: list[Chunk]) -> Corpus:
    """Chunks in order → one corpus; the first unreadable article or repeated slug stops the build."""
    stored: list[dict] = []
    seen: dict[str, str] = {}
    for chunk in chunks:
        for fields, origin in zip(chunk.stored, chunk.origins, strict=True):
            if fields["slug"] in seen:
                raise ArticleError(f"{origin}: slug {fields['slug']!r} already used by {seen[fields['slug']]}")
            seen[fields["slug"]] = origin
        if chunk.error is not None:
            raise chunk.error
        stored += chunk.stored
    lengths = {name: [n for chunk in chunks for n in chunk.lengths[name]] for name in FIELDS}
    postings: dict[str, dict[str, tuple[array, array]]] = {name: {} for name in FIELDS}
    for chunk in chunks:  # consecutive docnums: joining a term's postings is appending
        for name, table in chunk.postings.items():
            joined = postings[name]
            for term, (docs, counts) in table.items():
                have = joined.get(term)
                if have is None:
                    joined[term] = (docs, counts)
                else:
                    have[0].extend(docs)
                    have[1].extend(counts)
    seconds = {step: round(sum(chunk.seconds[step] for chunk in chunks), 2) for step in chunks[0].seconds}
    return Corpus(stored, lengths, postings, seconds)
