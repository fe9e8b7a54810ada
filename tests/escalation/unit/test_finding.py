"""Finding a 工单 on the in-memory twins: reference normalisation, words from description and conversation,
user and repayment searches, filters, paging, role visibility and the access record a user search leaves."""
from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import pytest

from chalicelib.escalation import finding, service
from chalicelib.escalation.schemas import CaseSearchQuery
from chalicelib.kernel import refusals
from tests.escalation.unit.conftest import AGENT, ALICE, BOB, LEAD, opened

pytestmark = pytest.mark.unit


def found(at, actor=AGENT, **query) -> list[str]:
    return [c.case_id for c in service.search(actor, at.ctx(), CaseSearchQuery(**query)).items]


@pytest.mark.parametrize("typed", ["ＲＤ－２０２６１２０１－ＤＡＸＪ", "rd-20261201-daxj", " RD—20261201—DAXJ "])
def test_a_reference_typed_in_full_width_lower_case_or_with_long_dashes_is_the_reference(typed):
    assert finding.normalize_reference(typed) == "RD-20261201-DAXJ"


def test_a_reference_finds_its_case_and_says_it_is_exact(cases, at):
    case_id = opened(at)
    typed = case_id.lower().translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789-abcdefghijklmnopqrstuvwxyz"})
    page = service.search(AGENT, at.ctx(), CaseSearchQuery(ref=typed))
    assert [c.case_id for c in page.items] == [case_id] and page.exact == case_id
    assert found(at, ref="RD-20990101-ZZZZ") == []
    with pytest.raises(refusals.Invalid) as refused:
        found(at, ref="not a reference")
    assert "RD-" in str(refused.value)


def test_words_of_the_description_and_of_later_messages_find_the_case_but_notes_do_not(cases, at):
    delayed = opened(at)
    fees = opened(at, BOB, description="手续费扣多了，想申请退款", category="fees")
    service.reply(AGENT, at.ctx(), fees, "已为您提交银行核查", await_user=True)
    service.add_note(AGENT, at.ctx(), delayed, "疑似洗钱需要复核")
    assert found(at, q="到账") == [delayed]
    assert found(at, q="退款") == [fees]
    assert found(at, q="核查") == [fees]                # a support reply, added after opening
    assert found(at, q="银行") == [fees]                # a piece of a longer word (「提交银行」)
    assert found(at, q="洗钱") == []                    # internal notes are never indexed
    assert found(at, q="手续费 退款") == [fees]          # every word must match
    assert found(at, q="手续费 到账") == []


def test_user_and_repayment_searches_and_the_filters(cases, at):
    first = opened(at)
    at.advance(minutes=5)
    second = opened(at, category="fees", description="手续费扣多了两块钱")
    other = opened(at, BOB)
    case = cases.get(second)
    cases.save(dataclasses.replace(case, repayment_id="r-123", version=case.version + 1), expected_version=case.version)
    assert found(at, user="ALICE") == [second, first]          # newest first, case-insensitive
    assert found(at, user="bob") == [other]
    assert found(at, repayment_id="r-123") == [second]
    assert found(at, user="alice", category="fees") == [second]
    assert found(at, user="alice", priority="P1") == []
    assert found(at, user="alice", status="open", step="frontline") == [second, first]
    day = at.now.date()
    assert found(at, user="alice", since=day, until=day) == [second, first]
    assert found(at, user="alice", until=day.replace(year=day.year - 1)) == []
    with pytest.raises(refusals.Invalid):
        found(at, user="alice", since=day, until=day.replace(year=day.year - 1))


def test_results_page_with_a_cursor_that_belongs_to_its_search(cases, at):
    made = []
    for _ in range(5):
        made.append(opened(at))
        at.advance(minutes=1)
    first = service.search(AGENT, at.ctx(), CaseSearchQuery(user="alice", limit=2))
    second = service.search(AGENT, at.ctx(), CaseSearchQuery(user="alice", limit=2, cursor=first.next_cursor))
    third = service.search(AGENT, at.ctx(), CaseSearchQuery(user="alice", limit=2, cursor=second.next_cursor))
    shown = [c.case_id for page in (first, second, third) for c in page.items]
    assert shown == made[::-1] and third.next_cursor is None
    with pytest.raises(refusals.Invalid):      # a cursor of another search
        service.search(AGENT, at.ctx(), CaseSearchQuery(user="bob", cursor=first.next_cursor))
    with pytest.raises(refusals.Invalid):
        service.search(AGENT, at.ctx(), CaseSearchQuery(user="alice", cursor="garbage"))


def test_only_staff_search_and_a_frontline_agent_does_not_see_senior_cases(cases, at):
    senior = opened(at)
    service.escalate(AGENT, at.ctx(), senior, "转高级客服", uuid.uuid4().hex)
    assert found(at, AGENT, q="到账") == []
    assert found(at, AGENT, ref=senior) == []
    assert found(at, LEAD, q="到账") == [senior]
    with pytest.raises(refusals.NotAllowed):
        found(at, ALICE, q="到账")


@pytest.mark.parametrize("query", [{}, {"user": "alice", "q": "到账"}, {"q": "   "}, {"q": "的了吗"}])
def test_no_criterion_two_criteria_or_only_filler_words_is_a_clear_refusal(cases, at, query):
    with pytest.raises(refusals.Invalid) as refused:
        found(at, **query)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(refused.value))


def test_a_search_naming_a_user_leaves_an_access_record_per_user_shown(cases, at, repay_twin):
    case_id = opened(at)
    found(at, q="到账")
    assert repay_twin.access_records(ALICE.user_id) == []          # words name no user
    found(at, user="alice")
    [record] = repay_twin.access_records(ALICE.user_id)
    assert record["staff_id"] == AGENT.user_id and record["staff_role"] == "support"
    assert record["event"] == "staff_searched_cases" and record["case_ids"] == [case_id]


def test_since_and_until_are_the_agents_days_in_shanghai_for_every_kind_of_search(cases, at):
    tuesday = at.now.date()                      # 10:00 in Shanghai
    at.advance(hours=14, minutes=30)             # 00:30 Wednesday in Shanghai, still 16:30 UTC Tuesday
    late = opened(at, description="凌晨还款失败了，提示银行维护")
    wednesday = tuesday + dt.timedelta(days=1)
    reference = cases.get(late).case_id
    for query in ({"user": "alice"}, {"q": "维护"}, {"ref": reference}):
        assert found(at, **query, since=wednesday, until=wednesday) == [late], query
        assert found(at, **query, since=tuesday, until=tuesday) == [], query
