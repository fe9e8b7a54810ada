"""The operational metrics (CloudWatch embedded metric format on stdout) a dashboard is built from."""
import datetime as dt
import json
import uuid

from tests.repay.conftest import card, run_worker


def _metrics(text: str) -> list[dict]:
    found = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "_aws" in record:
            for definition in record["_aws"]["CloudWatchMetrics"]:
                for metric in definition["Metrics"]:
                    dims = {d: record[d] for group in definition["Dimensions"] for d in group}
                    found.append({"name": metric["Name"], "namespace": definition["Namespace"], **dims})
    return found


def test_repayments_searches_and_escalations_are_counted(api, alice, capfd, monkeypatch):
    from chalicelib.kernel import clock
    clock.freeze(clock.parse("2026-11-25T02:00:00Z"))
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    assert api.post("/repayments", json_body=card("100.61"), token=alice.token, headers=headers).status == 201
    run_worker()                                            # .61 fails: insufficient funds
    assert api.get("/kb/search?q=还款失败怎么办", token=None).status == 200
    assert api.get("/kb/search?q=qwxzv", token=None).status == 200   # nothing matches
    case = api.post("/support/cases", json_body={"category": "fees", "description": "手续费比说的多了"},
                    token=alice.token).json
    clock.advance(dt.timedelta(hours=5))  # the frontline limit lapsed: the owner may escalate
    assert api.post(f"/support/cases/{case['case_id']}/escalate", json_body={"reason": "没有解决"},
                    token=alice.token, headers={"Idempotency-Key": uuid.uuid4().hex}).status == 200

    from chalicelib.search import service
    service.flush_analytics()   # the zero-result count is written off the request thread
    metrics = _metrics(capfd.readouterr().out)
    names = {(m["name"], m.get("kind") or m.get("outcome") or m.get("step")) for m in metrics}
    assert ("RepaymentCreated", "credit_card") in names
    assert ("RepaymentSettlement", "failed") in names
    assert any(m["name"] == "KbSearch" for m in metrics)
    assert sum(m["name"] == "KbZeroResult" for m in metrics) == 1
    assert ("CaseEscalated", "senior") in names
    assert all(m["namespace"] == "RepayDesk" for m in metrics)


def test_bills_reminders_and_a_sweep_behind_are_counted(api, alice, capfd):
    """The bills sweep (schedule fan-out + queue workers) is watched like the other schedules and queues."""
    from chalicelib.bills import service, sweep
    from chalicelib.kernel import clock
    clock.freeze(clock.parse("2026-12-01T02:00:00Z"))
    for due_day in (10, 10):
        assert api.post("/bills", token=alice.token, json_body={
            "payee": {"kind": "credit_card", "issuer": "招商银行", "card_number": "6225880137654324"},
            "due_day": due_day}).status == 201
    clock.freeze(clock.parse("2026-12-07T01:00:00Z"))     # 09:00 in Shanghai, 3 days before the 10th
    ctx = service.current()
    spent = iter([1.0])
    behind = [sweep.sweep_shard(ctx, k, time_left=lambda: next(spent, -1.0)) for k in range(4)]
    assert sum(b.get("left", 0) for b in behind) == 1
    service.sweep(ctx)
    names = [m["name"] for m in _metrics(capfd.readouterr().out)]
    assert names.count("BillReminderSent") == 2 and names.count("BillsSweepBehind") == 1
