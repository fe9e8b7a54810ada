"""The service-notices store and its in-memory twin keep the same promises (the in-memory case is in the fast tier,
``-m unit``; the DynamoDB one runs against moto): what "current" returns, a notice added once, removed once, and
every change with its audit record in the same all-or-nothing commit."""
from __future__ import annotations

import datetime as dt

import pytest

from chalicelib.kernel import clock
from chalicelib.status import model, store

NOW = clock.parse("2026-12-09T02:30:00Z")


@pytest.fixture(params=[pytest.param("memory", marks=pytest.mark.unit), "dynamodb"])
def kind(request):
    request.getfixturevalue("memory" if request.param == "memory" else "aws")
    clock.freeze(NOW)
    return request.param


def notice(suffix: str, ends_in: dt.timedelta, starts_in: dt.timedelta = dt.timedelta(0)) -> model.Notice:
    return model.Notice(id=f"sn_{suffix:0>20}", text="维护中，请稍后再试", scope="all", starts_at=NOW + starts_in,
                        ends_at=NOW + ends_in, posted_by="lead", posted_at=NOW)


def audit(n: model.Notice, action: str, at: dt.datetime = NOW) -> dict:
    return {"action": action, "by": "lead", "at": clock.isoformat(at), "notice_id": n.id, "text": n.text}


def commit(change) -> None:
    uow = store.begin()
    change(uow)
    uow.commit()


def test_current_lists_what_has_not_ended_soonest_end_first(kind):
    later, sooner, ended = notice("a", dt.timedelta(hours=3)), notice("b", dt.timedelta(hours=1)), \
        notice("c", dt.timedelta(minutes=1), starts_in=dt.timedelta(minutes=-30))
    scheduled = notice("d", dt.timedelta(hours=2), starts_in=dt.timedelta(hours=1))
    for n in (later, sooner, ended, scheduled):
        commit(lambda u, n=n: store.add(u, n, audit(n, "create")))
    assert [n.id for n in store.current(NOW, 10)] == [ended.id, sooner.id, scheduled.id, later.id]
    assert [n.id for n in store.current(NOW + dt.timedelta(minutes=1), 10)] == [sooner.id, scheduled.id, later.id]
    assert store.get(later.id) == later


def test_a_notice_is_added_once_and_removed_once_with_its_audit(kind):
    n = notice("e", dt.timedelta(hours=1))
    commit(lambda u: store.add(u, n, audit(n, "create")))
    with pytest.raises(store.Conflict) as lost:
        commit(lambda u: store.add(u, n, audit(n, "create", NOW + dt.timedelta(seconds=1))))
    assert "notice" in lost.value
    commit(lambda u: store.remove(u, n, audit(n, "delete", NOW + dt.timedelta(minutes=1))))
    with pytest.raises(store.Conflict) as again:
        commit(lambda u: store.remove(u, n, audit(n, "delete", NOW + dt.timedelta(minutes=2))))
    assert "notice" in again.value
    assert store.get(n.id) is None and store.current(NOW, 10) == []
    assert [a["action"] for a in store.audit_of(n.id)] == ["create", "delete"]     # nothing of the lost commits


def test_deflections_are_counted_per_day_and_notice(kind):
    store.count_deflection("2026-12-09", "sn_1")
    store.count_deflection("2026-12-09", "sn_1")
    store.count_deflection("2026-12-10", "sn_1")
    assert store.deflections("2026-12-09") == {"sn_1": 2}
