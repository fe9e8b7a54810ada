"""The sweep at scale: the schedule fans out one message per wake shard, each worked by its own Lambda within a
time budget — throughput grows with WAKE_SHARDS — and the exactly-once guarantees hold when two workers
sweep the same shard at once."""
import json

import pytest

from chalicelib.adapters import shards
from chalicelib.bills import service, store
from chalicelib.bills import sweep as sweep_module
from tests.bills.conftest import card_bill, pump_wake_queue, texts
from tests.repay.conftest import atomic_calls, in_parallel  # noqa: F401 (fixture)

SCHEDULED = {"id": "evt", "detail-type": "Scheduled Event", "source": "aws.events", "time": "2026-12-07T01:00:00Z",
             "region": "ap-southeast-1", "resources": [], "detail": {}, "account": "123456789012", "version": "0"}


@pytest.fixture
def many(make_user, api, clock_at):
    """12 users with a card due on the 10th each (their bills spread over the 4 shards)."""
    clock_at("2026-12-01 10:00")
    users = []
    for n in range(12):
        user = make_user(f"payer{n}", phone=f"+86138001390{n:02d}")
        bill = api.post("/bills", json_body=card_bill(), token=user.token).json
        users.append((user, bill["id"]))
    return users


def _reminders(sms_sent):
    return [t for _, t in sms_sent() if "到期" in t]


def _shard(bill_id):
    return shards.shard_of(bill_id, 4)


def test_the_schedule_only_fans_out_one_message_per_shard(many, clock_at, sms_sent):
    from chalicelib.routes.bills import bills_sweep
    clock_at("2026-12-07 09:00")
    bills_sweep(SCHEDULED, None)
    assert _reminders(sms_sent) == []                    # the schedule itself sends nothing …
    assert pump_wake_queue() == 4                         # … one message per shard, each to its own worker
    assert len(_reminders(sms_sent)) == 12
    bills_sweep(SCHEDULED, None)
    pump_wake_queue()
    assert len(_reminders(sms_sent)) == 12                # the next minute finds nothing new


def test_a_worker_touches_only_its_shard(many, clock_at, sms_sent):
    clock_at("2026-12-07 09:00")
    ctx = service.current()
    by_shard = {k: sum(_shard(b) == k for _, b in many) for k in range(4)}
    assert sum(1 for n in by_shard.values() if n) >= 2                    # the test means something
    for k in range(4):
        before = len(_reminders(sms_sent))
        got = service.work(json.dumps({"shard": k, "at": "x"}), ctx)
        assert got.get("reminded", 0) == by_shard[k]
        assert len(_reminders(sms_sent)) - before == by_shard[k]


def test_two_overlapping_workers_on_the_same_shard_send_each_reminder_once(many, clock_at, sms_sent):
    """Worker A has read a bill when worker B sweeps the same shard from start to end; A's writes then lose."""
    clock_at("2026-12-07 09:00")
    ctx = service.current()
    shard = _shard(many[0][1])
    in_shard = [b for _, b in many if _shard(b) == shard]
    real = store.get_bill_and_wake
    b_result = []

    def read_then_b_runs(user_id, bill_id):
        found = real(user_id, bill_id)
        if not b_result:
            b_result.append("running")
            b_result[0] = sweep_module.sweep_shard(ctx, shard)
        return found
    with pytest.MonkeyPatch.context() as patch:      # only this (the fixtures' environment stays as it is)
        patch.setattr(store, "get_bill_and_wake", read_then_b_runs)
        a_result = sweep_module.sweep_shard(ctx, shard)
    assert b_result[0] == {"reminded": len(in_shard)}
    assert a_result.get("duplicate") == 1 and a_result.get("reminded") is None     # the rest had moved on: stale
    assert len(_reminders(sms_sent)) == len(in_shard)
    for user, bill_id in many:
        if bill_id in in_shard:
            assert [r["kind"] for r in store.reminders_of(user.user_id, bill_id)] == ["due_in_3d"]


def test_workers_in_threads_on_every_shard_twice(many, clock_at, sms_sent, atomic_calls, api):
    clock_at("2026-12-07 09:00")
    ctx = service.current()
    jobs = [json.dumps({"shard": k % 4}) for k in range(8)]             # two workers per shard, all at once
    results = in_parallel(len(jobs), lambda: service.work(jobs.pop(), ctx))
    assert not [r for r in results if isinstance(r, Exception)]
    assert len(_reminders(sms_sent)) == 12
    for user, _ in many:
        notices = api.get("/notices", token=user.token).json["items"]
        assert [n["kind"] for n in notices] == ["reminder"]


def test_a_worker_stops_at_its_time_budget_and_the_next_run_goes_on(many, clock_at, sms_sent):
    clock_at("2026-12-07 09:00")
    ctx = service.current()
    shard = max(range(4), key=lambda k: sum(_shard(b) == k for _, b in many))
    total = sum(_shard(b) == shard for _, b in many)
    assert total >= 2
    budget = iter([1.0, -1.0])                   # time for one item, then the budget is spent
    first = sweep_module.sweep_shard(ctx, shard, time_left=lambda: next(budget, -1.0))
    assert first == {"reminded": 1, "left": 1}
    second = sweep_module.sweep_shard(ctx, shard)
    assert second == {"reminded": total - 1}
    assert len(_reminders(sms_sent)) == total


def test_a_malformed_or_foreign_message_is_dropped(aws):
    ctx = service.current()
    assert service.work("not json", ctx) == {"malformed": 1}
    assert service.work(json.dumps({"shard": 99}), ctx) == {"malformed": 1}
