"""The leads' access records on the in-memory twin: senior-support only, filters by staff member, user and
UTC day, newest first, paged across days, and the CSV has the same rows."""
from __future__ import annotations

import datetime as dt

import pytest

from chalicelib.config import settings
from chalicelib.kernel import refusals
from chalicelib.kernel.actor import SENIOR_SUPPORT, SUPPORT, Actor
from chalicelib.kernel.context import Context
from chalicelib.repay import service

pytestmark = pytest.mark.unit

AGENT = Actor("u-agent", "agent-wang", frozenset({SUPPORT}))
LEAD = Actor("u-lead", "lead-li", frozenset({SUPPORT, SENIOR_SUPPORT}))
DAY = dt.datetime(2026, 12, 9, 2, 30, tzinfo=dt.UTC)


def at(moment: dt.datetime) -> Context:
    return Context(now=moment, settings=settings())


@pytest.fixture
def recorded(memory):
    """Three reads: agent → alice (day 1), lead → bob (day 2), agent → bob (day 3, the latest)."""
    service.record_access(AGENT, at(DAY), user_id="alice", event="staff_searched_cases", case_ids=["RD-1"])
    service.record_access(LEAD, at(DAY + dt.timedelta(days=1)), user_id="bob", event="staff_searched_cases",
                          case_ids=["RD-2"])
    service.record_access(AGENT, at(DAY + dt.timedelta(days=2)), user_id="bob", event="staff_searched_cases",
                          case_ids=["RD-3"])
    return at(DAY + dt.timedelta(days=2, hours=1))


def page(ctx, **kw):
    fields = {"staff": None, "user_id": None, "since": None, "until": None, "limit": 50, "cursor": None, **kw}
    return service.access_page(LEAD, ctx, **fields)


def test_only_senior_support_reads_access_records(recorded):
    with pytest.raises(refusals.NotAllowed):
        service.access_page(AGENT, recorded, staff=None, user_id=None, since=None, until=None, limit=10, cursor=None)


def test_the_list_is_newest_first_and_filters_by_staff_user_and_day(recorded):
    rows, more = page(recorded)
    assert [r["case_ids"] for r in rows] == [["RD-3"], ["RD-2"], ["RD-1"]] and more is None
    assert rows[0]["staff_username"] == "agent-wang" and rows[0]["staff_role"] == "support"
    assert [r["case_ids"] for r in page(recorded, staff="AGENT-WANG")[0]] == [["RD-3"], ["RD-1"]]
    assert [r["case_ids"] for r in page(recorded, user_id="bob")[0]] == [["RD-3"], ["RD-2"]]
    assert [r["case_ids"] for r in page(recorded, user_id="bob", staff="lead-li")[0]] == [["RD-2"]]
    one_day = (DAY + dt.timedelta(days=1)).date()
    assert [r["case_ids"] for r in page(recorded, since=one_day, until=one_day)[0]] == [["RD-2"]]


def test_pages_continue_across_days_without_repeats(recorded):
    first, cursor = page(recorded, limit=2)
    second, end = page(recorded, limit=2, cursor=cursor)
    assert [r["case_ids"][0] for r in first + second] == ["RD-3", "RD-2", "RD-1"] and end is None
    with pytest.raises(refusals.Invalid):
        page(recorded, cursor="nonsense")


def test_bad_dates_are_refused_and_the_csv_has_the_rows(recorded):
    with pytest.raises(refusals.Invalid):
        page(recorded, since=DAY.date(), until=(DAY - dt.timedelta(days=1)).date())
    with pytest.raises(refusals.Invalid):
        page(recorded, since=DAY.date() - dt.timedelta(days=60), until=DAY.date())
    text = service.access_csv(page(recorded)[0])
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("at,staff_username,staff_role,user_id") and len(lines) == 4
    assert "RD-3" in lines[1] and "agent-wang" in lines[1]
