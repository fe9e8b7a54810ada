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
    from chalicelib.search.index import KbIndex, build
    source = tmp_path / "kb"
    shutil.copytree(FIXTURES, source)
    (source / "contacts.yaml").write_text("hotlines: []\n", encoding="utf-8")
    stats = build(source, tmp_path / "index")
    assert stats["articles"] == 7
    for name in ("lexicon.txt", "pinyin.txt", "suggest.txt", "meta.json", "contacts.yaml"):
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
    from chalicelib.search.index import ArticleError, parse_article
    with pytest.raises(ArticleError, match=problem):
        parse_article(f"---\n{front_matter}\n---\nbody", origin="x.md")


def test_duplicate_slugs_are_refused(tmp_path):
    from chalicelib.search.index import ArticleError, read_articles
    shutil.copy(FIXTURES / "fees.md", tmp_path / "fees.md")
    shutil.copy(FIXTURES / "fees.md", tmp_path / "fees-copy.md")
    with pytest.raises(ArticleError, match="already used"):
        read_articles(tmp_path)


def _project_copy(tmp_path: Path) -> Path:
    """What `make index` needs, in a scratch project: Makefile, kb/, the search package."""
    project = tmp_path / "project"
    (project / "chalicelib").mkdir(parents=True)
    shutil.copy2(ROOT / "Makefile", project / "Makefile")
    shutil.copy2(ROOT / "chalicelib" / "__init__.py", project / "chalicelib" / "__init__.py")
    shutil.copytree(ROOT / "chalicelib" / "search", project / "chalicelib" / "search",
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
    os.utime(synonyms, (future + 5, future + 5))
    assert make("-q", "index").returncode == 1
