"""The seed import and the export: kb/*.md in, the same files out; a second import changes nothing."""
from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.content import service
from chalicelib.search.build.articles import read_articles

pytestmark = pytest.mark.unit
KB = Path(__file__).resolve().parents[3] / "kb"


def test_export_after_import_gives_back_the_seed_files_byte_for_byte(content, tmp_path):
    imported, present = service.import_seed(KB, service.current())
    seeds = sorted(KB.glob("*.md"))
    assert len(imported) == len(seeds) >= 21 and present == []
    written = service.export_published(tmp_path)
    assert sorted(p.name for p in written) == [p.name for p in seeds]
    for seed in seeds:
        assert (tmp_path / seed.name).read_text(encoding="utf-8") == seed.read_text(encoding="utf-8"), seed.name
    assert [a.slug for a in read_articles(tmp_path)] == [a.slug for a in read_articles(KB)]


def test_a_second_import_changes_nothing_and_keeps_editors_work(content):
    service.import_seed(KB, service.current())
    before = {slug: (a.revision, a.current) for slug, a in content.heads.items()}
    audits = len(content.audits)
    imported, present = service.import_seed(KB, service.current())
    assert imported == [] and len(present) == len(before)
    assert {slug: (a.revision, a.current) for slug, a in content.heads.items()} == before
    assert len(content.audits) == audits
    fees = content.heads["fees"]
    assert (fees.state, fees.published_version, fees.last_author_id) == ("published", 1, "import")


def test_published_sources_are_what_the_index_build_reads(content):
    service.import_seed(KB, service.current())
    sources = dict(service.published_sources())
    assert sources["fees"] == (KB / "fees.md").read_text(encoding="utf-8")


def test_the_command_line_imports_once_and_exports(content, tmp_path, capsys):
    from chalicelib.content.__main__ import main

    assert main(["import", "--source", str(KB)]) == 0
    assert main(["import", "--source", str(KB)]) == 0
    out = capsys.readouterr().out
    assert f"imported {len(list(KB.glob('*.md')))} article(s), 0 already there" in out
    assert "imported 0 article(s)" in out
    assert main(["export", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "fees.md").read_text(encoding="utf-8") == (KB / "fees.md").read_text(encoding="utf-8")


def test_a_seed_that_breaks_a_rule_stops_the_import_before_anything_is_written(content, tmp_path):
    from chalicelib.content.__main__ import main

    (tmp_path / "a-good.md").write_text((KB / "fees.md").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "b-bad.md").write_text("---\nslug: b-bad\ntitle: 坏\ncategory: about\n---\n请拨打 400-123-4567。\n",
                                       encoding="utf-8")
    assert main(["import", "--source", str(tmp_path)]) == 1
    assert content.heads == {}
