"""The bills store and its in-memory twin keep the same promises: each case runs against both (the in-memory
one is in the fast tier, ``-m unit``; the DynamoDB one against moto). A unit of work writes all or nothing and
a lost condition names what lost."""
from __future__ import annotations

import pytest

from chalicelib.bills import model, store
from chalicelib.kernel import clock
from tests.bills.conftest import at
from tests.shared.twins import commit_together

TZ = "Asia/Shanghai"


@pytest.fixture(params=[pytest.param("memory", marks=pytest.mark.unit), "dynamodb"])
def kind(request):
    request.getfixturevalue("memory" if request.param == "memory" else "aws")
    clock.freeze(at("2026-12-07 10:00"))
    return request.param


def bill(version: int = 1, **changes) -> model.Bill:
    now = clock.isoformat(clock.now())
    return model.Bill(id="bl_0123456789abcdef0123", user_id="u1", username="alice", kind="loan",
                      payee={"kind": "loan", "platform": "微粒贷", "contract_number": "WLD-1"}, created_at=now,
                      updated_at=now, due_day=10, version=version, **changes)


def commit(*adds) -> None:
    commit_together(store, *adds)


def test_a_reminder_is_recorded_once(kind):
    now = clock.now()
    commit(lambda u: store.remind(u, "u1", "bl_x", "2026-12-10", "due_in_3d", now))
    with pytest.raises(store.ReminderAlreadySent) as lost:
        commit(lambda u: store.remind(u, "u1", "bl_x", "2026-12-10", "due_in_3d", now))
    assert "reminder" in lost.value
    commit(lambda u: store.remind(u, "u1", "bl_x", "2026-12-10", "due_in_1d", now))   # another kind: its own
    assert sorted(r["kind"] for r in store.reminders_of("u1", "bl_x")) == ["due_in_1d", "due_in_3d"]


def test_a_change_over_a_stale_version_writes_nothing_of_its_unit(kind):
    first = bill()
    commit(lambda u: store.save_new_bill(u, first, None, TZ))
    with pytest.raises(store.Conflict) as lost:
        commit(lambda u: store.save_new_bill(u, first, None, TZ))           # never over an existing one
    assert lost.value.names == {"bill"}
    changed = first.changed(clock.now(), name="新名字")
    commit(lambda u: store.save_bill(u, changed, first.version, None, TZ))
    stale = first.changed(clock.now(), name="旧的读")
    with pytest.raises(store.Conflict) as lost:
        commit(lambda u: store.save_bill(u, stale, first.version, None, TZ),
               lambda u: store.remind(u, "u1", first.id, "2026-12-10", "due_in_3d", clock.now()))
    assert lost.value.names == {"bill"}
    assert store.get_bill("u1", first.id).name == "新名字"
    assert store.reminders_of("u1", first.id) == []                       # all or nothing


def test_only_what_is_due_wakes(kind):
    due_now = bill()
    commit(lambda u: store.save_new_bill(u, due_now, at("2026-12-07 09:00"), TZ))
    woken = [d for shard in range(4) for d in store.due(clock.now(), TZ, shard, lookback_days=7)]
    assert woken == [store.Due("bill", "u1", due_now.id)]
    commit(lambda u: store.wake_bill(u, due_now, at("2026-12-09 08:00"), TZ))
    assert [d for shard in range(4) for d in store.due(clock.now(), TZ, shard, lookback_days=7)] == []
    assert store.get_bill_and_wake("u1", due_now.id)[1].startswith("2026-12-09T00:00:00")
