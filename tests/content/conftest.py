"""The content area's fixtures: the in-memory content store and a fake index builder that records its calls."""
from __future__ import annotations

import pytest

from chalicelib.kernel.actor import Actor

EDITOR = Actor(user_id="u-editor", username="editor", roles=frozenset({"kb-editor"}))
EDITOR2 = Actor(user_id="u-editor2", username="editor2", roles=frozenset({"kb-editor"}))
LEAD = Actor(user_id="u-lead", username="lead", roles=frozenset({"senior-support"}))
LEAD2 = Actor(user_id="u-lead2", username="lead2", roles=frozenset({"senior-support"}))
AGENT = Actor(user_id="u-agent", username="agent", roles=frozenset({"support"}))
ALICE = Actor(user_id="u-alice", username="alice")

ARTICLE = {"title": "信用卡还款到账时间", "category": "repayment", "tags": ["到账", "信用卡"],
           "questions": ["还款多久到账", "还了款怎么还没到账"],
           "body": "还款一般 **2 小时内** 到账。\n\n有疑问请拨打客服热线 010-0000-1001。"}


class Builds:
    """The index builder port's fake: each call recorded, a build id returned."""

    def __init__(self) -> None:
        self.reasons: list[str] = []
        self.requested_by: list[str] = []

    def __call__(self, reason: str, *, requested_by: str = "") -> str:
        self.reasons.append(reason)
        self.requested_by.append(requested_by)
        return f"b-{len(self.reasons)}"


@pytest.fixture
def builds():
    from chalicelib.content import service
    fake = Builds()
    previous = service.use_index_builder(fake)
    yield fake
    service.use_index_builder(previous)


@pytest.fixture
def content(memory, builds):
    """The content use cases on the in-memory twin (fast tier)."""
    from chalicelib.content import store
    from chalicelib.content.memory_store import InMemoryContentStore
    twin = InMemoryContentStore()
    store.use(twin)
    yield twin
    store.use(None)
