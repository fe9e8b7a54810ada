"""Support that follows the money, on the in-memory store at fixed moments: a 工单 hears its repayment once and
asks its owner; priority and the first-response deadline follow the due date; settlement incidents open once
from a burst of failures, group their 工单, alert the team once and carry one reply to each owner."""
from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest

from chalicelib.escalation import casework, deadlines, following, incidents, model, service
from chalicelib.escalation import hours as hours_module
from chalicelib.kernel import refusals
from tests.escalation.conftest import SHANGHAI
from tests.escalation.unit.conftest import AGENT, ALICE, BOB, LEAD

pytestmark = pytest.mark.unit
BILLER = {"kind": "utility", "biller": "国网上海市电力公司"}


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(dt.UTC)


def open_about(at, who, repayment_id, *, due_date=None, status="processing", reason=None, category="repayment_delay"):
    """A 工单 about one repayment, through the same steps as ``open_case`` (repay's lookup stubbed)."""
    ctx = at.ctx()
    case = model.open_case(case_id=model.new_reference(ctx.now, ctx.settings.time_zone), user_id=who.user_id,
                           username=who.username, category=category, description="还款还没到账，请帮忙查询",
                           repayment_id=repayment_id, now=ctx.now, clocks=hours_module.clocks(ctx.settings))
    repayment = SimpleNamespace(due_date=due_date, kind="utility", payee=BILLER, status=status, failure_reason=reason)
    case = following.on_open(case, ctx, repayment)
    casework.commit(None, case, ctx=ctx)
    return case.case_id


def event(repayment_id, outcome, *, who=ALICE, attempt=1, reason=None, biller="国网上海市电力公司") -> str:
    return json.dumps({"repayment_id": repayment_id, "user_id": who.user_id, "attempt": attempt, "event": outcome,
                       "reason": reason, "kind": "utility", "payee": {"kind": "utility", "biller": biller},
                       "text": f"您关联的生活缴费{outcome}", "due_date": None,
                       "receipt_url": f"/help/repayments/{repayment_id}/receipt" if outcome == "settled" else None})


def system_messages(cases, case_id):
    return [m for m in cases.conversation(case_id, "MSG") if m["author"] == "system"]


# ---------------------------------------------------------------- a 工单 hears its repayment
def test_a_settled_repayment_posts_one_message_with_the_receipt_and_asks_the_owner(cases, at):
    case_id = open_about(at, ALICE, "rp_1")
    assert following.hear_repayment(at.ctx(), event("rp_1", "settled")) == {"heard": 1, "already": 0, "skipped": 0}
    assert following.hear_repayment(at.ctx(), event("rp_1", "settled")) == {"heard": 0, "already": 1, "skipped": 0}
    [message] = system_messages(cases, case_id)          # a redelivered event adds no second message
    assert message["link"] == "/help/repayments/rp_1/receipt" and message["kind"] == "repayment_update"
    mine = service.get_case(ALICE, at.ctx(), case_id)
    assert mine.update_question and mine.conversation[-1].author == "system"
    [queued] = service.queue(AGENT, "frontline", limit=10, cursor=None).items
    assert queued.update == "还款已到账"                   # the agent's queue shows the marker

    closed = service.answer_update(ALICE, at.ctx(), case_id, True, None).body
    assert closed["status"] == "closed" and closed["update_question"] is None
    assert closed["timeline"][-1]["event"] == "solved_by_update" and closed["timeline"][-1]["actor"] == "user"
    with pytest.raises(refusals.Conflicting):             # nothing is asked any more
        service.answer_update(ALICE, at.ctx(), case_id, True, None)


def test_not_solved_keeps_the_case_with_its_team_and_a_stranger_cannot_answer(cases, at):
    case_id = open_about(at, ALICE, "rp_2")
    following.hear_repayment(at.ctx(), event("rp_2", "delayed"))
    with pytest.raises(refusals.Missing):
        service.answer_update(BOB, at.ctx(), case_id, True, None)
    kept = service.answer_update(ALICE, at.ctx(), case_id, False, None).body
    assert kept["status"] == "open" and kept["update_question"] is None
    assert service.queue(AGENT, "frontline", limit=10, cursor=None).items[0].update is None


def test_an_update_reaches_only_the_owners_case_and_a_malformed_one_nothing(cases, at):
    bobs = open_about(at, BOB, "rp_3")
    assert following.hear_repayment(at.ctx(), event("rp_3", "failed", reason="insufficient_funds"))["heard"] == 0
    assert following.hear_repayment(at.ctx(), "{not json") == {"heard": 0, "already": 0, "skipped": 0}
    assert system_messages(cases, bobs) == []


# ---------------------------------------------------------------- priority and deadline follow the due date
def test_a_case_about_a_repayment_due_tonight_is_p1_and_due_before_the_due_date(cases, at):
    at.now = local("2026-11-27 17:30")                    # Friday evening, the repayment is due today
    case = cases.get(open_about(at, ALICE, "rp_4", due_date="2026-11-27"))
    assert case.priority == "P1" and case.due_raised
    # P1 frontline has 2 business hours: Monday 10:30 — but the due date ends at midnight, so 23:00 tonight
    assert case.deadline == "2026-11-27T15:00:00.000Z"
    far = cases.get(open_about(at, BOB, "rp_5", due_date="2026-12-20"))
    assert far.priority == "P2" and not far.due_raised


def test_the_sweep_raises_a_case_when_the_due_date_comes_near(cases, at):
    at.now = local("2026-11-24 17:00")                    # Tuesday; due Thursday: 55 h away, not raised yet
    case_id = open_about(at, ALICE, "rp_6", due_date="2026-11-26")
    assert cases.get(case_id).priority == "P2" and cases.get(case_id).deadline == "2026-11-25T04:00:00.000Z"
    at.now = local("2026-11-25 00:30")                    # 47.5 h before the end of the due day
    assert deadlines.sweep(at.ctx())["raised"] == 1
    raised = cases.get(case_id)
    assert raised.priority == "P1" and raised.deadline == "2026-11-25T02:00:00.000Z"   # Wednesday 10:00
    assert raised.timeline[-1]["event"] == "priority_raised"
    assert "raised" not in deadlines.sweep(at.ctx())      # once


# ---------------------------------------------------------------- incidents
def fail(at, repayment_id, *, who=ALICE, biller="国网上海市电力公司", attempt=1):
    return following.hear_repayment(at.ctx(), event(repayment_id, "failed", who=who, attempt=attempt,
                                                    reason="biller_unavailable", biller=biller))


def test_a_burst_opens_one_incident_groups_its_cases_and_alerts_once(cases, at):
    linked = [open_about(at, ALICE, "rp_a"), open_about(at, BOB, "rp_b")]
    for number, repayment_id in enumerate(["rp_a", "rp_b", "rp_c", "rp_d"]):
        fail(at, repayment_id, who=BOB if repayment_id == "rp_b" else ALICE)
        at.advance(minutes=1)
        assert cases.incidents.incidents == {}, number   # 4 of 5: nothing yet
    fail(at, "rp_d")                                        # the same failure again: not counted twice
    assert cases.incidents.incidents == {}
    fail(at, "rp_e")
    [incident] = cases.incidents.incidents.values()
    assert incident.failures == 5 and len(cases.incidents.sent) == 2          # topic + inbox, once
    assert {cases.get(c).incident_id for c in linked} == {incident.incident_id}
    fail(at, "rp_f")
    fail(at, "rp_g", biller="上海燃气")                      # another biller counts on its own
    assert len(cases.incidents.incidents) == 1 and len(cases.incidents.sent) == 2
    assert cases.incidents.get(incident.incident_id).failures == 6
    later = open_about(at, ALICE, "rp_f", status="failed", reason="biller_unavailable", category="repayment_failed")
    assert cases.get(later).incident_id == incident.incident_id                # a new 工单 joins it too
    failed = SimpleNamespace(kind="utility", payee=BILLER, status="failed", failure_reason="biller_unavailable")
    assert "不要重复还款" in service.incident_for_repayment(failed).user_sentence


def test_failures_in_two_windows_do_not_add_up(cases, at):
    at.now = local("2026-11-24 10:05")
    for n in range(4):
        fail(at, f"rp_x{n}")
    at.now = local("2026-11-24 10:20")                     # the next 15-minute bucket
    for n in range(4):
        fail(at, f"rp_y{n}")
    assert cases.incidents.incidents == {}


def test_one_reply_reaches_each_owner_once_and_only_a_lead_may_send_or_close(cases, at):
    linked = [open_about(at, ALICE, f"rp_{n}") for n in range(3)]
    for n in range(5):
        fail(at, f"rp_{n}")
    [incident_id] = cases.incidents.incidents
    with pytest.raises(refusals.NotAllowed):
        service.reply_all(AGENT, at.ctx(), incident_id, "收款机构系统故障，恢复后我们会通知您。", "k1")
    with pytest.raises(refusals.Invalid):                  # the Idempotency-Key is required
        service.reply_all(LEAD, at.ctx(), incident_id, "收款机构系统故障，恢复后我们会通知您。", None)
    first = service.reply_all(LEAD, at.ctx(), incident_id, "收款机构系统故障，恢复后我们会通知您。", "k1")
    again = service.reply_all(LEAD, at.ctx(), incident_id, "收款机构系统故障，恢复后我们会通知您。", "k1")
    assert (first.reached, again.reached, again.already) == (3, 0, 3)
    for case_id in linked:
        replies = [m for m in cases.conversation(case_id, "MSG") if m["author"] == "support"]
        assert [m["text"] for m in replies] == ["收款机构系统故障，恢复后我们会通知您。"]
    shown = service.get_incident(AGENT, incident_id)
    assert len(shown.replies) == 1 and len(shown.cases) == 3
    with pytest.raises(refusals.NotAllowed):
        service.close_incident(AGENT, at.ctx(), incident_id)
    assert service.close_incident(LEAD, at.ctx(), incident_id).status == "closed"
    with pytest.raises(refusals.Conflicting):
        service.close_incident(LEAD, at.ctx(), incident_id)
    with pytest.raises(refusals.Missing):
        service.get_incident(AGENT, "INC-nope")


def test_an_incident_closes_after_a_quiet_window_and_a_new_burst_opens_another(cases, at):
    for n in range(5):
        fail(at, f"rp_q{n}")
    [first] = cases.incidents.incidents
    at.advance(minutes=59)
    deadlines.sweep(at.ctx())
    assert cases.incidents.get(first).status == "open"
    at.advance(minutes=2)
    assert deadlines.sweep(at.ctx())["incidents_closed"] == 1
    assert service.incident_for_repayment(SimpleNamespace(kind="utility", payee=BILLER, status="failed",
                                                          failure_reason="biller_unavailable")) is None
    for n in range(5):
        fail(at, f"rp_r{n}")
    assert len(cases.incidents.incidents) == 2 and len(cases.incidents.sent) == 4
