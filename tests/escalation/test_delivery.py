"""Moves happen once however many triggers race; SNS outages lose and duplicate nothing."""
import datetime as dt

import pytest
from botocore.exceptions import EndpointConnectionError

from chalicelib.config import settings
from chalicelib.kernel.context import Context
from tests.escalation.conftest import key


def test_sweep_and_user_click_at_the_same_moment_move_the_case_once(api, alice, clock, open_case, inbox, monkeypatch):
    from chalicelib.escalation import service, store
    case_id = open_case(alice)["case_id"]
    inbox("senior")
    clock.advance(dt.timedelta(hours=5))  # the frontline limit has lapsed
    read_by_sweep = store.due_cases

    def user_clicks_between_read_and_write(*args, **kwargs):
        stale = read_by_sweep(*args, **kwargs)  # the sweep has read version N ...
        clicked = api.post(f"/support/cases/{case_id}/escalate", token=alice.token,
                           json_body={"reason": "一直没人回复"}, headers=key())  # ... the user moves it to N+1 ...
        assert clicked.status == 200
        return stale                                # ... then the sweep writes on N
    monkeypatch.setattr(store, "due_cases", user_clicks_between_read_and_write)
    result = service.sweep(Context.current())
    assert result["escalated"] == 0 and result["skipped"] == 1

    view = api.get(f"/support/cases/{case_id}", token=alice.token).json
    moves = [e for e in view["timeline"] if e["event"] == "escalated"]
    assert [(m["from"], m["to"], m["actor"]) for m in moves] == [("frontline", "senior", "user")]
    assert view["step"] == "senior"
    assert len(inbox("senior")) == 1


def test_the_losing_writer_gets_a_conflict_not_a_second_move(api, alice, agent, clock, open_case):
    from chalicelib.escalation import casework, hours, model, store
    from chalicelib.kernel import refusals
    clocks = hours.clocks(settings())
    case_id = open_case(alice)["case_id"]
    stale = store.get(case_id)
    assert api.post(f"/support/cases/{case_id}/escalate", token=agent.token,
                    json_body={"reason": "转高级客服"}, headers=key()).status == 200
    clock.advance(dt.timedelta(hours=4))  # the stale frontline limit lapsed: the owner's move is allowed by the rules
    with pytest.raises(store.VersionConflict):
        store.save(model.escalate(stale, clock.now(), clocks=clocks, actor="user", reason="x"),
                   expected_version=stale.version)
    with pytest.raises(refusals.Conflicting):
        casework.save(Context.current(), stale,
                      model.escalate(stale, clock.now(), clocks=clocks, actor="user", reason="x"), staff=False)
    assert store.get(case_id).step == "senior"


def test_user_and_staff_clicks_on_the_same_version_move_once(api, alice, agent, clock, open_case, monkeypatch):
    """Staff escalates between the user's read and write: the user's write is refused (409), one move."""
    from chalicelib.escalation import store
    case_id = open_case(alice)["case_id"]
    clock.advance(dt.timedelta(hours=4))  # the frontline limit lapsed: the owner may escalate too
    real_get = store.get
    state = {"raced": False}

    def staff_moves_first(cid):
        case = real_get(cid)
        if not state["raced"]:
            state["raced"] = True
            assert api.post(f"/support/cases/{cid}/escalate", token=agent.token,
                            json_body={"reason": "转上级"}, headers=key()).status == 200
        return case
    monkeypatch.setattr(store, "get", staff_moves_first)
    clicked = api.post(f"/support/cases/{case_id}/escalate", token=alice.token, json_body={"reason": "没解决"},
                       headers=key())
    assert clicked.status == 409 and clicked.json["error"]["code"] == "version_conflict"
    monkeypatch.setattr(store, "get", real_get)
    case = store.get(case_id)
    assert case.step == "senior" and [e["actor"] for e in case.timeline if e["event"] == "escalated"] == ["support"]


def test_sns_down_at_the_move_then_delivered_exactly_once(api, alice, agent, clock, open_case, inbox, monkeypatch):
    from chalicelib.adapters import aws, outbox
    sns = aws.client("sns")
    real_publish = sns.publish
    calls = {"failed": 0}

    def down(**kwargs):
        calls["failed"] += 1
        raise EndpointConnectionError(endpoint_url="https://sns.ap-southeast-1.amazonaws.com")
    monkeypatch.setattr(sns, "publish", down)

    case_id = open_case(alice)["case_id"]
    moved = api.post(f"/support/cases/{case_id}/escalate", token=agent.token, json_body={"reason": "转上级"},
                     headers=key())
    assert moved.status == 200  # the move commits although SNS is down
    assert calls["failed"] >= 4   # topic + SMS, twice
    assert inbox("frontline") == [] and inbox("senior") == []
    assert outbox.drain() == 0    # still down, and backing off

    monkeypatch.setattr(sns, "publish", real_publish)  # SNS recovers
    assert outbox.drain() == 0    # not due yet: backoff
    clock.advance(dt.timedelta(minutes=2))
    assert outbox.drain() >= 4
    assert [m["event"] for m in inbox("frontline")] == ["case.arrived"]
    senior = inbox("senior", "senior-tool")
    assert [(m["event"], m["step"]) for m in senior] == [("case.arrived", "senior")]

    # A sender that crashed after publishing but before marking the message sent republishes it:
    # the queue gets a second copy, the team's consumer still sees it once.
    table = aws.table(settings().outbox_table)
    message_id = senior[0]["message_id"]
    table.update_item(Key={"pk": f"MSG#{message_id}", "sk": "MSG"},
                      UpdateExpression="SET #s = :p, pending_pk = :pk, pending_sk = :sk, lease_until = :l",
                      ExpressionAttributeNames={"#s": "status"},
                      ExpressionAttributeValues={":p": "pending", ":pk": "PENDING", ":sk": f"0#{message_id}", ":l": ""})
    assert outbox.drain() == 1
    assert inbox("senior", "senior-tool") == []


def test_each_move_writes_its_messages_in_the_same_transaction(api, alice, clock, open_case):
    """If the case write is refused, no announcement is left behind in the outbox."""
    from chalicelib.adapters import aws
    from chalicelib.escalation import casework, hours, model, notifications, store
    case_id = open_case(alice)["case_id"]
    stale = store.get(case_id)
    clock.advance(dt.timedelta(hours=4))  # the frontline limit lapsed: the owner may escalate
    api.post(f"/support/cases/{case_id}/escalate", token=alice.token, json_body={"reason": "没解决"}, headers=key())

    def outbox_items():
        return aws.client("dynamodb").scan(TableName=settings().outbox_table)["Count"]  # test-only look

    before = outbox_items()
    late = model.escalate(stale, clock.now(), clocks=hours.clocks(settings()), actor="system", reason="时限已过")
    with pytest.raises(store.VersionConflict):
        casework.commit(stale, late, notifications.arrival(late, settings(), created=False))
    assert outbox_items() == before


def test_a_failing_case_does_not_stall_the_sweep(api, alice, bob, clock, sweep, open_case, monkeypatch):
    from botocore.exceptions import ClientError

    from chalicelib.adapters import aws
    from chalicelib.escalation import store
    broken = open_case(alice)["case_id"]
    healthy = open_case(bob)["case_id"]
    clock.advance(dt.timedelta(hours=5))
    real_transact = aws.transact

    def throttled_for_one(elements):   # DynamoDB throttles the broken case's write; the store maps it
        if elements["case"]["Put"]["Item"]["pk"]["S"] == f"CASE#{broken}":
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                              "TransactWriteItems")
        return real_transact(elements)
    monkeypatch.setattr(aws, "transact", throttled_for_one)
    result = sweep()
    assert result["escalated"] == 1 and result["failed"] == 1
    monkeypatch.setattr(aws, "transact", real_transact)
    assert sweep()["escalated"] == 1  # retried on the next run
    assert store.get(broken).step == store.get(healthy).step == "senior"
