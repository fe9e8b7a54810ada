"""An owner escalates one step per answer (or lapsed limit); user changes are once per Idempotency-Key (#11)."""
import datetime as dt

from tests.escalation.conftest import key


def escalate(api, user, case_id, headers=None, reason="答复没有解决问题"):
    return api.post(f"/support/cases/{case_id}/escalate", token=user.token, json_body={"reason": reason},
                    headers=key() if headers is None else headers)


def moves(case_id):
    from chalicelib.escalation import store
    return [(e["from"], e["to"], e["actor"]) for e in store.get(case_id).timeline if e["event"] == "escalated"]


def test_escalate_requires_an_idempotency_key(api, alice, agent, clock, open_case):
    case_id = open_case(alice)["case_id"]
    for user in (alice, agent):
        refused = escalate(api, user, case_id, headers={})
        assert refused.status == 400 and refused.json["error"]["code"] == "idempotency_key_missing"
        assert refused.json["error"]["field"] == "Idempotency-Key"
    assert escalate(api, agent, case_id, headers={"Idempotency-Key": "键"}).status == 400
    assert moves(case_id) == []
    spec = api.get("/openapi.json").json["paths"]["/support/cases/{case_id}/escalate"]["post"]["parameters"]
    assert {"name": "Idempotency-Key", "in": "header", "required": True}.items() <= \
        next(p for p in spec if p["name"] == "Idempotency-Key").items()


def test_an_owner_cannot_skip_a_team_that_has_not_answered(api, alice, agent, lead, clock, open_case, inbox, sms_sent):
    case_id = open_case(alice)["case_id"]          # Tuesday 10:00, frontline answers by 14:00
    inbox("frontline"), inbox("senior")
    texts = len(sms_sent())
    refused = escalate(api, alice, case_id)
    assert refused.status == 409 and refused.json["error"]["code"] == "step_not_answered"
    assert "一线客服" in refused.json["error"]["message"] and "2026-11-24 14:00" in refused.json["error"]["message"]
    deadline = api.get(f"/support/cases/{case_id}", token=alice.token).json["deadline"]
    assert refused.json["error"]["not_before"] == deadline
    assert refused.headers["retry-after"] == str(4 * 3600)
    assert moves(case_id) == [] and inbox("senior") == [] and len(sms_sent()) == texts

    # frontline answers: now the owner may say it did not help, one step
    assert api.post(f"/support/cases/{case_id}/reply", token=agent.token,
                    json_body={"message": "已转财务核查", "await_user": False}).status == 200
    assert escalate(api, alice, case_id).status == 200
    # senior has not answered yet: the next click is refused, with when it is allowed
    again = escalate(api, alice, case_id)
    assert again.status == 409 and again.json["error"]["code"] == "step_not_answered"
    assert "高级客服" in again.json["error"]["message"]
    assert moves(case_id) == [("frontline", "senior", "user")]
    # ... until senior's limit lapses (the owner need not wait for the sweep)
    clock.freeze(clock.parse(api.get(f"/support/cases/{case_id}", token=alice.token).json["deadline"]))
    assert escalate(api, alice, case_id).status == 200
    # staff keep escalating at will
    assert escalate(api, lead, case_id).status == 200
    assert moves(case_id) == [("frontline", "senior", "user"), ("senior", "public_feedback", "user"),
                              ("public_feedback", "legal_guidance", "support")]


def test_a_resolved_or_waiting_case_has_been_answered(api, alice, agent, clock, open_case):
    waiting = open_case(alice)["case_id"]
    api.post(f"/support/cases/{waiting}/reply", token=agent.token, json_body={"message": "请提供截图"})
    assert escalate(api, alice, waiting).status == 200
    resolved = open_case(alice)["case_id"]
    api.post(f"/support/cases/{resolved}/resolve", token=agent.token, json_body={"summary": "已到账"})
    assert escalate(api, alice, resolved).status == 200
    reopened = open_case(alice)["case_id"]  # reopened: back at the step with a fresh clock, owed a new answer
    api.post(f"/support/cases/{reopened}/resolve", token=agent.token, json_body={"summary": "已到账"})
    api.post(f"/support/cases/{reopened}/reopen", token=alice.token, json_body={"reason": "并没有到账"})
    assert escalate(api, alice, reopened).json["error"]["code"] == "step_not_answered"


def test_a_double_submitted_escalate_moves_once_and_replays(api, alice, agent, lead, clock, open_case, inbox):
    case_id = open_case(alice)["case_id"]
    api.post(f"/support/cases/{case_id}/reply", token=agent.token, json_body={"message": "处理中", "await_user": False})
    inbox("senior")
    same = key()
    first = escalate(api, alice, case_id, headers=same)
    second = escalate(api, alice, case_id, headers=same)
    assert first.status == second.status == 200
    assert second.json == first.json and second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert moves(case_id) == [("frontline", "senior", "user")] and len(inbox("senior")) == 1
    reused = escalate(api, alice, case_id, headers=same, reason="换一个理由")
    assert reused.status == 422 and reused.json["error"]["code"] == "idempotency_key_reused"
    # a key is the caller's own: staff using the same string make their own move
    assert escalate(api, lead, case_id, headers=same).status == 200
    assert moves(case_id)[-1] == ("senior", "public_feedback", "support")


def test_a_repeat_while_the_first_is_in_flight_is_a_409_and_one_move(api, alice, agent, clock, open_case, monkeypatch):
    from chalicelib.escalation import store
    case_id = open_case(alice)["case_id"]
    api.post(f"/support/cases/{case_id}/reply", token=agent.token, json_body={"message": "处理中", "await_user": False})
    same, real_get, seen = key(), store.get, []

    def repeat_meanwhile(cid):
        case = real_get(cid)
        if not seen:
            seen.append(escalate(api, alice, case_id, headers=same))  # the double tap arrives now
        return case
    monkeypatch.setattr(store, "get", repeat_meanwhile)
    assert escalate(api, alice, case_id, headers=same).status == 200
    assert seen[0].status == 409 and seen[0].json["error"]["code"] == "request_in_progress"
    assert seen[0].headers["retry-after"] == "1"
    assert moves(case_id) == [("frontline", "senior", "user")]


def test_parallel_escalations_with_different_keys_move_once(api, alice, agent, clock, open_case, monkeypatch):
    from chalicelib.escalation import store
    case_id = open_case(alice)["case_id"]
    api.post(f"/support/cases/{case_id}/reply", token=agent.token, json_body={"message": "处理中", "await_user": False})
    real_get, seen = store.get, []

    def other_tab_meanwhile(cid):
        case = real_get(cid)
        if not seen:
            seen.append(None)
            seen[0] = escalate(api, alice, case_id)  # another key, after this one read the same version
        return case
    monkeypatch.setattr(store, "get", other_tab_meanwhile)
    late = escalate(api, alice, case_id)
    assert seen[0].status == 200
    assert late.status == 409 and late.json["error"]["code"] == "version_conflict"
    assert moves(case_id) == [("frontline", "senior", "user")]


def test_owner_changes_replay_under_the_same_key(api, alice, agent, clock, open_case, sms_sent, inbox):
    opening = {"category": "fees", "description": "手续费比说的多了，请核实"}
    same = key()
    first = api.post("/support/cases", token=alice.token, json_body=opening, headers=same)
    again = api.post("/support/cases", token=alice.token, json_body=opening, headers=same)
    assert first.status == again.status == 201 and again.json == first.json
    assert again.headers["idempotent-replayed"] == "true" and again.headers["location"] == first.headers["location"]
    assert len(api.get("/support/cases", token=alice.token).json["items"]) == 1
    assert len(inbox("frontline")) == 1
    case_id = first.json["case_id"]

    message_key = key()
    for _ in range(2):
        sent = api.post(f"/support/cases/{case_id}/messages", token=alice.token, json_body={"message": "补充截图"},
                        headers=message_key)
        assert sent.status == 200 and [m["text"] for m in sent.json["conversation"]] == ["补充截图"]
    shown = api.get(f"/support/cases/{case_id}", token=alice.token).json["conversation"]
    assert [m["text"] for m in shown] == ["补充截图"]

    api.post(f"/support/cases/{case_id}/resolve", token=agent.token, json_body={"summary": "已退还差额"})
    reopen_key = key()
    for _ in range(2):
        assert api.post(f"/support/cases/{case_id}/reopen", token=alice.token, json_body={"reason": "没有收到"},
                        headers=reopen_key).status == 200
    api.post(f"/support/cases/{case_id}/resolve", token=agent.token, json_body={"summary": "已再次退还"})
    confirm_key = key()
    for _ in range(2):
        confirmed = api.post(f"/support/cases/{case_id}/confirm", token=alice.token, headers=confirm_key)
        assert confirmed.status == 200 and confirmed.json["status"] == "closed"
    events = [e["event"] for e in api.get(f"/support/cases/{case_id}", token=alice.token).json["timeline"]]
    assert events.count("reopened") == 1 and events.count("confirmed") == 1 and events.count("user_message") == 1


def test_a_case_with_a_very_long_conversation_still_answers_under_a_key(api, alice, clock, open_case):
    """An answer too large to keep in DynamoDB beside the case (400 KB an item) is not a 500."""
    case_id = open_case(alice)["case_id"]
    text = "这是补充说明，" * 280  # 1,960 characters, ~5.9 KB in UTF-8
    for _ in range(70):
        assert api.post(f"/support/cases/{case_id}/messages", token=alice.token,
                        json_body={"message": text}).status == 200
    sent = api.post(f"/support/cases/{case_id}/messages", token=alice.token, json_body={"message": "最后一条"},
                    headers=key())
    assert sent.status == 200, sent.text
    assert len(sent.json["conversation"]) == 71 and sent.json["conversation"][-1]["text"] == "最后一条"
