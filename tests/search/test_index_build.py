"""The index build: from Markdown to a self-contained index, and `make index` rebuilding it."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.search._kb import FIXTURES

ROOT = Path(__file__).resolve().parents[2]


def test_build_writes_everything_the_runtime_needs(tmp_path):
    from chalicelib.search.build import build
    from chalicelib.search.index import KbIndex
    source = tmp_path / "kb"
    shutil.copytree(FIXTURES, source)
    (source / "contacts.yaml").write_text("hotlines: []\n", encoding="utf-8")
    stats = build(source, tmp_path / "index")
    assert stats["articles"] == 7
    for name in ("lexicon.txt", "pinyin.txt", "suggest.txt", "title_products.txt", "meta.json", "contacts.yaml"):
        assert (tmp_path / "index" / name).is_file(), name
    shutil.rmtree(source)  # the runtime never reads the sources
    kb = KbIndex(tmp_path / "index")
    hits, total, _ = kb.search("还款失败")
    assert kb.stored(hits[0].docnum)["slug"] == "repayment-failed"


def test_cli_build_and_a_clear_error_for_a_broken_article(tmp_path):
    source = tmp_path / "kb"
    shutil.copytree(FIXTURES, source)
    ok = subprocess.run([sys.executable, "-m", "chalicelib.search", "build", "--source", str(source),
                         "--out", str(tmp_path / "index")], cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "indexed 7 articles" in ok.stdout
    (source / "broken.md").write_text("---\nslug: Bad Slug\ntitle: x\ncategory: contact\n---\n正文", encoding="utf-8")
    failed = subprocess.run([sys.executable, "-m", "chalicelib.search", "build", "--source", str(source),
                             "--out", str(tmp_path / "index")], cwd=ROOT, capture_output=True, text=True)
    assert failed.returncode == 1 and "broken.md" in failed.stderr and "slug" in failed.stderr
    # the previous index is untouched by a failed build
    assert (tmp_path / "index" / "meta.json").is_file()


@pytest.mark.parametrize("front_matter, problem", [
    ("slug: a\ntitle: t\ncategory: weather", "category"),
    ("slug: a\ncategory: contact", "title"),
    ("slug: a\ntitle: t\ncategory: contact\nquestions: 5", "questions"),
    ("slug: [a\n", "YAML"),
])
def test_invalid_front_matter_is_named(front_matter, problem):
    from chalicelib.search.build import ArticleError, parse_article
    with pytest.raises(ArticleError, match=problem):
        parse_article(f"---\n{front_matter}\n---\nbody", origin="x.md")


def test_duplicate_slugs_are_refused(tmp_path):
    from chalicelib.search.build import ArticleError, read_articles
    shutil.copy(FIXTURES / "fees.md", tmp_path / "fees.md")
    shutil.copy(FIXTURES / "fees.md", tmp_path / "fees-copy.md")
    with pytest.raises(ArticleError, match="already used"):
        read_articles(tmp_path)


def _project_copy(tmp_path: Path) -> Path:
    """What `make index` needs, in a scratch project: Makefile, kb/, the chalicelib package."""
    project = tmp_path / "project"
    project.mkdir(parents=True)
    shutil.copy2(ROOT / "Makefile", project / "Makefile")
    # the whole package (the build imports shared modules), without the built index
    shutil.copytree(ROOT / "chalicelib", project / "chalicelib",
                    ignore=shutil.ignore_patterns("index", "__pycache__"))
    shutil.copytree(FIXTURES, project / "kb")
    for name in ("requirements.txt", "requirements-dev.txt"):
        shutil.copy2(ROOT / name, project / name)
        os.utime(project / name, (0, 0))  # older than the venv marker: make must not reinstall
    (project / ".venv").symlink_to(ROOT / ".venv")
    return project


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_index_rebuilds_when_an_article_changes(tmp_path):
    if not (ROOT / ".venv" / ".installed").exists():
        pytest.skip("needs the project venv (make setup)")
    project = _project_copy(tmp_path)

    def make(*args):
        return subprocess.run(["make", "-s", *args], cwd=project, capture_output=True, text=True)

    first = make("index")
    assert first.returncode == 0, first.stderr
    assert "indexed 7 articles" in first.stdout
    assert make("-q", "index").returncode == 0  # up to date: nothing to do

    article = project / "kb" / "fees.md"
    article.write_text(article.read_text(encoding="utf-8").replace("转账和提现的手续费", "转账提现收费标准"),
                       encoding="utf-8")
    future = time.time() + 5
    os.utime(article, (future, future))
    assert make("-q", "index").returncode == 1  # out of date
    second = make("index")
    assert second.returncode == 0 and "indexed 7 articles" in second.stdout

    from chalicelib.search.index import KbIndex
    kb = KbIndex(project / "chalicelib" / "search" / "index")
    assert kb.stored(kb.docnum_for("fees"))["title"] == "转账提现收费标准"

    synonyms = project / "chalicelib" / "search" / "synonyms.txt"  # analyser data counts too
    later = time.time() + 5  # after the rebuild, however long it took on a loaded machine (was future + 5)
    os.utime(synonyms, (later, later))
    assert make("-q", "index").returncode == 1


QUERIES = ["还款失败怎么办", "客服电话多少", "huankuan shibai", "花被还款", "手续费", "账号被盗", "投诉", "逾期"]


def _answers(index_dir: Path) -> list:
    """What a user sees: for each query the ranked slugs with their scores, and every
    article's stored page (title, HTML, related articles …)."""
    from chalicelib.search.index import KbIndex
    kb = KbIndex(index_dir)
    ranked = []
    for query in QUERIES:
        hits, total, _ = kb.search(query, limit=10)
        ranked.append((total, [(kb.stored(h.docnum)["slug"], round(h.score, 9)) for h in hits]))
    pages = sorted((kb.stored(d)["slug"], kb.stored(d)) for d in range(kb.doc_count))
    return [ranked, pages, kb.category_docs("repayment")]


@pytest.mark.parametrize("large", [False, True], ids=["in-process", "two-processes"])
def test_postings_writer_answers_like_whoosh_own_writer(tmp_path, monkeypatch, large):
    """The build writes postings through segment.py (for large corpora: analysis in two
    processes, postings written by a forked one); Whoosh's stock writer fed the same terms
    must give the same results, scores and pages."""
    from collections import Counter

    from whoosh import index as whoosh_index

    from chalicelib.search import analyzer as analysis
    from chalicelib.search.build import build, corpus, index_articles, read_articles, related_articles, schema
    from chalicelib.search.index import FIELDS

    if large:
        monkeypatch.setattr(corpus, "LARGE_CORPUS", 100)
        monkeypatch.setattr(corpus.os, "cpu_count", lambda: 2)

    from dataclasses import replace

    # 40 copies of each fixture article: common words get more than one 128-posting block
    articles = [replace(a, slug=f"{a.slug}-{i}") for i in range(40) for a in read_articles(FIXTURES)]
    build(FIXTURES, tmp_path / "fast", articles=articles)
    corpus = index_articles(articles, analysis.Analyzer.for_build())
    related = related_articles(corpus)
    per_doc: list[dict] = [{name: Counter() for name in FIELDS} for _ in corpus.stored]
    for name in FIELDS:
        for term, (docnums, counts) in corpus.postings[name].items():
            for docnum, count in zip(docnums, counts, strict=True):
                per_doc[docnum][name][term] = count
    reference = tmp_path / "stock"
    shutil.copytree(tmp_path / "fast", reference, ignore=shutil.ignore_patterns("*.seg", "*.toc", "*LOCK"))
    writer = whoosh_index.create_in(str(reference), schema()).writer()
    for docnum, fields in enumerate(corpus.stored):
        writer.add_document(related=related[docnum], **fields, **per_doc[docnum])
    writer.commit()
    assert _answers(tmp_path / "fast") == _answers(reference)


def test_two_worker_build_answers_like_one_process(tmp_path, monkeypatch):
    """Large corpora are read and analysed by two processes, each taking half of the articles;
    joining their postings must not change any result or related-article list."""
    from chalicelib.search.build import build, corpus

    monkeypatch.setattr(corpus, "LARGE_CORPUS", 4)  # the 7 fixture articles count as large
    monkeypatch.setattr(corpus.os, "cpu_count", lambda: 2)
    build(FIXTURES, tmp_path / "two")
    monkeypatch.setattr(corpus.os, "cpu_count", lambda: 1)
    build(FIXTURES, tmp_path / "one")
    assert _answers(tmp_path / "two") == _answers(tmp_path / "one")
    related = {slug: page["related"] for slug, page in _answers(tmp_path / "two")[1]}
    assert all(len(links) == 3 for links in related.values())
