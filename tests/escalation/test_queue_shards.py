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


def _open_at(case_id: str, now, category="repayment_delay"):
    from chalicelib.escalation import model, store
    case = model.open_case(case_id=case_id, user_id=f"user-{case_id}", username="u", category=category,
                           description="还款没到账", repayment_id=None, now=now, clocks=_clocks())
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
    """Nearest deadline first, equal deadlines (and the paused cases after them) in the order they were opened."""
    return [c.case_id for c in sorted(cases, key=lambda c: (c.deadline or "~paused", c.created_at))]


def _per_shard(step: str, count: int) -> list[int]:
    from chalicelib.adapters import aws
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


def test_cases_due_at_the_same_moment_are_listed_oldest_first_whatever_their_reference(clock, shards):
    """Opened before hours (Wednesday 07:30–07:40 in Shanghai), a P2 and a P3 case are both due at 13:00: the one
    opened first comes first, on every page size, across shards — not the one whose reference sorts first."""
    shards(4)
    before_hours = dt.datetime(2026, 12, 9, 7, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    refs = ["RD-20261209-ZZZ9", "RD-20261209-MMM5", "RD-20261209-AAA1", "RD-20261209-QQQ7", "RD-20261209-BBB2"]
    cases = [_open_at(ref, before_hours + dt.timedelta(minutes=2 * n), category="fees" if n % 2 else "repayment_delay")
             for n, ref in enumerate(refs)]
    assert len({c.deadline for c in cases}) == 1 and cases[0].deadline.startswith("2026-12-09T05:00")  # 13:00 local
    for limit in (1, 2, 5):
        assert [c for page in _pages("frontline", limit) for c in page] == refs, limit
    # a case opened later in the morning, due later, still comes after all of them
    late = _open_at("RD-20261209-0000", dt.datetime(2026, 12, 9, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    assert [c for page in _pages("frontline", 3) for c in page] == refs + [late.case_id]


def test_cursors_and_queue_entries_from_before_the_opening_time_order_still_page_exactly(clock, shards):
    """A cursor handed out as ``<deadline>#<ref>`` resumes after the same case; entries written in that form are
    rewritten by ``rekey_queue`` (Queries of the queue index, conditioned on the case's version)."""
    from chalicelib.adapters import aws
    from chalicelib.config import settings
    from chalicelib.escalation import store
    shards(2)
    at = dt.datetime(2026, 12, 9, 7, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    refs = ["RD-20261209-9999", "RD-20261209-5555", "RD-20261209-1111", "RD-20261209-7777"]
    cases = [_open_at(ref, at + dt.timedelta(minutes=n)) for n, ref in enumerate(refs)]
    def before_this_change(after: str) -> str:  # how cursors were encoded then: {"step", "after"}
        return base64.urlsafe_b64encode(json.dumps({"step": "frontline", "after": after}).encode()).decode()
    old_cursor = before_this_change(f"{cases[1].deadline}#{cases[1].case_id}")
    assert [c for page in _pages("frontline", 1, old_cursor) for c in page] == refs[2:]
    gone = before_this_change(f"{cases[1].deadline}#RD-20261209-GONE")
    assert [c for page in _pages("frontline", 10, gone) for c in page] == refs  # shown again, never skipped
    for bad in ("no-separator", f"{cases[1].deadline}#{cases[1].created_at}#x#y", "#RD-20261209-9999"):
        with pytest.raises(store.BadCursor):
            store.queue_page("frontline", limit=2, cursor=before_this_change(bad))

    table = aws.table(settings().cases_table)
    for case in cases[:3]:  # as the code before this change wrote them
        table.update_item(Key=store.case_key(case.case_id), UpdateExpression="SET queue_sk = :old",
                          ExpressionAttributeValues={":old": f"{case.deadline}#{case.case_id}"})
    for limit in (1, 2, 3):  # meanwhile: every case once (entries of both forms are one order of strings)
        listed = [c for page in _pages("frontline", limit) for c in page]
        assert sorted(listed) == sorted(refs) and len(listed) == len(refs), limit
    assert store.rekey_queue("frontline") == 3
    assert store.rekey_queue("frontline") == 0
    assert [c for page in _pages("frontline", 3) for c in page] == refs
    assert table.get_item(Key=store.case_key(refs[0]))["Item"]["version"] == cases[0].version  # not a move


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
