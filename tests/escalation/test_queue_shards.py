"""The queue index is write-sharded (QUEUE#<step>[#<shard>]); a page merges the shards in deadline order."""
from __future__ import annotations

import base64
import datetime as dt
import json

import pytest


@pytest.fixture
def shards(aws, clock, monkeypatch):
    """``shards(n)`` → the queue is written and read with n shards from now on."""
    from chalicelib import config

    def use(count: int):
        monkeypatch.setenv("QUEUE_SHARDS", str(count))
        config.reload()
    return use


def _clocks():
    from chalicelib.config import settings
    from chalicelib.escalation import hours
    return hours.clocks(settings())


def _open(clock, number: int, *, step_minutes: int = 7):
    """A frontline case whose deadline is ``number * step_minutes`` minutes after the first one's."""
    from chalicelib.escalation import model, store
    now = clock.now() + dt.timedelta(minutes=number * step_minutes)
    case = model.open_case(case_id=f"RD-20261124-{number:04d}", user_id=f"user-{number}", username=f"u{number}",
                           category="repayment_delay", description="还款没到账", repayment_id=None, now=now,
                           clocks=_clocks())
    store.save(case, expected_version=None)
    return case


def _pause(clock, case):
    """The team replied and waits for the user: the case stays in the queue, after every running one."""
    from chalicelib.escalation import model, store
    paused = model.reply(case, clock.now(), clocks=_clocks(), by="agent", await_user=True)
    store.save(paused, expected_version=case.version)
    return paused


def _pages(step: str, limit: int, cursor=None):
    from chalicelib.escalation import store
    pages = []
    while True:
        cases, cursor = store.queue_page(step, limit=limit, cursor=cursor)
        pages.append([c.case_id for c in cases])
        if cursor is None:
            return pages


def _expected_order(cases):
    return [c.case_id for c in sorted(cases, key=lambda c: (c.deadline or "~paused", c.case_id))]


def _per_shard(step: str, count: int) -> list[int]:
    from chalicelib import aws
    from chalicelib.config import settings
    from chalicelib.escalation import store
    table = aws.table(settings().cases_table)
    return [table.query(IndexName="queue", KeyConditionExpression=aws.Key("queue_pk").eq(store.queue_key(step, n)))
            ["Count"] for n in range(count)]


def test_pages_merge_every_shard_nearest_deadline_first(clock, shards):
    shards(4)
    # deadlines deliberately not in reference order: 0, 70, 14, 84, 28, ... minutes
    cases = [_open(clock, (n * 10) % 23) for n in range(23)]
    cases[3] = _pause(clock, cases[3])
    cases[11] = _pause(clock, cases[11])
    spread = _per_shard("frontline", 4)
    assert sum(spread) == 23 and all(spread), spread  # every shard holds some of the queue
    expected = _expected_order(cases)
    assert expected[-2:] == sorted([cases[3].case_id, cases[11].case_id])  # waiting on the user: last

    for limit in (1, 3, 5, 22):
        pages = _pages("frontline", limit)
        assert [case for page in pages for case in page] == expected, limit
        assert [len(page) for page in pages[:-1]] == [limit] * (len(pages) - 1)
        assert 1 <= len(pages[-1]) <= limit  # no empty trailing page: "more" is known exactly
    assert _pages("frontline", 23) == [expected]
    assert _pages("senior", 5) == [[]]


def test_a_case_that_moves_leaves_its_shard_and_paging_stays_exact(clock, shards):
    from chalicelib.escalation import model, store
    shards(3)
    cases = [_open(clock, n) for n in range(9)]
    first, cursor = store.queue_page("frontline", limit=4, cursor=None)
    assert [c.case_id for c in first] == _expected_order(cases)[:4]
    moved = model.escalate(cases[6], clock.now(), clocks=_clocks(), actor="support", reason="需要高级客服", by="agent")
    store.save(moved, expected_version=cases[6].version)
    rest = [c for page in _pages("frontline", 4, cursor) for c in page]
    assert rest == [c for c in _expected_order(cases)[4:] if c != cases[6].case_id]
    assert _pages("senior", 10) == [[cases[6].case_id]]


def test_raising_the_shard_count_keeps_every_queued_case(clock, shards):
    shards(1)
    before = [_open(clock, n) for n in range(0, 12, 2)]
    assert _per_shard("frontline", 1) == [6]
    shards(5)
    after = [_open(clock, n) for n in range(1, 12, 2)]
    assert sum(_per_shard("frontline", 5)) == 12
    assert [c for page in _pages("frontline", 4) for c in page] == _expected_order(before + after)


def test_cursors_name_their_step_and_old_cursors_still_work(clock, shards):
    from chalicelib.escalation import store
    shards(4)
    cases = [_open(clock, n) for n in range(6)]
    order = _expected_order(cases)
    _, cursor = store.queue_page("frontline", limit=2, cursor=None)
    with pytest.raises(store.BadCursor):
        store.queue_page("senior", limit=2, cursor=cursor)
    # a cursor handed out by the unsharded index (its LastEvaluatedKey) resumes after the same case
    by_id = {c.case_id: c for c in cases}
    last = by_id[order[1]]
    old = {"pk": f"CASE#{last.case_id}", "sk": "CASE", "queue_pk": "QUEUE#frontline",
           "queue_sk": f"{last.deadline}#{last.case_id}"}
    old_cursor = base64.urlsafe_b64encode(json.dumps(old).encode()).decode().rstrip("=")
    assert [c for page in _pages("frontline", 2, old_cursor) for c in page] == order[2:]
    old["queue_pk"] = "QUEUE#senior"
    with pytest.raises(store.BadCursor):
        store.queue_page("frontline", limit=2,
                         cursor=base64.urlsafe_b64encode(json.dumps(old).encode()).decode())


def test_the_queue_route_pages_across_shards(api, agent, clock, shards):
    shards(3)
    cases = [_open(clock, n) for n in range(7)]
    seen, cursor = [], None
    while True:
        url = "/support/queues/frontline?limit=3" + (f"&cursor={cursor}" if cursor else "")
        response = api.get(url, token=agent.token)
        assert response.status == 200, response.text
        seen.append([c["case_id"] for c in response.json["items"]])
        cursor = response.json["next_cursor"]
        if cursor is None:
            break
    order = _expected_order(cases)
    assert seen == [order[0:3], order[3:6], order[6:7]]


@pytest.mark.parametrize("value", ["0", "-2", "many"])
def test_a_shard_count_below_one_fails_at_start(monkeypatch, value):
    from chalicelib import config
    monkeypatch.setenv("QUEUE_SHARDS", value)
    with pytest.raises(ValueError, match="QUEUE_SHARDS"):
        config.load()
