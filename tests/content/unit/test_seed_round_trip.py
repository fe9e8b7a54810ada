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
