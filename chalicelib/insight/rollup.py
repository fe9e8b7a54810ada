"""The scheduled aggregation: each 5-minute slot's events → one rollup, written once the slot is final.

``summarize(events)`` and ``deflection(...)`` are plain functions (unit-tested on fixed events).
``run(ctx)`` (``app.aggregate_events``, at minutes 2, 7, 12 … of the hour) summarises every *final* slot
of the last CATCH_UP that has no final rollup yet — normally just the slot that ended SETTLE ago — by
reading that slot's events once (one Query per shard on the sort-key range of the slot), then rewrites
the hour's rollup as its slots merged (one Query of ≤ 12 small items). A slot is final SETTLE after it
ends: events are stamped when they happen and written a little later (a buffered search ≤ 5 s, a case's
event when its transaction commits, inside a Lambda's timeout), so nothing is written into a final slot
any more. Rewriting a rollup recomputed from the same events gives the same result, so a repeated or
overlapping run cannot count an event twice; a stopped job catches up on its next runs (oldest first,
within BUDGET_SECONDS a run). Reports therefore lag: a slot shows at the run SETTLE after its end (runs
are at minute 2, 7 …, slots end at minute 0, 5 …), so an event shows 2–7 minutes after it happened (5 more
if that run is missed).

A finished day's slots are merged into one day summary (``S#<day>``, ``compact_day``; a slot missing
there is computed from its events first), so a report reads one item per past day (``summaries``) and
hour items only for today (and yesterday until its last slot is final). A day's deflection needs the
24 h after it, so it is written once, when the day is two days old, from the two days' events.

Rollup items (``REPORTS_TABLE``, ``pk = AGG#<yyyy-mm>``; slots ``pk = SLOT#<yyyy-mm-dd>``, which reports never read):
- ``M#<yyyy-mm-ddTHH:MM>`` one slot (local time, minute a multiple of 5), attributes ``final`` (written by
                 the job, or by ``rebuild`` for a slot that has ended SETTLE ago) and ``events`` (how many)
- ``H#<yyyy-mm-ddTHH>``     the hour: its slots' rollups merged
- ``S#<yyyy-mm-dd>``        a finished day: its slots' rollups merged
- ``D#<yyyy-mm-dd>``        the day's deflection (``deflection``)

What a rollup holds, and how rollups merge: ``tally.py``.
"""
from __future__ import annotations

import bisect
import datetime as dt
import time
from dataclasses import dataclass

from chalicelib.adapters import events
from chalicelib.insight.tally import (  # noqa: F401
    ARTICLE_FIELDS,
    DEFLECTION_WINDOW,
    LOW_RATING,
    TOP_QUERIES,
    Tally,
    deflection,
    merge,
    summarize,
)
from chalicelib.kernel import clock

SLOT = dt.timedelta(minutes=5)
# A slot is summarised once, SETTLE after it ends. Events are stamped when they happen but written a little
# later: searches, clicks, views and votes leave a container's buffer within BATCH_WAIT (5 s) plus a few
# BatchWriteItem retries; a case's event (stamped at the request's or the sweep's `now`) commits with the
# case's transaction, at the latest when that Lambda times out (30 s; 70 s for the longest function).
# Two minutes covers both with room; an event written later still would be in the events table but
# not in the reports (rebuild() recounts it).
SETTLE = dt.timedelta(minutes=2)
CATCH_UP = dt.timedelta(hours=6)  # final slots of the last six hours without a rollup are computed (a stopped job)
BUDGET_SECONDS = 200              # a run starts no more slots after this (prod: the function's timeout is 300 s)
GROUP_EVENTS = 20_000             # missing neighbouring slots of one hour are read together while they hold fewer


# ------------------------------------------------------------------ slots
def slot_of(at: str | dt.datetime, zone) -> str:
    """The local 5-minute slot a moment (or an event's ``at``) falls in: ``2026-11-24T10:05`` holds
    10:05:00.000 up to 10:09:59.999."""
    local = (clock.parse(at) if isinstance(at, str) else at).astimezone(zone)
    return f"{local:%Y-%m-%dT%H}:{local.minute - local.minute % 5:02d}"


def slot_start(slot: str, zone) -> dt.datetime:
    return dt.datetime.fromisoformat(slot).replace(tzinfo=zone).astimezone(dt.UTC)


def slots_between(first: str, last: str, zone) -> list[str]:
    """``first`` … ``last``, every slot (both included)."""
    out, at, end = [], slot_start(first, zone), slot_start(last, zone)
    while at <= end:
        out.append(slot_of(at, zone))
        at += SLOT
    return out


def day_slots(day: str, zone) -> list[str]:
    return slots_between(f"{day}T00:00", f"{day}T23:55", zone)


def is_final(slot: str, now: dt.datetime, zone) -> bool:
    """Whether no event can be written into ``slot`` any more (SETTLE after it ended)."""
    return slot_start(slot, zone) + SLOT + SETTLE <= now


def last_final(now: dt.datetime, zone) -> str:
    return slot_of(now - SETTLE - SLOT, zone)


def finished(day: dt.date, local_now: dt.datetime) -> bool:
    """Whether every slot of ``day`` is final (its last one ended SETTLE ago)."""
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), local_now.tzinfo)
    return local_now >= end + SETTLE


# ------------------------------------------------------------------ the job
def _groups(slots: list[str], size: int, zone) -> list[str]:
    """The first run of neighbouring slots of one hour in ``slots`` (sorted), at most ``size`` of them."""
    group = slots[:1]
    for slot in slots[1:size]:
        if slot[:13] != group[0][:13] or slot_start(slot, zone) != slot_start(group[-1], zone) + SLOT:
            break
        group.append(slot)
    return group


def read_slots(group: list[str], zone) -> dict[str, Tally]:
    """Neighbouring slots of one hour from their events: one Query per shard on the slots' sort-key range;
    each event read once and folded into its slot as it streams (an event at a slot's first millisecond is
    that slot's, not the one before)."""
    starts = [slot_start(s, zone) for s in group]
    bounds = [clock.isoformat(s) for s in starts]
    tallies = [Tally() for _ in group]
    for e in events.iter_events_between(group[0][:13], starts[0], starts[-1] + SLOT):
        tallies[bisect.bisect_right(bounds, e["at"]) - 1].add(e)
    return dict(zip(group, tallies, strict=True))


@dataclass
class Pace:
    """Events per slot and seconds per slot in what a run read last (sizes its next group, judges its budget)."""
    events: float | None = None
    seconds: float = 0.0


def compute_slots(slots: list[str], zone, *, now: dt.datetime, deadline: float | None = None,
                  pace: Pace | None = None) -> dict[str, dict]:
    """Summarise ``slots`` from their events, oldest first, and write their ``M#`` rollups (``final`` if they
    are): neighbouring slots of an hour are read together while they should hold under GROUP_EVENTS events
    (judged by ``pace``; with nothing to judge by, the first slot alone). Once something was read, no further
    group starts if it would end past ``deadline`` (``time.monotonic()``); returns what was written
    (slot → rollup)."""
    pending, pace = sorted(slots), pace or Pace()
    written: dict[str, dict] = {}
    while pending:
        size = 1 if pace.events is None else max(1, int(GROUP_EVENTS // max(pace.events, 1.0)))
        group = _groups(pending, size, zone)
        if deadline is not None and (written or pace.seconds) and \
                time.monotonic() + pace.seconds * len(group) > deadline:
            break
        started = time.monotonic()
        tallies = read_slots(group, zone)
        items = []
        for slot, tally in tallies.items():
            written[slot] = tally.result()
            items.append(events.rollup_item(f"M#{slot}", written[slot], final=is_final(slot, now, zone),
                                            events=tally.count))
        events.write_rollups(items)
        del pending[:len(group)]
        pace.events = sum(t.count for t in tallies.values()) / len(group)
        pace.seconds = (time.monotonic() - started) / len(group) or 1e-9
    return written


def final_slots(first: str, last: str, pace: Pace | None = None) -> set[str]:
    """The slots of ``first``..``last`` with a final rollup: one Query (of marks only). ``pace`` learns the
    events of the latest one (how big a slot is now)."""
    found = [(sort_key[2:], marks) for sort_key, _, marks in events.rollup_items("M", first, last, data=False)
             if marks.get("final")]
    if pace is not None and found and pace.events is None:
        pace.events = float(max(marks["events"] for _, marks in found[-12:]))
    return {slot for slot, _ in found}


def merge_hour(hour: str) -> dict:
    """The hour's rollup ``H#<hour>``: its slots' rollups merged (one Query of ≤ 12 items)."""
    summary = merge([data for _, data in events.rollups("M", hour, hour)])
    events.put_rollup(f"H#{hour}", summary)
    return summary


def aggregate_deflection(day: dt.date) -> dict:
    day_events = [e for hour in _hours_of_day(day) for e in events.hour_events(hour)]
    later = [e for hour in _hours_of_day(day + dt.timedelta(days=1)) for e in events.hour_events(hour)]
    result = deflection(day_events, later)
    events.put_rollup(f"D#{day.isoformat()}", result)
    return result


def _hours_of_day(day: dt.date) -> list[str]:
    return [f"{day.isoformat()}T{h:02d}" for h in range(24)]


def compact_day(day: dt.date, zone, *, now: dt.datetime, deadline: float | None = None,
                pace: Pace | None = None) -> dict | None:
    """A finished day as one summary (``S#<day>``): its slots' rollups merged (one Query of 288 items); a slot
    without a final rollup (the job was stopped) is computed from its events first. None if the deadline
    came first (the next run goes on)."""
    found = {sort_key[2:]: (data, marks.get("final"))
             for sort_key, data, marks in events.rollup_items("M", day.isoformat(), day.isoformat())}
    missing = [s for s in day_slots(day.isoformat(), zone) if not found.get(s, (None, False))[1]]
    computed = compute_slots(missing, zone, now=now, deadline=deadline, pace=pace) if missing else {}
    if len(computed) < len(missing):
        return None
    # (read with their data: only a projection without it gives None)
    summary = merge([*(data for data, final in found.values() if final and data is not None), *computed.values()])
    events.put_rollup(f"S#{day.isoformat()}", summary)
    return summary


def summaries(first: str, last: str) -> list[tuple[str, dict]]:
    """What a report reads for ``first``..``last``: the day summaries, and the hours of days not yet
    compacted (today, yesterday until 00:02) — two Queries per month at most."""
    found = events.rollups("S", first, last)
    have = {sort_key[2:] for sort_key, _ in found}
    day, missing = dt.date.fromisoformat(first), []
    while day.isoformat() <= last:
        if day.isoformat() not in have:
            missing.append(day.isoformat())
        day += dt.timedelta(days=1)
    if missing:
        wanted = set(missing)
        found += [(k, v) for k, v in events.rollups("H", missing[0], missing[-1]) if k[2:12] in wanted]
    return found


def budget(remaining_ms: int | None) -> float:
    """A run's time budget: BUDGET_SECONDS, or two thirds of what the Lambda has left if less (the rest for
    the slot being read when the budget runs out, and the hours' merges)."""
    if remaining_ms is None:
        return BUDGET_SECONDS
    return min(BUDGET_SECONDS, remaining_ms / 1000 * 2 / 3)


def run(ctx, *, deflection_days: int = 7, budget_seconds: float = BUDGET_SECONDS) -> dict[str, int]:
    """The schedule: summarise every final slot of the last CATCH_UP without a final rollup (normally the one
    that ended SETTLE ago: each event is read once) and merge the hours they belong to; compact finished
    days; write the oldest missing final deflection day of the last week. Within ``budget_seconds``: a
    stopped job catches up over its next runs, oldest slot first."""
    zone = clock.zone(ctx.settings.time_zone)
    local = ctx.now.astimezone(zone)
    deadline = time.monotonic() + budget_seconds
    done = {"slots": 0, "hours": 0, "days": 0, "deflection_days": 0}
    last = last_final(ctx.now, zone)
    first = slot_of(slot_start(last, zone) - CATCH_UP + SLOT, zone)
    pace = Pace()
    have = final_slots(first, last, pace)
    written = compute_slots([s for s in slots_between(first, last, zone) if s not in have], zone, now=ctx.now,
                            deadline=deadline, pace=pace)
    for hour in sorted({slot[:13] for slot in written}):
        merge_hour(hour)
        done["hours"] += 1
    done["slots"] = len(written)
    for back in range(1, 1 + deflection_days):
        day = local.date() - dt.timedelta(days=back)
        if finished(day, local) and not events.has_rollup(f"S#{day.isoformat()}"):
            if compact_day(day, zone, now=ctx.now, deadline=deadline, pace=pace) is None:
                return done
            done["days"] += 1
    for back in range(2, 2 + deflection_days):  # at most one per run: a day's pass reads 48 hours of events
        day = local.date() - dt.timedelta(days=back)
        if time.monotonic() < deadline and not events.has_rollup(f"D#{day.isoformat()}"):
            aggregate_deflection(day)
            done["deflection_days"] += 1
            break
    return done


def rebuild(first: dt.date, last: dt.date, *, now: dt.datetime, time_zone: str) -> None:
    """Recompute ``first``..``last`` from the events (after a backfill, or events written too late): every slot
    begun by ``now`` (one not yet final is marked so, and the job recomputes it once final), the hours, the
    finished days' summaries, and the final deflection days."""
    zone = clock.zone(time_zone)
    local_now = now.astimezone(zone)
    day, pace = first, Pace()
    while day <= last:
        started = [s for s in day_slots(day.isoformat(), zone) if slot_start(s, zone) <= now]
        computed = compute_slots(started, zone, now=now, pace=pace)
        for hour in sorted({slot[:13] for slot in computed}):
            merge_hour(hour)
        if finished(day, local_now):
            events.put_rollup(f"S#{day.isoformat()}", merge(list(computed.values())))
        if day <= local_now.date() - dt.timedelta(days=2):
            aggregate_deflection(day)
        day += dt.timedelta(days=1)


def offline(evs: list[dict], *, now: dt.datetime, time_zone: str) -> list[dict]:
    """The rollup items ``rebuild`` would write for these events (the demo seed: computed in process, no
    reads): each begun slot of an unfinished day and its hours, and each finished day's summary."""
    zone = clock.zone(time_zone)
    local_now = now.astimezone(zone)
    tallies: dict[str, Tally] = {}
    for e in sorted(evs, key=lambda e: (e["at"], e["id"])):
        tallies.setdefault(slot_of(e["at"], zone), Tally()).add(e)
    items = []
    for day in sorted({slot[:10] for slot in tallies}):
        slots = {s: tallies.get(s, Tally()) for s in day_slots(day, zone) if slot_start(s, zone) <= now}
        if finished(dt.date.fromisoformat(day), local_now):
            items.append(events.rollup_item(f"S#{day}", merge([t.result() for t in slots.values()])))
            continue
        for slot, tally in slots.items():
            items.append(events.rollup_item(f"M#{slot}", tally.result(), final=is_final(slot, now, zone),
                                            events=tally.count))
        for hour in sorted({slot[:13] for slot in slots}):
            items.append(events.rollup_item(f"H#{hour}", merge([t.result() for s, t in slots.items()
                                                                  if s[:13] == hour])))
    return items
