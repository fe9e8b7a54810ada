"""Fixtures of the search-engine tests: an index built from ``tests/search/fixtures/``.

Imported by the test modules that need them (no package-wide conftest, so other
``tests/search`` modules are unaffected).
"""
from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def fixture_index(tmp_path_factory) -> Path:
    from chalicelib.search.build import build

    out = tmp_path_factory.mktemp("kb") / "index"
    build(FIXTURES, out)
    return out


@pytest.fixture
def kb(fixture_index, monkeypatch):
    """The search service pointed at the fixture index (no AWS: zero-result counts are kept in
    ``service.zero_results_seen`` instead of DynamoDB)."""
    from chalicelib import config
    from chalicelib.search import service, store

    seen = []
    monkeypatch.setattr(store, "count_zero_result", lambda query, *, day: seen.append((query, day)))
    monkeypatch.setattr(service, "zero_results_seen", seen, raising=False)
    monkeypatch.setenv("KB_INDEX_DIR", str(fixture_index))
    config.reload()
    service.reset()
    yield service
    service.flush_analytics()
    service.reset()
    config.reload()


@pytest.fixture
def kb_api(api, fixture_index, monkeypatch):
    """The API (moto-backed) with the search service on the fixture index."""
    from chalicelib import config
    from chalicelib.search import service, store

    monkeypatch.setenv("KB_INDEX_DIR", str(fixture_index))
    config.reload()
    service.reset()
    store.resume_analytics()
    yield api
    service.flush_analytics()  # nothing may reach DynamoDB after moto is gone
    store.resume_analytics()
    service.reset()
