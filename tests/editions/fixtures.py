"""The editions' fixtures, one copy for every test that edits contacts or quick replies — the API (``tests/editions``),
the workspace pages (``tests/web``) and the import after a deploy (``tests/content/unit``): a conftest imports the
ones its tests use."""
from __future__ import annotations

import pytest

from chalicelib import config
from chalicelib.editions import memory_store, service, store


@pytest.fixture
def editions_live(monkeypatch):
    """Editing on (``EDITIONS_LIVE``) and no reader cache: readers follow a publish at once."""
    monkeypatch.setenv("EDITIONS_LIVE", "1")
    monkeypatch.setenv("EDITIONS_CACHE_SECONDS", "0")
    config.reload()
    service.forget()
    yield
    service.forget()


@pytest.fixture
def live(aws, editions_live):
    """The editions on moto's tables, live."""
    yield


@pytest.fixture
def editions_twin(memory):
    """The editions on the in-memory store twin (the fast tier)."""
    twin = memory_store.InMemoryEditionsStore()
    store.use(twin)
    service.forget()
    yield twin
    store.use(None)
    service.forget()
