"""A case climbs every step by each trigger: the user, support, and the lapsed time limit (the sweep)."""
import datetime as dt

import pytest

from tests.escalation.conftest import key

TEAMS = {"frontline": "frontline", "senior": "senior", "public_feedback": "public-feedback",
         "legal_guidance": "legal"}


def escalate_by(trigger, api, case_id, user, staff, clock, sweep):
    if trigger == "user":
        # the owner may move the case once the step has answered or (here) its limit has lapsed
        deadline = api.get(f"/support/cases/{case_id}", token=user.token).json["deadline"]
        from chalicelib.escalation.model import parse
        clock.freeze(parse(deadline))
        response = api.post(f"/support/cases/{case_id}/escalate", token=user.token,
                            json_body={"reason": "答复没有解决问题"}, headers=key())
        assert response.status == 200, response.text
    elif trigger == "support":
        step = api.get(f"/support/cases/{case_id}", token=user.token).json["step"]
        who = staff["agent"] if step == "frontline" else staff["lead"]
        response = api.post(f"/support/cases/{case_id}/escalate", token=who.token, json_body={"reason": "需要上级处理"},
                            headers=key())
        assert response.status == 200, response.text
    else:  # the time limit lapses without a support response
        deadline = api.get(f"/support/cases/{case_id}", token=user.token).json["deadline"]
        from chalicelib.escalation.model import parse
        clock.freeze(parse(deadline) - dt.timedelta(seconds=1))
        assert sweep()["escalated"] == 0
        clock.advance(dt.timedelta(seconds=1))
        assert sweep()["escalated"] == 1


@pytest.mark.parametrize("trigger, actor", [("user", "user"), ("support", "support"), ("lapse", "system")])
def test_walk_every_step_by_one_trigger(trigger, actor, api, alice, agent, lead, clock, sweep, open_case, inbox,
                                        emails_sent, sms_sent):
    case = open_case(alice)
    case_id = case["case_id"]
    assert case["step"] == "frontline" and case["status"] == "open" and case["priority"] == "P2"
    assert [m["event"] for m in inbox("frontline")] == ["case.arrived"]

    for expected in ("senior", "public_feedback", "legal_guidance"):
        escalate_by(trigger, api, case_id, alice, {"agent": agent, "lead": lead}, clock, sweep)
        view = api.get(f"/support/cases/{case_id}", token=alice.token).json
        assert view["step"] == expected and view["status"] == "open"
        arrived = inbox(TEAMS[expected])
        assert [(m["event"], m["case_id"], m["step"]) for m in arrived] == [("case.arrived", case_id, expected)]
        assert view["deadline"] == arrived[0]["deadline"]

    view = api.get(f"/support/cases/{case_id}", token=alice.token).json
    moves = [(e["from"], e["to"], e["actor"]) for e in view["timeline"] if e["event"] == "escalated"]
    assert moves == [("frontline", "senior", actor), ("senior", "public_feedback", actor),
                     ("public_feedback", "legal_guidance", actor)]
    assert all(e["at"] for e in view["timeline"])
    # Final step: regulator and legal routes, evidence and the export
    legal = view["legal_guidance"]
    assert [r["contact"] for r in legal["routes"]][:3] == ["12363", "12378", "12315"]
    assert any("仲裁" in r["name"] for r in legal["routes"]) and any("法院" in r["name"] for r in legal["routes"])
    assert legal["evidence_to_keep"]
    assert "最后一步" in view["what_next"]
    # ... and there is no step after it
    refused = api.post(f"/support/cases/{case_id}/escalate", token=alice.token, json_body={"reason": "还是不行"},
                       headers=key())
    assert refused.status == 409 and refused.json["error"]["code"] == "final_step"
    # The teams were e-mailed at each arrival; the user was texted each time, the last with the routes
    subjects = [s for _, s, _ in emails_sent()]
    assert sum("→" in s for s in subjects) == 4
    texts = [text for _, text in sms_sent()]
    assert len(texts) == 4 and "12363" in texts[-1]


def test_lapse_at_the_final_step_alerts_the_team_once(api, alice, lead, clock, sweep, open_case, inbox):
    case_id = open_case(alice)["case_id"]
    for _ in range(3):
        api.post(f"/support/cases/{case_id}/escalate", token=lead.token, json_body={"reason": "没有解决"},
                 headers=key())
    inbox("legal")
    clock.advance(dt.timedelta(days=10))
    assert sweep()["overdue"] == 1
    assert sweep() == {"warned": 0, "escalated": 0, "overdue": 0, "closed": 0, "skipped": 0, "failed": 0}
    assert [m["event"] for m in inbox("legal")] == ["case.overdue"]
    assert api.get(f"/support/cases/{case_id}", token=alice.token).json["step"] == "legal_guidance"


def test_team_is_warned_before_the_deadline(api, alice, agent, clock, sweep, open_case, inbox, emails_sent):
    case = open_case(alice)  # Tuesday 10:00, 4 business hours → 14:00
    inbox("frontline")
    clock.advance(dt.timedelta(hours=2, minutes=59))
    assert sweep()["warned"] == 0
    clock.advance(dt.timedelta(minutes=2))  # past 75 % of the limit
    assert sweep()["warned"] == 1
    assert sweep()["warned"] == 0  # once only
    warning = inbox("frontline")
    assert [(m["event"], m["case_id"]) for m in warning] == [("case.deadline_warning", case["case_id"])]
    assert any("即将超时" in subject for _, subject, _ in emails_sent())
    staff_view = api.get(f"/support/cases/{case['case_id']}", token=agent.token).json
    assert staff_view["step"] == "frontline"
    assert staff_view["timeline"][-1]["event"] == "deadline_warning"
    assert "即将超过答复时限" in staff_view["timeline"][-1]["text"]
    # The warning concerns the team: the owner's timeline does not show it.
    owners = api.get(f"/support/cases/{case['case_id']}", token=alice.token).json
    assert [e["event"] for e in owners["timeline"]] == ["created"]


def test_what_next_and_deadline_in_plain_chinese(api, alice, clock, open_case):
    case = open_case(alice)
    assert case["deadline_local"] == "2026-11-24 14:00"
    assert "2026-11-24 14:00" in case["what_next"] and "高级客服" in case["what_next"]


def test_waiting_on_the_user_pauses_the_clock(api, alice, agent, clock, sweep, open_case, inbox):
    case_id = open_case(alice)["case_id"]  # 10:00, deadline 14:00
    clock.advance(dt.timedelta(hours=1))    # 1 business hour used
    replied = api.post(f"/support/cases/{case_id}/reply", token=agent.token,
                       json_body={"message": "请提供扣款短信截图", "await_user": True})
    assert replied.status == 200, replied.text
    paused = api.get(f"/support/cases/{case_id}", token=alice.token).json
    assert paused["status"] == "waiting_user" and paused["clock_paused"] and paused["deadline"] is None
    assert "暂停" in paused["what_next"]
    assert [(m["author"], m["text"], m["kind"]) for m in paused["conversation"]] == [
        ("support", "请提供扣款短信截图", None)]

    clock.advance(dt.timedelta(days=3))     # Friday 11:00: days pass, nothing lapses
    assert sweep()["escalated"] == 0
    inbox("frontline")
    resumed = api.post(f"/support/cases/{case_id}/messages", token=alice.token, json_body={"message": "截图已上传"})
    assert resumed.status == 200, resumed.text
    assert [m["event"] for m in inbox("frontline")] == ["case.user_replied"]  # the team owes a response again
    view = resumed.json
    # 3 business hours were left: Friday 11:00 + 3 h = 14:00
    assert view["status"] == "open" and not view["clock_paused"] and view["deadline_local"] == "2026-11-27 14:00"
    assert [e["event"] for e in view["timeline"]][-2:] == ["paused", "resumed"]
    clock.advance(dt.timedelta(hours=3))
    assert sweep()["escalated"] == 1
    assert api.get(f"/support/cases/{case_id}", token=alice.token).json["step"] == "senior"


def test_a_holding_reply_meets_the_limit_and_starts_a_fresh_one(api, alice, agent, clock, sweep, open_case):
    case = open_case(alice)                 # Tuesday 10:00 → 14:00
    clock.advance(dt.timedelta(hours=3))    # 13:00
    view = api.post(f"/support/cases/{case['case_id']}/reply", token=agent.token,
                    json_body={"message": "正在核查", "await_user": False}).json
    assert view["status"] == "open" and view["deadline_local"] == "2026-11-24 17:00"  # 4 business hours from 13:00
    clock.advance(dt.timedelta(hours=1, minutes=1))  # past the old deadline: the response was given, no move
    assert sweep()["escalated"] == 0
    clock.freeze(dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC))  # 17:00 Shanghai: the fresh limit lapses
    assert sweep()["escalated"] == 1


def test_resolve_then_reopen_returns_to_the_same_step(api, alice, agent, lead, clock, sweep, open_case, inbox):
    case_id = open_case(alice)["case_id"]
    api.post(f"/support/cases/{case_id}/escalate", token=agent.token, json_body={"reason": "需要高级客服"},
             headers=key())
    resolved = api.post(f"/support/cases/{case_id}/resolve", token=lead.token, json_body={"summary": "款项已退回"})
    assert resolved.status == 200 and resolved.json["status"] == "resolved"
    assert resolved.json["deadline"] is None
    clock.advance(dt.timedelta(days=6))
    inbox("senior")
    reopened = api.post(f"/support/cases/{case_id}/reopen", token=alice.token, json_body={"reason": "并没有收到退款"})
    assert reopened.status == 200, reopened.text
    view = reopened.json
    assert view["step"] == "senior" and view["status"] == "open" and view["deadline"]
    assert view["timeline"][-1]["event"] == "reopened" and view["timeline"][-1]["actor"] == "user"
    assert [m["event"] for m in inbox("senior")] == ["case.arrived"]


def test_reopen_window_is_seven_days_then_the_case_closes(api, alice, agent, clock, sweep, open_case):
    case_id = open_case(alice)["case_id"]
    api.post(f"/support/cases/{case_id}/resolve", token=agent.token, json_body={"summary": "已到账"})
    clock.advance(dt.timedelta(days=7, minutes=1))
    late = api.post(f"/support/cases/{case_id}/reopen", token=alice.token, json_body={"reason": "又出问题了"})
    assert late.status == 409 and late.json["error"]["code"] == "reopen_window_passed"
    assert sweep()["closed"] == 1
    view = api.get(f"/support/cases/{case_id}", token=alice.token).json
    assert view["status"] == "closed" and view["timeline"][-1]["actor"] == "system"


def test_user_confirms_a_resolved_case(api, alice, agent, clock, sweep, open_case):
    case_id = open_case(alice)["case_id"]
    assert api.post(f"/support/cases/{case_id}/confirm", token=alice.token).status == 409  # not resolved yet
    api.post(f"/support/cases/{case_id}/resolve", token=agent.token, json_body={"summary": "已到账"})
    confirmed = api.post(f"/support/cases/{case_id}/confirm", token=alice.token)
    assert confirmed.status == 200 and confirmed.json["status"] == "closed"
    clock.advance(dt.timedelta(days=30))
    assert sweep()["closed"] == 0
    assert api.post(f"/support/cases/{case_id}/reopen", token=alice.token,
                    json_body={"reason": "again"}).status == 409


def test_queue_lists_open_cases_nearest_deadline_first_with_a_cursor(api, alice, bob, agent, clock, open_case):
    ids = []
    for user in (alice, bob, alice):
        ids.append(open_case(user)["case_id"])
        clock.advance(dt.timedelta(minutes=30))
    first = api.get("/support/queues/frontline?limit=2", token=agent.token)
    assert first.status == 200, first.text
    assert [c["case_id"] for c in first.json["items"]] == ids[:2]
    assert first.json["next_cursor"]
    second = api.get(f"/support/queues/frontline?limit=2&cursor={first.json['next_cursor']}", token=agent.token).json
    assert [c["case_id"] for c in second["items"]] == ids[2:]
    assert second["next_cursor"] is None
    # resolved cases leave the queue
    api.post(f"/support/cases/{ids[0]}/resolve", token=agent.token, json_body={"summary": "已处理"})
    left = api.get("/support/queues/frontline", token=agent.token).json["items"]
    assert [c["case_id"] for c in left] == ids[1:]
    assert api.get("/support/queues/senior", token=agent.token).status == 403   # not a step frontline works (#21)


def test_users_list_their_own_cases(api, alice, bob, clock, open_case):
    mine = open_case(alice)["case_id"]
    open_case(bob)
    listed = api.get("/support/cases", token=alice.token).json["items"]
    assert [c["case_id"] for c in listed] == [mine]


def test_assign_and_notes_for_staff(api, alice, agent, clock, open_case):
    case_id = open_case(alice)["case_id"]
    assigned = api.post(f"/support/cases/{case_id}/assign", token=agent.token, json_body={})
    assert assigned.status == 200 and assigned.json["assignee"] == "agent"
    note = api.post(f"/support/cases/{case_id}/notes", token=agent.token, json_body={"text": "用户情绪激动，注意安抚"})
    assert note.status == 201
    staff_view = api.get(f"/support/cases/{case_id}", token=agent.token).json
    assert [n["text"] for n in staff_view["notes"]] == ["用户情绪激动，注意安抚"]


def test_a_small_sweep_batch_leaves_the_rest_for_the_next_run_and_moves_none_twice(api, make_user, clock, open_case,
                                                                                    inbox):
    """Cases spread over the due index's shards; a sweep limited to a batch moves only that many,
    the next runs move the others, and no case climbs two steps for one lapse."""
    from chalicelib.escalation import service
    from chalicelib.kernel.context import Context
    case_ids = [open_case(make_user(f"batch{i}", phone=f"+861380013{i:04d}"))["case_id"] for i in range(7)]
    clock.advance(dt.timedelta(hours=5))  # every frontline limit has lapsed
    batches = [service.sweep(Context.current(), limit=3)["escalated"] for _ in range(4)]
    assert batches == [3, 3, 1, 0]
    arrived = inbox("senior")
    assert sorted(m["case_id"] for m in arrived) == sorted(case_ids)
    staff = make_user("batch-agent", role="senior-support")   # senior cases are read by senior support (#21)
    for case_id in case_ids:
        assert api.get(f"/support/cases/{case_id}", token=staff.token).json["step"] == "senior"
