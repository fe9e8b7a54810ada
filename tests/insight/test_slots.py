"""The aggregation job reads each event once: 5-minute slots summarised when final, hours and days merged.

Events are written with ``events.record_now`` at chosen instants (Asia/Shanghai, 8 event shards) and the
job is run as the schedule would, at chosen clock times; what is checked is what a reader of the reports
would see (searches per day, per hour) and, for the cost, which events the job read.
"""
from __future__ import annotations

import collections
import datetime as dt
import json

import pytest

SH = dt.timezone(dt.timedelta(hours=8))


def at(text: str) -> dt.datetime:
    """A Shanghai wall-clock time on Tuesday 2026-11-24 (``10:05:00.000``) or a full ISO date-time."""
    if "T" not in text:
        text = f"2026-11-24T{text}"
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.fixture
def job(aws, monkeypatch):
    """``job.search(when)`` writes one search event stamped ``when``; ``job.run(now)`` runs the schedule at
    ``now``; ``job.read`` counts every event item the job Queried from the events table, by event id."""
    from chalicelib.adapters import events
    from chalicelib.config import settings
    from chalicelib.insight import rollup
    from chalicelib.kernel import clock
    from chalicelib.kernel.context import Context

    read: collections.Counter = collections.Counter()
    real_query = events._query

    def counting_query(table=None, **kwargs):
        for raw in real_query(table, **kwargs):
            if table is None:  # the events table (rollups are read from reports_table)
                read[raw["sk"]["S"].partition("#")[2]] += 1
            yield raw
    monkeypatch.setattr(events, "_query", counting_query)

    class Job:
        def __init__(self):
            self.read = read
            self.written: list[str] = []

        def search(self, when: str, query: str = "还款没到账") -> str:
            event_id = f"e{len(self.written):04d}"
            assert events.record_now("search", at=at(when), event_id=event_id, query=query, results=3, zero=False)
            self.written.append(event_id)
            return event_id

        def run(self, now: str, **kwargs) -> dict:
            """The schedule at ``now``; past days (compaction, deflection) only when ``deflection_days`` says."""
            clock.freeze(at(now))
            kwargs.setdefault("deflection_days", 0)
            return rollup.run(Context.current(), **kwargs)

        def searches(self, sort_key: str) -> int:
            found = dict(events.rollups(sort_key[:1], sort_key[2:], sort_key[2:]))
            return found[sort_key]["search"][0] if sort_key in found else 0

        def daily_searches(self, day: str = "2026-11-24") -> int:
            return sum(s["search"][0] for _, s in rollup.summaries(day, day))

    yield Job()
    clock.reset()
    assert settings().event_shards == 8


def test_an_event_at_a_slot_boundary_counts_once_in_the_slot_it_starts(job):
    job.search("10:04:59.999")
    job.search("10:05:00.000")  # the first millisecond of slot 10:05
    job.search("10:09:59.999")
    job.search("10:10:00.000")
    job.run("10:16")
    assert job.searches("M#2026-11-24T10:00") == 1
    assert job.searches("M#2026-11-24T10:05") == 2
    assert job.searches("H#2026-11-24T10") == 3      # slot 10:10 ends 10:15: final at 10:17, not yet
    job.run("10:17")
    assert job.searches("M#2026-11-24T10:10") == 1
    assert job.searches("H#2026-11-24T10") == 4 and job.daily_searches() == 4
    assert all(n == 1 for n in job.read.values()) and len(job.read) == 4


def test_a_slot_waits_for_late_writes_and_counts_them(job):
    job.search("10:04:58")
    job.run("10:06:59.999")                 # 10:00–10:05 ended, but writes may still land until 10:07
    assert job.searches("M#2026-11-24T10:00") == 0 and job.daily_searches() == 0
    job.search("10:04:59.500")              # a container's buffer written 7 s late (≤ 5 s + retries)
    job.run("10:07")
    assert job.searches("M#2026-11-24T10:00") == 2 and job.daily_searches() == 2


def test_repeated_and_overlapping_runs_count_nothing_twice(job):
    from chalicelib.insight import rollup
    from chalicelib.kernel import clock
    for n in range(6):
        job.search(f"10:0{n}:30")
    job.run("10:12")
    job.run("10:12")
    # two runs that both found the slots missing (started together): both compute and write them
    zone = clock.zone("Asia/Shanghai")
    for _ in range(2):
        rollup.compute_slots(["2026-11-24T10:00", "2026-11-24T10:05"], zone, now=at("10:12"))
        rollup.merge_hour("2026-11-24T10")
    job.run("10:17")
    assert job.searches("H#2026-11-24T10") == 6 and job.daily_searches() == 6


def test_a_stopped_job_catches_up_every_missed_slot(job):
    job.run("08:02")
    for when in ("08:30", "09:14:59.999", "09:15", "10:40", "11:55:01", "12:01"):
        job.search(when)
    # stopped from 08:02 to 12:06; then runs with a budget that allows one Query per shard per run
    runs = 0
    while job.run("12:06", budget_seconds=0)["slots"]:
        runs += 1
    assert runs == 4   # 08:00 … 11:55, oldest first, a quiet hour's slots read together in each run
    assert job.daily_searches() == 5           # 12:01 is in the 12:00 slot, final at 12:07: not yet
    assert [job.searches(f"H#2026-11-24T{h}") for h in ("08", "09", "10", "11", "12")] == [1, 2, 1, 1, 0]
    job.run("12:12")
    assert job.searches("H#2026-11-24T12") == 1 and job.daily_searches() == 6
    assert all(n == 1 for n in job.read.values()) and len(job.read) == 6


def test_after_the_first_catch_up_the_job_reads_every_event_once(job):
    """Two hours of the schedule (minutes 2, 7, 12 …), a search every 40 s: each event Queried exactly once
    (the old job reread the current hour every run: an event was read about eight times)."""
    job.run("09:02")
    clock_minutes = range(9 * 60 + 2, 11 * 60 + 2, 5)
    t = at("09:00")
    for minute in clock_minutes:
        run_at = at("00:00") + dt.timedelta(minutes=minute)
        while t < run_at:
            job.search(t.strftime("%H:%M:%S"))
            t += dt.timedelta(seconds=40)
        job.run(run_at.strftime("%H:%M"))
    counted = job.daily_searches()
    assert counted == sum(1 for e in job.written if job.read[e])   # what was read is what the report counts
    assert counted >= len(job.written) - 11    # at most the last 7 minutes' events are not final yet
    assert set(job.read.values()) == {1}


def test_a_finished_day_is_its_slots_merged_and_slots_the_job_missed_are_read_then(job):
    from chalicelib.adapters import events
    job.search("2026-11-24T23:58:00")
    job.search("2026-11-24T09:00:00")
    job.run("2026-11-24T09:07")                   # 09:00 counted; then the job stops until the next morning
    assert job.daily_searches() == 1
    events.put_rollup("D#2026-11-23", {})          # Monday's deflection written (it would read Tuesday again)
    done = job.run("2026-11-25T09:00", deflection_days=1)
    assert done["days"] == 1                      # Tuesday compacted: the missed 23:55 slot read from its events
    assert job.daily_searches("2026-11-24") == 2
    assert job.read["e0000"] == 1 and job.read["e0001"] == 1


def test_rebuild_and_the_demo_seed_write_what_the_job_does(job):
    """``rebuild`` (and ``offline``, the seed's in-process twin) give the reports the job gives, and count
    even the slot not yet final (marked so: the job recomputes it once final)."""
    from chalicelib.adapters import events
    from chalicelib.insight import rollup
    for when in ("09:59:59.999", "10:00", "10:31", "10:58", "11:02"):
        job.search(when)
    job.run("11:10")

    def hours():  # what the reports read, hours with something in them (rebuild also writes 00 … 04)
        return [(k, v) for k, v in rollup.summaries("2026-11-24", "2026-11-24") if v != rollup.merge([])]
    by_job = hours()
    assert [k for k, _ in by_job] == ["H#2026-11-24T09", "H#2026-11-24T10", "H#2026-11-24T11"]
    rollup.rebuild(dt.date(2026, 11, 24), dt.date(2026, 11, 24), now=at("11:10"), time_zone="Asia/Shanghai")
    assert hours() == by_job
    job.search("11:09")                           # slot 11:05: final at 11:12, not at 11:11
    rollup.rebuild(dt.date(2026, 11, 24), dt.date(2026, 11, 24), now=at("11:11"), time_zone="Asia/Shanghai")
    assert job.daily_searches() == 6
    assert "2026-11-24T11:05" not in rollup.final_slots("2026-11-24T11:05", "2026-11-24T11:05")
    evs = [e for h in ("09", "10", "11") for e in events.hour_events(f"2026-11-24T{h}")]
    offline = {i["sk"]["S"]: i["data"]["S"] for i in rollup.offline(evs, now=at("11:11"), time_zone="Asia/Shanghai")}
    rebuilt = {k: v for k, v in events.rollups("H", "2026-11-24", "2026-11-24")}
    assert {k: rollup.merge([v]) for k, v in rebuilt.items()} == \
        {k: rollup.merge([json.loads(v)]) for k, v in offline.items() if k.startswith("H#")}
    job.run("11:17")                              # the job recomputes 11:05 once final: the same count
    assert job.daily_searches() == 6
    assert "2026-11-24T11:05" in rollup.final_slots("2026-11-24T11:05", "2026-11-24T11:05")
