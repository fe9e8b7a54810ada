"""The escalation use cases on the in-memory store: what a user and the teams see, at a fixed moment."""
from __future__ import annotations

import uuid

import pytest

from chalicelib.escalation import service
from chalicelib.kernel import refusals
from tests.escalation.unit.conftest import AGENT, ALICE, BOB, LEAD

pytestmark = pytest.mark.unit


def opened(at, who=ALICE, category="repayment_delay", **kwargs) -> dict:
    outcome = service.open_case(who, at.ctx(), category=category, description="还款三天了还没到账，请帮忙查询",
                                repayment_id=None, **kwargs)
    assert outcome.status_code == 201
    return outcome.body


def key() -> str:
    return uuid.uuid4().hex


def test_opening_a_case_starts_the_frontline_clock_and_tells_the_team_and_the_user(cases, at):
    body = opened(at)
    assert body["step"] == "frontline" and body["status"] == "open"
    assert body["deadline"] == "2026-11-24T06:00:00.000Z"          # 4 business hours from 10:00 Shanghai
    assert [e["event"] for e in body["timeline"]] == ["created"]
    assert {m.channel for m in cases.sent} == {"sns", "email", "sms", "user_email"}
    assert [c.case_id for c in cases.cases_of_user(ALICE.user_id)] == [body["case_id"]]
    assert any("case.created" in str(element) for element in cases.elements)   # the reports' event, same write


def test_an_idempotency_key_opens_one_case_and_replays_its_answer(cases, at):
    same = key()
    first = service.open_case(ALICE, at.ctx(), category="fees", description="手续费扣多了", repayment_id=None,
                              idempotency_key=same)
    again = service.open_case(ALICE, at.ctx(), category="fees", description="手续费扣多了", repayment_id=None,
                              idempotency_key=same)
    assert again.replayed and again.body == first.body
    assert len(cases.cases) == 1
    with pytest.raises(refusals.Rejected):   # the same key for another 工单
        service.open_case(ALICE, at.ctx(), category="fees", description="另一件事", repayment_id=None,
                          idempotency_key=same)


def test_someone_elses_case_looks_missing_and_staff_see_only_their_steps(cases, at):
    case_id = opened(at)["case_id"]
    with pytest.raises(refusals.Missing):
        service.get_case(BOB, at.ctx(), case_id)
    assert service.get_case(AGENT, at.ctx(), case_id).step == "frontline"
    service.escalate(AGENT, at.ctx(), case_id, "转高级客服", key())
    with pytest.raises(refusals.NotAllowed):        # a frontline agent on a senior case
        service.get_case(AGENT, at.ctx(), case_id)
    assert service.get_case(LEAD, at.ctx(), case_id).step == "senior"


def test_reply_pauses_the_clock_and_the_users_answer_resumes_it(cases, at):
    case_id = opened(at)["case_id"]
    at.advance(hours=1)
    replied = service.reply(AGENT, at.ctx(), case_id, "请提供扣款短信截图", await_user=True).body
    assert replied["status"] == "waiting_user" and replied["deadline"] is None and replied["clock_paused"]
    assert [m["text"] for m in replied["conversation"]] == ["请提供扣款短信截图"]
    at.advance(days=2)                               # waiting on the user does not count
    answered = service.add_user_message(ALICE, at.ctx(), case_id, "截图已上传").body
    assert answered["status"] == "open"
    assert answered["deadline"] == "2026-11-26T06:00:00.000Z"   # the 3 business hours left, from 11:00 two days on
    assert [m.author for m in service.get_case(ALICE, at.ctx(), case_id).conversation] == ["support", "user"]


def test_the_owner_escalates_only_once_the_step_answered_or_lapsed(cases, at):
    case_id = opened(at)["case_id"]
    with pytest.raises(refusals.Conflicting) as refused:
        service.escalate(ALICE, at.ctx(), case_id, "一直没人回复", key())
    assert refused.value.code == "step_not_answered" and refused.value.retry_after == 4 * 3600
    service.reply(AGENT, at.ctx(), case_id, "正在核查", await_user=False)
    same = key()
    moved = service.escalate(ALICE, at.ctx(), case_id, "答复没有解决问题", same)
    assert moved.body["step"] == "senior"
    repeat = service.escalate(ALICE, at.ctx(), case_id, "答复没有解决问题", same)   # a double click
    assert repeat.replayed and cases.get(case_id).step == "senior"
    assert [e["event"] for e in cases.get(case_id).timeline].count("escalated") == 1


def test_resolve_then_confirm_with_a_rating_closes_it(cases, at):
    case_id = opened(at)["case_id"]
    resolved = service.resolve(AGENT, at.ctx(), case_id, "款项已于今日到账").body
    assert resolved["status"] == "resolved"
    assert resolved["conversation"][-1]["kind"] == "resolution"
    closed = service.confirm(ALICE, at.ctx(), case_id, rating=5, comment="很快").body
    assert closed["status"] == "closed" and closed["satisfaction"]["rating"] == 5
    with pytest.raises(refusals.Conflicting) as refused:
        service.rate(ALICE, at.ctx(), case_id, 4, None)
    assert refused.value.code == "already_rated"


def test_reopen_within_seven_days_returns_to_the_step_and_not_after(cases, at):
    case_id = opened(at)["case_id"]
    service.resolve(AGENT, at.ctx(), case_id, "已处理")
    at.advance(days=1)
    reopened = service.reopen(ALICE, at.ctx(), case_id, "还是没到账").body
    assert reopened["status"] == "open" and reopened["step"] == "frontline"
    service.resolve(AGENT, at.ctx(), case_id, "已再次处理")
    at.advance(days=8)
    with pytest.raises(refusals.Conflicting) as refused:
        service.reopen(ALICE, at.ctx(), case_id, "又没到账")
    assert refused.value.code == "reopen_window_passed"


def test_the_user_never_sees_staff_names_or_internal_reasons(cases, at):
    case_id = opened(at)["case_id"]
    service.assign(AGENT, at.ctx(), case_id, None)
    service.escalate(AGENT, at.ctx(), case_id, "内部：疑似通道故障", key())
    users = service.get_case(ALICE, at.ctx(), case_id)
    shown = users.model_dump_json()
    assert "agent-wang" not in shown and "u-agent" not in shown and "疑似通道故障" not in shown
    staff = service.get_case(LEAD, at.ctx(), case_id)
    assert any(e.by_name == "agent-wang" for e in staff.timeline)


def test_a_stale_write_loses_with_a_conflict_and_moves_nothing(cases, at):
    from chalicelib.escalation import casework, hours, model, notifications
    from chalicelib.escalation.memory import VersionConflict
    case_id = opened(at)["case_id"]
    stale = cases.get(case_id)
    service.escalate(AGENT, at.ctx(), case_id, "转高级客服", key())      # another move wins first
    at.advance(hours=4)
    late = model.escalate(stale, at.now, clocks=hours.clocks(at.ctx().settings), actor="user", reason="x")
    with pytest.raises(VersionConflict):
        cases.save(late, expected_version=stale.version)
    with pytest.raises(refusals.Conflicting) as refused:
        casework.save(at.ctx(), stale, late, staff=False)
    assert refused.value.code == "version_conflict"
    sent = len(cases.sent)
    with pytest.raises(VersionConflict):               # nothing of a lost write is kept: no message
        casework.commit(stale, late, notifications.arrival(late, at.ctx().settings, created=False), ctx=at.ctx())
    assert len(cases.sent) == sent
    assert cases.get(case_id).step == "senior"
    assert [e["actor"] for e in cases.get(case_id).timeline if e["event"] == "escalated"] == ["support"]


def test_internal_notes_reach_staff_views_only(cases, at):
    case_id = opened(at)["case_id"]
    note = service.add_note(AGENT, at.ctx(), case_id, "用户来电，情绪激动")
    assert note.status_code == 201
    assert [n.text for n in service.get_case(AGENT, at.ctx(), case_id).notes] == ["用户来电，情绪激动"]
    assert "情绪激动" not in service.get_case(ALICE, at.ctx(), case_id).model_dump_json()
    with pytest.raises(refusals.NotAllowed):
        service.add_note(ALICE, at.ctx(), case_id, "我也想写")


def test_queue_lists_open_cases_nearest_deadline_first_in_pages(cases, at):
    first = opened(at)["case_id"]
    at.advance(minutes=30)
    second = opened(at, who=BOB)["case_id"]
    at.advance(minutes=30)
    third = opened(at)["case_id"]
    page = service.queue(AGENT, "frontline", limit=2, cursor=None)
    assert [c.case_id for c in page.items] == [first, second] and page.next_cursor
    rest = service.queue(AGENT, "frontline", limit=2, cursor=page.next_cursor)
    assert [c.case_id for c in rest.items] == [third] and rest.next_cursor is None
    with pytest.raises(refusals.Invalid):
        service.queue(AGENT, "frontline", limit=2, cursor="bm90LW91cnM")
    with pytest.raises(refusals.NotAllowed):
        service.queue(AGENT, "senior", limit=2, cursor=None)
