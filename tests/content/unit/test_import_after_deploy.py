"""``make import-content`` (devtools/import_content.py), the step after a deploy: the seed articles, contacts and
quick replies land once in empty tables; a second run, or one after editors' work, changes nothing."""
from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.content import service as content_service
from devtools import import_content
from tests.editions.fixtures import editions_twin

pytestmark = pytest.mark.unit

SEED = Path(__file__).resolve().parents[3] / "kb"


def test_a_fresh_stage_gets_the_seed_once(content, editions_twin):
    first = import_content.import_all(SEED)
    assert sorted(first["articles"]) == sorted(p.stem for p in SEED.glob("*.md"))
    assert first["contacts"] is True and first["macros"] is True
    published = dict(content_service.published_sources())
    assert set(published) == {p.stem for p in SEED.glob("*.md")}
    assert published["repayment-failed"] == (SEED / "repayment-failed.md").read_text(encoding="utf-8")

    again = import_content.import_all(SEED)
    assert again == {"articles": [], "contacts": False, "macros": False}
    assert dict(content_service.published_sources()) == published
