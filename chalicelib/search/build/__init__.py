"""The offline index build: ``python -m chalicelib.search build --source kb --out chalicelib/search/index``.

Every ``*.md`` in the source folder → a Whoosh index holding everything the API serves
(title, category, rendered HTML, questions, related articles computed here), plus the
analyser's run-time data (``lexicon.txt``, ``pinyin.txt``), the did-you-mean table
(``suggest.txt``), the products each title names (``title_products.txt``), ``meta.json`` and a
copy of ``contacts.yaml`` and ``scam_numbers.yaml``. Nothing reads ``kb/`` at run time and nothing is indexed on a
request or a cold start; the Lambda never imports this package (``make package`` leaves it
out of the zip). The runtime reader is ``chalicelib/search/index.py``.

- ``articles.py``: Markdown + front matter → ``Article``, rendered to safe HTML and plain text
- ``corpus.py``: articles → postings (two forked processes from ``LARGE_CORPUS`` articles on)
- ``related.py``: each article's related articles
- ``support.py``: the support files beside the segment
- ``segment.py``: writes the Whoosh segment from the finished postings
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from array import array
from pathlib import Path

from chalicelib.search import analyzer as analysis
from chalicelib.search import learned
from chalicelib.search import signals as signal_rules
from chalicelib.search.build import corpus as corpora
from chalicelib.search.build import support
from chalicelib.search.build.articles import Article, ArticleError, parse_article, read_articles, render
from chalicelib.search.build.corpus import Corpus, index_articles
from chalicelib.search.build.related import related_articles
from chalicelib.search.contacts import SCAM_NUMBERS_FILE
from chalicelib.search.index import CONTACTS_FILE, FIELDS

__all__ = ["Article", "ArticleError", "Corpus", "build", "index_articles", "parse_article", "read_articles",
           "related_articles", "render", "schema"]


def schema():
    from whoosh.analysis import SpaceSeparatedTokenizer
    from whoosh.fields import ID, STORED, Schema

    from chalicelib.search.fields import CountedText

    terms = SpaceSeparatedTokenizer()
    return Schema(slug=ID(stored=True, unique=True), category=ID(stored=True),
                  title=STORED, questions=STORED, tags=STORED, updated=STORED,
                  html=STORED, plain=STORED, related=STORED,
                  **{name: CountedText(analyzer=terms, phrase=False) for name in FIELDS})


def build(source: str | Path, out: str | Path, *, articles: list[Article] | None = None,
          signals: str | Path | None = None) -> dict:
    """Build the index for ``source`` into ``out`` (replaced atomically); returns build stats.

    ``signals``: a JSON-lines file of search signals (``chalicelib/search/signals.py``); the
    learned model (``learned.json``, see ``learned.py``) is written either way — without
    signals it holds only the term associations of the articles' own ``questions:``."""
    from whoosh import index as whoosh_index

    from chalicelib.search.build.segment import CountedSegmentWriter

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
    corpus = corpora.index_articles(items, analyzer)
    lap("read+analyse")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    writer = None
    try:
        ix = whoosh_index.create_in(str(staging), schema())
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
        writer.write_postings(background=len(corpus.stored) >= corpora.LARGE_CORPUS)
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
        support.write_support_files(staging, corpus, analyzer)
        lap("support")
        model = learn_model(corpus, analyzer, signals)
        learned.write(model, staging)
        lap("learned")
        writer.commit()
        lap("write")
        for name in (CONTACTS_FILE, SCAM_NUMBERS_FILE):
            if (source / name).is_file():
                shutil.copyfile(source / name, staging / name)
        _replace_dir(staging, out)
        lap("finish")
    except BaseException:
        if writer is not None and not writer.is_closed:
            writer.cancel()  # waits for a postings process still running
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return {"articles": len(corpus.stored), "seconds": round(time.perf_counter() - started, 2), "out": str(out),
            "phases": phases, "worker_seconds": corpus.seconds,
            "learned": {"signals": model["signals"], "pairs": model["pairs"],
                        "bytes": (out / learned.MODEL_FILE).stat().st_size}}


def learn_model(corpus: Corpus, analyzer: analysis.Analyzer, signals: str | Path | None) -> dict:
    """The learned model from a signals file (or none) and the articles' paraphrase groups."""
    read: list = []
    if signals is not None:
        path = Path(signals)
        with path.open(encoding="utf-8") as lines:
            read = list(signal_rules.read_signals(lines, origin=str(path)))
    slugs = {fields["slug"]: docnum for docnum, fields in enumerate(corpus.stored)}
    heads = [[fields["title"], *fields["questions"]] for fields in corpus.stored]
    return learned.learn(read, slugs, heads, analyzer)


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
