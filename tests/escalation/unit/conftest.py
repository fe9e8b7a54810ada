"""The fast tier for escalation: the use cases on the in-memory store, at a fixed moment, with no AWS at all.

``cases`` puts a ``MemoryStore`` in use (``repository.use_store``) and makes any AWS call fail the test, so a
use case that still reached DynamoDB, SNS or S3 directly would show here. ``at`` is the use case's moment
(a ``Context``): Tuesday 2026-11-24 10:00 in Shanghai, a business day inside opening hours.
"""
from __future__ import annotations

import datetime as dt

import pytest

from chalicelib.kernel.actor import SENIOR_SUPPORT, SUPPORT, Actor
from tests.escalation.conftest import BUSINESS_MORNING

ALICE = Actor("u-alice", "alice", frozenset())
BOB = Actor("u-bob", "bob", frozenset())
AGENT = Actor("u-agent", "agent-wang", frozenset({SUPPORT}))
LEAD = Actor("u-lead", "lead-li", frozenset({SUPPORT, SENIOR_SUPPORT}))
PHONES = {"alice": "+8613800138001", "bob": "+8613900008001"}   # the same last four: the day tells them apart


class Moments:
    """The use cases' moment: starts at ``BUSINESS_MORNING`` and moves only when a test says so."""

    def __init__(self):
        self.now = BUSINESS_MORNING.astimezone(dt.UTC)

    def ctx(self):
        from chalicelib.config import settings
        from chalicelib.kernel.context import Context
        return Context(now=self.now, settings=settings())

    def advance(self, **delta) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def repay_twin(cases):
    """The repay domain's twin ``cases`` installed: staff reads and searches leave their access records there."""
    from chalicelib.repay import store
    return store.backend()


def opened(at, who=None, description="还款三天了还没到账，请帮忙查询", category="repayment_delay") -> str:
    """A 工单 opened through the facade (alice's unless ``who``), no repayment named; its id."""
    from chalicelib.escalation import service
    outcome = service.open_case(who or ALICE, at.ctx(), category=category, description=description,
                                repayment_id=None)
    return outcome.body["case_id"]


@pytest.fixture
def at():
    return Moments()


@pytest.fixture
def cases(monkeypatch):
    from chalicelib.adapters import aws
    from chalicelib.escalation import repository
    from chalicelib.escalation.memory import MemoryStore

    def no_aws(*args, **kwargs):
        raise AssertionError("a unit test reached AWS")
    for name in ("client", "table", "transact"):
        monkeypatch.setattr(aws, name, no_aws)
    from chalicelib.repay import memory_store as repay_memory
    from chalicelib.repay import store as repay_store
    repay_store.use(repay_memory.InMemoryRepayStore())   # what escalation asks the repay facade (access records…)
    from chalicelib.adapters import sms
    sms.use(sms.InMemorySms(PHONES))   # the owners' phones (Cognito's twin): a 工单 keeps the last four
    try:
        with repository.use_store(MemoryStore()) as store:
            yield store
    finally:
        repay_store.use(None)
        sms.use(None)
