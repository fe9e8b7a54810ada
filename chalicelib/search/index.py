"""The knowledge-base index: built once from Markdown (``build``), opened read-only at run time.

Build (``python -m chalicelib.search build --source kb --out chalicelib/search/index``):
every ``*.md`` in the source folder → a Whoosh index holding everything the API serves
(title, category, rendered HTML, questions, related articles computed here), plus the
analyser's run-time data (``lexicon.txt``, ``pinyin.txt``), the did-you-mean table
(``suggest.txt``), the products each title names (``title_products.txt``), ``meta.json`` and a
copy of ``contacts.yaml``. Nothing reads ``kb/`` at
run time and nothing is indexed on a request or a cold start.

Search: BM25 over six fields (words / character bigrams / pinyin bigrams, each for the
"head" — title, questions and tags, weighted alike — and for the body), scored here from
Whoosh's postings rather than by Whoosh's query machinery: each (field, term) posting list
is read once per container and kept as ``{docnum: bm25}``, so a query is a few dictionary
merges (sub-millisecond on the KB, a few ms on 8,000 entries) instead of Whoosh's generic
matcher tree (~20 ms per query).
"""
from __future__ import annotations

import heapq
import html as html_lib
import json
import math
import os
import re
import shutil
import tempfile
import time
from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from chalicelib.search import analyzer as analysis

CATEGORIES = {  # id → Chinese name, in display order
    "contact": "联系客服",
    "repayment": "还款与费用",
    "security": "账户安全",
    "escalation": "投诉与升级",
    "about": "关于本钱包",
}
FIELDS = ("hw", "hg", "hp", "bw", "bg", "bp")  # head/body × words/grams/pinyin
META_FILE = "meta.json"
SUGGEST_FILE = "suggest.txt"
TITLE_PRODUCTS_FILE = "title_products.txt"
CONTACTS_FILE = "contacts.yaml"
RELATED_COUNT = 3


class ArticleError(ValueError):
    """An article file that cannot be indexed (the build stops and names it)."""


@dataclass
class Article:
    slug: str
    title: str
    category: str
    questions: list[str]
    tags: list[str]
    updated: str
    body: str  # Markdown

    @property
    def head_texts(self) -> list[str]:
        return [self.title, *self.questions, *self.tags]


# --------------------------------------------------------------- reading articles
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)(.*)\Z", re.S)
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


def parse_article(text: str, origin: str = "<text>") -> Article:
    import yaml

    match = _FRONT_MATTER.match(text.lstrip("\ufeff"))
    if not match:
        raise ArticleError(f"{origin}: no YAML front matter (--- … ---)")
    try:
        meta = yaml.load(match.group(1), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except yaml.YAMLError as exc:
        raise ArticleError(f"{origin}: front matter is not valid YAML: {exc}") from None
    if not isinstance(meta, dict):
        raise ArticleError(f"{origin}: front matter must be a mapping")
    slug, title, category = (str(meta.get(k) or "").strip() for k in ("slug", "title", "category"))
    if not _SLUG.match(slug):
        raise ArticleError(f"{origin}: slug must be lower-case letters, digits and dashes, got {slug!r}")
    if not title:
        raise ArticleError(f"{origin}: title is required")
    if category not in CATEGORIES:
        raise ArticleError(f"{origin}: category must be one of {sorted(CATEGORIES)}, got {category!r}")

    def str_list(key):
        value = meta.get(key) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise ArticleError(f"{origin}: {key} must be a list")
        return [str(v).strip() for v in value if str(v).strip()]

    return Article(slug=slug, title=title, category=category, questions=str_list("questions"),
                   tags=str_list("tags"), updated=str(meta.get("updated") or ""), body=match.group(2).strip())


def read_articles(source: Path) -> list[Article]:
    articles, seen = [], {}
    for path in sorted(source.glob("*.md")):
        article = parse_article(path.read_text(encoding="utf-8"), origin=str(path))
        if article.slug in seen:
            raise ArticleError(f"{path}: slug {article.slug!r} already used by {seen[article.slug]}")
        seen[article.slug] = path
        articles.append(article)
    return articles


_TAGS = re.compile(r"<[^>]+>")


def render(markdown_text: str) -> tuple[str, str]:
    """Markdown → (safe HTML, plain text). Raw HTML in an article is escaped, never passed through."""
    import mistune

    md = _markdown()
    html = md(markdown_text)
    plain = html_lib.unescape(_TAGS.sub(" ", html))
    return html, re.sub(r"[ \t\r\f\v]+", " ", re.sub(r"\s*\n\s*", "\n", plain)).strip()


_md_instance = None


def _markdown():
    global _md_instance
    if _md_instance is None:
        import mistune
        _md_instance = mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])
    return _md_instance


# --------------------------------------------------------------- build
def _schema():
    from whoosh.analysis import SpaceSeparatedTokenizer
    from whoosh.fields import ID, STORED, TEXT, Schema

    from chalicelib.search.fields import CountedText

    terms = SpaceSeparatedTokenizer()
    return Schema(slug=ID(stored=True, unique=True), category=ID(stored=True),
                  title=STORED, questions=STORED, tags=STORED, updated=STORED,
                  html=STORED, plain=STORED, related=STORED,
                  **{name: CountedText(analyzer=terms, phrase=False) for name in FIELDS})


def _jieba_frequencies() -> dict[str, int]:
    """Word frequencies of jieba's stock dictionary (the one rjieba embeds), for the lexicon."""
    import importlib.util

    path = Path(importlib.util.find_spec("jieba").origin).parent / "dict.txt"
    freqs = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            parts = line.split(" ", 2)
            if len(parts) >= 2:
                freqs[parts[0]] = int(parts[1])
    return freqs


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
    seconds: dict[str, float] | None = None  # CPU seconds per step (read, render, analyse, postings)


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
                            ("bw", body.words), ("bg", body.grams), ("bp", body.pinyin)):
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
        for fields, origin in zip(chunk.stored, chunk.origins):
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


def related_articles(corpus: Corpus, count: int = RELATED_COUNT) -> list[list[dict]]:
    """Each article's nearest neighbours by shared head/body words (tf-idf, same category first).

    An article's words weigh (1 + log tf) × idf, a head word counting three times; its 8
    heaviest words that are in few articles point to the articles sharing them. Only those
    rare words' postings are visited: 10,000 articles take about a second.
    """
    stored = corpus.stored
    n = len(stored)
    head, body = corpus.postings["hw"], corpus.postings["bw"]
    # Words in more than this many articles say little about relatedness and cost the most.
    common = max(3, min(n * 0.3, 30))
    weighted: list[list[tuple[float, str]]] = [[] for _ in range(n)]
    for word in head.keys() | body.keys():
        in_head, in_body = head.get(word, ((), ())), body.get(word, ((), ()))
        if len(in_head[0]) > common or len(in_body[0]) > common:
            continue
        tf: dict[int, int] = {}
        for docnum, c in zip(*in_head):
            tf[docnum] = 3 * c
        for docnum, c in zip(*in_body):
            tf[docnum] = tf.get(docnum, 0) + c
        if len(tf) > common:
            continue
        idf = math.log(1 + n / len(tf))
        for docnum, c in tf.items():
            weighted[docnum].append(((1 + math.log(c)) * idf, word))
    postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
    tops = []
    for i, candidates in enumerate(weighted):
        top = sorted(candidates)[-8:]
        tops.append(top)
        for weight, word in top:
            postings[word].append((i, weight))
    categories = [fields["category"] for fields in stored]
    by_category: dict[str, list[int]] = defaultdict(list)  # article numbers, ascending
    for j, category in enumerate(categories):
        by_category[category].append(j)
    related = []
    for i, top in enumerate(tops):
        scores: Counter = Counter()
        for weight, word in top:
            for j, other in postings[word]:
                if j != i:
                    scores[j] += weight * other
        for j in list(scores):
            if categories[j] == categories[i]:
                scores[j] *= 1.5
        ranked = [j for j, _ in scores.most_common(count)]
        if len(ranked) < count:  # fill up, same category first, so every article links somewhere
            ranked += _fill(i, ranked, count - len(ranked), by_category, categories[i])
        related.append([{"slug": stored[j]["slug"], "title": stored[j]["title"]} for j in ranked])
    return related


def _fill(i: int, ranked: list[int], wanted: int, by_category: dict[str, list[int]], category: str) -> list[int]:
    """The first ``wanted`` articles, other than ``i`` and ``ranked``, of the same category and
    then of the others, each in article order — what sorting every article would give, without
    the sort (10,000 articles: ~70 s)."""
    taken = {i, *ranked}
    picked = [j for j in by_category[category][:wanted + len(taken)] if j not in taken][:wanted]
    if len(picked) < wanted:
        # enough of each other category's first articles to fill up even if some are taken
        heads = sorted(j for c, js in by_category.items() if c != category for j in js[:wanted + len(taken)])
        picked += [j for j in heads if j not in taken][:wanted - len(picked)]
    return picked


def build(source: str | Path, out: str | Path, *, articles: list[Article] | None = None) -> dict:
    """Build the index for ``source`` into ``out`` (replaced atomically); returns build stats."""
    from whoosh import index as whoosh_index

    from chalicelib.search.segment import CountedSegmentWriter

    started = time.perf_counter()
    phases: dict[str, float] = {}
    clock = [started]

    def lap(name: str) -> None:
        now = time.perf_counter()
        phases[name] = round(now - clock[0], 2)
        clock[0] = now

    source, out = Path(source), Path(out)
    if articles is None:
        if not source.is_dir():
            raise ArticleError(f"{source}: not a directory")
        items: list = sorted(source.glob("*.md"))
    else:
        items = list(articles)
    analyzer = analysis.Analyzer.for_build()
    lap("analyser")  # jieba's dictionary, the domain words, the pinyin table
    corpus = index_articles(items, analyzer)
    lap("read+analyse")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    writer = None
    try:
        ix = whoosh_index.create_in(str(staging), _schema())
        # Whoosh's own writer costs ~10 µs per posting (a sorting pool, a length lookup per
        # posting); this one writes the same segment from the postings (see segment.py), in a
        # forked process while this one goes on with related articles and stored fields.
        writer = CountedSegmentWriter(ix)
        for name in FIELDS:
            writer.add_postings(name, corpus.postings[name], corpus.lengths[name])
        for name in ("slug", "category"):
            ids: dict[str, tuple[array, array]] = {}
            for docnum, fields in enumerate(corpus.stored):
                docs, ones = ids.setdefault(fields[name], (array("I"), array("I")))
                docs.append(docnum)
                ones.append(1)
            writer.add_postings(name, ids)
        writer.write_postings(background=len(corpus.stored) >= LARGE_CORPUS)
        lap("postings")
        related = related_articles(corpus)
        lap("related")
        for docnum, fields in enumerate(corpus.stored):
            # field names spelt out (interned): the stored-fields pickle then shares them with
            # the related-article entries, as the stock writer's did
            writer.add_document(
                slug=fields["slug"], category=fields["category"], title=fields["title"],
                questions=fields["questions"], tags=fields["tags"], updated=fields["updated"],
                html=fields["html"], plain=fields["plain"], related=related[docnum])
        lap("stored")
        _write_support_files(staging, corpus, analyzer)
        lap("support")
        writer.commit()
        lap("write")
        contacts = source / CONTACTS_FILE
        if contacts.is_file():
            shutil.copyfile(contacts, staging / CONTACTS_FILE)
        _replace_dir(staging, out)
        lap("finish")
    except BaseException:
        if writer is not None and not writer.is_closed:
            writer.cancel()  # waits for a postings process still running
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return {"articles": len(corpus.stored), "seconds": round(time.perf_counter() - started, 2), "out": str(out),
            "phases": phases, "worker_seconds": corpus.seconds}


def _write_support_files(directory: Path, corpus: Corpus, analyzer: analysis.Analyzer) -> None:
    stock = _jieba_frequencies()
    domain = analysis.domain_words()
    head, body = corpus.postings["hw"], corpus.postings["bw"]
    words = {w for w in head.keys() | body.keys() if analysis.is_cjk(w[0])}
    lexicon = [f"{w} {domain.get(w) or stock.get(w) or 1000}" for w in sorted(words)]
    (directory / analysis.LEXICON_FILE).write_text("\n".join(lexicon) + "\n", encoding="utf-8")
    analysis.write_pinyin_table(analyzer.pinyin_of, directory / analysis.PINYIN_FILE)
    # Did-you-mean: pinyin of a head word → the most used head word that sounds like it (the
    # first seen among equals: postings keep the order in which words first appear).
    best: dict[str, tuple[int, str]] = {}
    for word, (_, counts) in head.items():
        if len(word) < 2 or not analysis.is_cjk(word[0]):
            continue
        count = sum(counts)
        key = analyzer.pinyin_key(word)
        if key not in best or count > best[key][0]:
            best[key] = (count, word)
    (directory / SUGGEST_FILE).write_text("".join(f"{k} {w}\n" for k, (_, w) in sorted(best.items())),
                                          encoding="utf-8")
    # Products a title names (products.txt, or a variant synonyms.txt maps to one): "docnum 花呗 …".
    spellings = {p: p for p in analysis.products()}
    spellings.update({v: c for v, c in analysis.synonyms().items() if c in spellings})
    with open(directory / TITLE_PRODUCTS_FILE, "w", encoding="utf-8") as out:
        for docnum, fields in enumerate(corpus.stored):
            title = analysis.normalize(fields["title"])
            named = sorted({product for spelling, product in spellings.items() if spelling in title})
            if named:
                out.write(f"{docnum} {' '.join(named)}\n")
    counts = Counter(fields["category"] for fields in corpus.stored)
    meta = {"articles": len(corpus.stored), "categories": {c: counts.get(c, 0) for c in CATEGORIES},
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    (directory / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")


def _replace_dir(staging: Path, out: Path) -> None:
    """Swap the finished index in; a running server keeps reading its already-open files."""
    if out.exists():
        old = out.with_name(f".{out.name}-old-{os.getpid()}")
        out.rename(old)
        staging.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(out)
    out.chmod(0o755)


# --------------------------------------------------------------- searching
# Field weights: the head (title, questions, tags) counts like the title; exact words beat
# bigrams, which beat pinyin (pinyin only rescues typos and romanised queries).
FIELD_WEIGHT = {"hw": 3.0, "hg": 1.8, "hp": 0.9, "bw": 1.0, "bg": 0.6, "bp": 0.3}
# Heads are one short question each (FAQ) or a handful (articles): a strong length
# normalisation and a slower-saturating tf let the head that is mostly the query win.
K1 = 1.6
FIELD_B = {"hw": 0.9, "hg": 0.9, "hp": 0.9, "bw": 0.75, "bg": 0.75, "bp": 0.75}
RELEVANCE_FLOOR = 0.1  # results must score at least this share of the best one
COMMON_SHARE = 0.05  # terms in more documents than this only re-score documents already found
MAX_CANDIDATES = 3000
UNIGRAM_WEIGHT = 1.5  # single characters relative to bigrams (weak terms: they only re-score)
COVERAGE = 0.7  # how much covering more of the query multiplies the score (0 = plain BM25 sum)
# An article whose title names only other products than the query's (products.txt), and whose
# questions do not name the query's either, keeps this share of its score. ATEC FAQ (8,537 real questions, half tuned / half checked):
# 0.6 moved R@5 by +0.007 / +0.009 and R@1 by +0.002 — 0.4 or 0.8 within 0.002 of it.
PRODUCT_MISMATCH = 0.6


@dataclass
class Hit:
    docnum: int
    score: float


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


class KbIndex:
    """A read-only, once-per-container view of a built index."""

    def __init__(self, index_dir: str | Path):
        whoosh_index = _whoosh_index_module()

        self.dir = Path(index_dir)
        self._ix = whoosh_index.open_dir(str(self.dir), readonly=True)
        self.reader = self._ix.reader()
        self.analyzer = analysis.Analyzer.for_index(self.dir)
        self.meta = json.loads((self.dir / META_FILE).read_text(encoding="utf-8"))
        self.doc_count = self.reader.doc_count_all()
        self._postings: dict[tuple[str, str], dict[int, float]] = {}
        self._lengths: dict[str, list[int]] = {}
        self._category_docs: dict[str, frozenset[int]] = {}
        self._suggest: dict[str, str] | None = None
        self._title_products: dict[int, frozenset[str]] | None = None
        self._stored: dict[int, dict] = {}
        self._spans: dict[tuple[int, str], list] = {}

    # -- scoring
    def _field_lengths(self, field: str) -> list[int]:
        lengths = self._lengths.get(field)
        if lengths is None:
            lengths = [self.reader.doc_field_length(d, field, 0) for d in range(self.doc_count)]
            self._lengths[field] = lengths
        return lengths

    def postings(self, field: str, term: str) -> dict[int, float]:
        """``{docnum: BM25 contribution}`` of one term in one field (cached per container)."""
        key = (field, term)
        cached = self._postings.get(key)
        if cached is not None:
            return cached
        scores: dict[int, float] = {}
        try:
            matcher = self.reader.postings(field, term)
        except Exception:  # whoosh raises TermNotFound (a KeyError) for unknown terms
            matcher = None
        if matcher is not None:
            lengths = self._field_lengths(field)
            df = self.reader.doc_frequency(field, term)
            idf = math.log(1 + (self.doc_count - df + 0.5) / (df + 0.5))
            average = (self.reader.field_length(field) / self.doc_count) or 1.0
            b = FIELD_B[field]
            for docnum, tf in matcher.items_as("frequency"):
                norm = K1 * (1 - b + b * lengths[docnum] / average)
                scores[docnum] = idf * tf * (K1 + 1) / (tf + norm)
        self._postings[key] = scores
        return scores

    def term_scores(self, kind: str, term: str) -> dict[int, float]:
        """Head and body contributions of one term merged: ``{docnum: weighted BM25}`` (cached)."""
        key = ("*" + kind, term)
        merged = self._postings.get(key)
        if merged is None:
            head, body = self.postings("h" + kind, term), self.postings("b" + kind, term)
            wh, wb = FIELD_WEIGHT["h" + kind], FIELD_WEIGHT["b" + kind]
            merged = {d: wh * v for d, v in head.items()} if wh else {}
            if wb:
                for d, v in body.items():
                    merged[d] = merged.get(d, 0.0) + wb * v
            self._postings[key] = merged
        return merged

    def query_terms(self, parsed: analysis.Analysis) -> list[tuple[dict[int, float], float, bool, bool]]:
        """(merged postings, query weight, counts for coverage, weak) of every distinct query term."""
        terms = []
        for kind, tokens in (("w", parsed.words), ("g", parsed.grams), ("p", parsed.pinyin)):
            for token, count in Counter(tokens).items():
                postings = self.term_scores(kind, token)
                if postings:
                    # repeating a word in the query counts, a little; a single character is a
                    # weak term: it re-scores documents but never makes one match on its own
                    filler = token.startswith(analysis.FILLER_MARK)
                    single_character = kind == "g" and len(token) == 1
                    weak = filler or single_character
                    weight = (1.0 + 0.3 * (count - 1)) * (UNIGRAM_WEIGHT if single_character else 1.0)
                    terms.append((postings, weight, kind != "p" and not filler, weak))
        return terms

    def score(self, parsed: analysis.Analysis) -> dict[int, float]:
        """OR over all query terms, BM25-summed; covering more of the query counts extra.

        Term-at-a-time, rarest term first. Rare terms (in at most ``COMMON_SHARE`` of the
        documents) bring in candidates, until there are ``MAX_CANDIDATES``; every other term
        only adds to candidates it shares (a C-level key intersection, not a Python loop over
        its long posting list). A document that only shares common words with the query
        could not rank anyway, so results are the same and a query stays a few milliseconds.
        """
        terms = self.query_terms(parsed)
        if not any(not t[3] for t in terms):
            if not parsed.grams or any(len(g) > 1 for g in parsed.grams) or parsed.pinyin:
                return {}  # none of the query's real words or bigrams occur anywhere
            # a one-character query: its characters may match on their own (fillers never)
            terms = [t for t in terms if t[2]]
        terms = sorted(terms, key=lambda t: (t[3], len(t[0])))  # strong terms first, rarest first
        if not terms:
            return {}
        common = max(50, int(self.doc_count * COMMON_SHARE))
        totals: dict[int, float] = {}
        matched: dict[int, int] = {}
        get, seen = totals.get, matched.get
        for postings, weight, unit, weak in terms:
            if not totals or (not weak and len(postings) <= common and len(totals) < MAX_CANDIDATES):
                for docnum, value in postings.items():
                    totals[docnum] = get(docnum, 0.0) + weight * value
                    if unit:
                        matched[docnum] = seen(docnum, 0) + 1
            else:
                for docnum in postings.keys() & totals.keys():
                    totals[docnum] += weight * postings[docnum]
                    if unit:
                        matched[docnum] = seen(docnum, 0) + 1
        units = sum(1 for t in terms if t[2])
        if COVERAGE and units > 1:
            scale = 2 * COVERAGE / units
            for docnum in totals:
                totals[docnum] *= 1 - COVERAGE + scale * seen(docnum, 0)
        self._demote_other_products(parsed, totals)
        return totals

    def _demote_other_products(self, parsed: analysis.Analysis, totals: dict[int, float]) -> None:
        """Articles whose title names a product, but none the query names (nor do their
        questions), are about something else (借呗 vs 花呗): they keep ``PRODUCT_MISMATCH`` of
        their score. Only the title counts against an article: a general one may name a product
        in one of its questions as an example ("钱扣了信用卡没收到" in the arrival-delay article)."""
        named = analysis.products().intersection(parsed.words)
        if not named or not totals:
            return
        titles = self.title_products()
        heads_naming = [self.postings("hw", product) for product in named]  # cached per container
        for docnum in totals.keys() & titles.keys():
            if not titles[docnum] & named and not any(docnum in head for head in heads_naming):
                totals[docnum] *= PRODUCT_MISMATCH

    def title_products(self) -> dict[int, frozenset[str]]:
        """``{docnum: products its title names}`` (``title_products.txt``, loaded on first use)."""
        if self._title_products is None:
            table = {}
            for line in (self.dir / TITLE_PRODUCTS_FILE).read_text(encoding="utf-8").splitlines():
                docnum, *named = line.split()
                table[int(docnum)] = frozenset(named)
            self._title_products = table
        return self._title_products

    def search(self, text: str, *, category: str | None = None, limit: int = 10) -> tuple[list[Hit], int, analysis.Analysis]:
        parsed = self.analyzer.analyze(text)
        totals = self.score(parsed)
        if category is not None:
            allowed = self.category_docs(category)
            totals = {d: s for d, s in totals.items() if d in allowed}
        if not totals:
            return [], 0, parsed
        best = max(totals.values())
        floor = best * RELEVANCE_FLOOR
        kept = [(s, d) for d, s in totals.items() if s >= floor]
        top = heapq.nlargest(limit, kept)
        return [Hit(d, s) for s, d in top], len(kept), parsed

    # -- documents
    def category_docs(self, category: str) -> frozenset[int]:
        docs = self._category_docs.get(category)
        if docs is None:
            try:
                docs = frozenset(self.reader.postings("category", category).all_ids())
            except Exception:
                docs = frozenset()
            self._category_docs[category] = docs
        return docs

    def stored(self, docnum: int) -> dict:
        doc = self._stored.get(docnum)
        if doc is None:
            doc = self._stored[docnum] = self.reader.stored_fields(docnum)
        return doc

    def spans(self, docnum: int, key: str, text: str) -> list:
        """Analysed tokens (with offsets) of one stored text, cached: snippets re-use them."""
        cache_key = (docnum, key)
        found = self._spans.get(cache_key)
        if found is None:
            if len(self._spans) > 4096:
                self._spans.clear()
            found = self._spans[cache_key] = self.analyzer.spans(text)
        return found

    def docnum_for(self, slug: str) -> int | None:
        try:
            return self.reader.first_id("slug", slug)
        except Exception:
            return None

    def suggestions(self) -> dict[str, str]:
        if self._suggest is None:
            table = {}
            for line in (self.dir / SUGGEST_FILE).read_text(encoding="utf-8").splitlines():
                key, _, word = line.partition(" ")
                table[key] = word
            self._suggest = table
        return self._suggest
