"""The scheduled aggregation: an hour's events → one rollup item; a day's deflection once it is final.

``summarize(events)`` and ``deflection(...)`` are plain functions (unit-tested on fixed events).
``run(ctx)`` (every 5 minutes, ``app.aggregate_events``) recomputes the current hour (and, in the
first LATE minutes of an hour, the previous one) from its events and overwrites its rollup —
recomputing, never adding, so a repeated or overlapping run cannot count an event twice, and an
event written a little late (a slow transaction, a buffered search) is still counted. A day's deflection
needs the 24 h after it, so it is written once, when the day is two days old.

A finished day's hours are merged into one day summary (``S#<day>``, ``compact_day``), so a report
reads one item per past day (``summaries``), and hour items only for today (and yesterday until
its last hour is final).

Rollup of an hour (JSON, dimension values joined by ``|``):
- ``cases``      ``<metric>|<category>|<step>|<priority>`` → count; metrics ``opened``, ``escalated``,
                 ``resolved``, ``reopened``, ``replies``, ``breach.<target>``
- ``durations``  ``<first_response|resolution>|<category>|<step>|<priority>`` → {minutes: count}
- ``csat``       ``<category>|<step>|<rating>`` → count; ``comments``: the low ratings (≤ 2) with a comment
- ``search``     [searches, zero results, clicks, searches then a case]
- ``queries``    query → [searches, clicks], the hour's TOP_QUERIES most searched (heavy hitters)
- ``articles``   slug → [views, helpful votes, not helpful votes, clicks, cases after reading]
"""
from __future__ import annotations

import datetime as dt

from chalicelib import clock, events

TOP_QUERIES = 300
LOW_RATING = 2
DEFLECTION_WINDOW = dt.timedelta(hours=24)
LATE = dt.timedelta(minutes=15)  # an hour is recomputed until this long after it ended (buffered, slow writes)
CATCH_UP_HOURS = 6               # hours of the last six without a rollup (the job was stopped) are computed
ARTICLE_FIELDS = ("views", "helpful", "not_helpful", "clicks", "cases_after")


def _key(*parts) -> str:
    return "|".join("" if p is None else str(p) for p in parts)


def summarize(hour_events: list[dict]) -> dict:
    cases: dict[str, int] = {}
    durations: dict[str, dict[str, int]] = {}
    csat: dict[str, int] = {}
    comments: list[dict] = []
    search = [0, 0, 0, 0]
    queries: dict[str, list[int]] = {}
    articles: dict[str, list[int]] = {}

    def bump(table: dict, key: str, by: int = 1):
        table[key] = table.get(key, 0) + by

    def article(slug: str) -> list[int]:
        return articles.setdefault(slug, [0] * len(ARTICLE_FIELDS))

    for e in hour_events:
        kind = e["kind"]
        dims = (e.get("category"), e.get("step"), e.get("priority"))
        if kind == "case.created":
            bump(cases, _key("opened", *dims))
        elif kind == "case.escalated":
            bump(cases, _key("escalated", *dims))
        elif kind == "case.resolved":
            bump(cases, _key("resolved", *dims))
        elif kind == "case.reopened":
            bump(cases, _key("reopened", *dims))
        elif kind == "breach":
            bump(cases, _key(f"breach.{e.get('target')}", *dims))
        if kind in ("case.replied", "case.paused") and e.get("actor") == "support":
            bump(cases, _key("replies", *dims))
        for metric, field in (("first_response", "first_response_seconds"), ("resolution", "resolution_seconds")):
            if kind.startswith("case.") and e.get(field) is not None:
                minutes = str(round(e[field] / 60))
                bucket = durations.setdefault(_key(metric, *dims), {})
                bucket[minutes] = bucket.get(minutes, 0) + 1
        if kind == "csat":
            bump(csat, _key(e.get("category"), e.get("step"), e.get("rating")))
            if e.get("rating", 5) <= LOW_RATING and e.get("comment"):
                comments.append({k: e.get(k) for k in ("at", "case", "rating", "category", "step", "comment")})
        elif kind == "search":
            search[0] += 1
            if e.get("zero"):
                search[1] += 1
            if e.get("query"):
                queries.setdefault(e["query"], [0, 0])[0] += 1
        elif kind == "click":
            search[2] += 1
            if e.get("query"):
                queries.setdefault(e["query"], [0, 0])[1] += 1
            if e.get("slug"):
                article(e["slug"])[3] += 1
        elif kind == "search_case":
            search[3] += 1
            if e.get("slug"):
                article(e["slug"])[4] += 1
        elif kind == "article_view":
            article(e["slug"])[0] += 1
        elif kind == "article_vote":
            article(e["slug"])[1 if e.get("helpful") else 2] += 1
    top = sorted(queries.items(), key=lambda kv: (-kv[1][0], kv[0]))[:TOP_QUERIES]
    return {"cases": cases, "durations": durations, "csat": csat, "comments": comments, "search": search,
            "queries": dict(top), "articles": articles}


def deflection(day_events: list[dict], later_events: list[dict]) -> dict[str, list[int]]:
    """Per article (and ``*`` for any search or article): [users, users who opened no case within
    24 h]. A user counts from their first search/view of that day (of that article); ``later_events``
    are the next day's (case openings up to 24 h after the day's last engagement)."""
    first_any: dict[str, str] = {}
    first_article: dict[tuple[str, str], str] = {}
    opens: dict[str, list[str]] = {}
    for e in [*day_events, *later_events]:
        if e["kind"] == "case.created" and e.get("user"):
            opens.setdefault(e["user"], []).append(e["at"])
    for e in day_events:
        user = e.get("user")
        if not user or e["kind"] not in ("search", "article_view", "click"):
            continue
        first_any[user] = min(first_any.get(user, e["at"]), e["at"])
        if e.get("slug") and e["kind"] in ("article_view", "click"):
            key = (e["slug"], user)
            first_article[key] = min(first_article.get(key, e["at"]), e["at"])

    def opened_within(user: str, since: str) -> bool:
        start = clock.parse(since)
        return any(start <= clock.parse(at) <= start + DEFLECTION_WINDOW for at in opens.get(user, ()))

    result: dict[str, list[int]] = {"*": [0, 0]}
    for user, since in first_any.items():
        result["*"][0] += 1
        result["*"][1] += not opened_within(user, since)
    for (slug, user), since in first_article.items():
        row = result.setdefault(slug, [0, 0])
        row[0] += 1
        row[1] += not opened_within(user, since)
    return result


def merge(summaries: list[dict]) -> dict:
    """Several summaries as one (a day's hours → the day's summary): counts added, duration buckets
    added, comments kept, queries added and cut to the TOP_QUERIES most searched again."""
    out = {"cases": {}, "durations": {}, "csat": {}, "comments": [], "search": [0, 0, 0, 0], "queries": {},
           "articles": {}}
    for summary in summaries:
        for table in ("cases", "csat"):
            for key, count in summary.get(table, {}).items():
                out[table][key] = out[table].get(key, 0) + count
        for key, buckets in summary.get("durations", {}).items():
            target = out["durations"].setdefault(key, {})
            for minutes, count in buckets.items():
                target[minutes] = target.get(minutes, 0) + count
        out["comments"].extend(summary.get("comments", []))
        out["search"] = [a + b for a, b in zip(out["search"], summary.get("search", [0, 0, 0, 0]))]
        for query, (searches, clicks) in summary.get("queries", {}).items():
            row = out["queries"].setdefault(query, [0, 0])
            row[0] += searches
            row[1] += clicks
        for slug, values in summary.get("articles", {}).items():
            row = out["articles"].setdefault(slug, [0] * len(ARTICLE_FIELDS))
            out["articles"][slug] = [a + b for a, b in zip(row, values)]
    out["queries"] = dict(sorted(out["queries"].items(), key=lambda kv: (-kv[1][0], kv[0]))[:TOP_QUERIES])
    return out


# ------------------------------------------------------------------ the job
def _hours_of_day(day: dt.date) -> list[str]:
    return [f"{day.isoformat()}T{h:02d}" for h in range(24)]


def aggregate_hour(hour: str) -> dict:
    summary = summarize(events.iter_hour_events(hour))
    events.put_rollup(f"H#{hour}", summary)
    return summary


def aggregate_deflection(day: dt.date) -> dict:
    day_events = [e for hour in _hours_of_day(day) for e in events.hour_events(hour)]
    later = [e for hour in _hours_of_day(day + dt.timedelta(days=1)) for e in events.hour_events(hour)]
    result = deflection(day_events, later)
    events.put_rollup(f"D#{day.isoformat()}", result)
    return result


def compact_day(day: dt.date) -> dict:
    """A finished day as one summary (``S#<day>``), recomputed from its events (not from hour rollups, which
    a stopped job may have missed): reports read one item per past day."""
    summary = merge([summarize(events.iter_hour_events(hour)) for hour in _hours_of_day(day)])
    events.put_rollup(f"S#{day.isoformat()}", summary)
    return summary


def finished(day: dt.date, local_now: dt.datetime) -> bool:
    """Whether no run will recompute an hour of ``day`` any more: its last hour is recomputed until
    LATE after it ended, so the day is final a run interval (5 minutes) after that."""
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), local_now.tzinfo)
    return local_now >= end + LATE + dt.timedelta(minutes=5)


def summaries(first: str, last: str) -> list[tuple[str, dict]]:
    """What a report reads for ``first``..``last``: the day summaries, and the hours of days not yet
    compacted (today, yesterday until 03:00) — two Queries per month at most."""
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


def run(ctx, *, deflection_days: int = 7) -> dict[str, int]:
    """The schedule (every 5 minutes): recompute the current hour (and the previous one during the first
    LATE minutes of an hour, for events written a little late), compute any of the last CATCH_UP_HOURS
    hours that has no rollup; compact finished days; write the oldest missing final deflection day of
    the last week."""
    local = ctx.now.astimezone(clock.zone(ctx.settings.time_zone))
    done = {"hours": 0, "days": 0, "deflection_days": 0}
    current = local.strftime("%Y-%m-%dT%H")
    recent = [(local - dt.timedelta(hours=n)).strftime("%Y-%m-%dT%H") for n in range(CATCH_UP_HOURS, 0, -1)]
    have = {key[2:] for key, _ in events.rollups("H", recent[0], recent[-1])}
    late = recent[-1:] if local.minute < LATE.total_seconds() / 60 else []
    for hour in [*(h for h in recent if h not in have and h not in late), *late, current]:
        aggregate_hour(hour)  # the current hour, the previous one while late writes may land, missed ones
        done["hours"] += 1
    for back in range(1, 1 + deflection_days):
        day = local.date() - dt.timedelta(days=back)
        if finished(day, local) and not events.has_rollup(f"S#{day.isoformat()}"):
            compact_day(day)
            done["days"] += 1
    for back in range(2, 2 + deflection_days):  # at most one per run: a day's pass reads 48 hours of events
        day = local.date() - dt.timedelta(days=back)
        if not events.has_rollup(f"D#{day.isoformat()}"):
            aggregate_deflection(day)
            done["deflection_days"] += 1
            break
    return done


def rebuild(first: dt.date, last: dt.date, *, now: dt.datetime, time_zone: str) -> None:
    """Recompute every hour of ``first``..``last`` (the seed; after a backfill) and the final deflection days."""
    local_now = now.astimezone(clock.zone(time_zone))
    day = first
    while day <= last:
        for hour in _hours_of_day(day):
            if hour <= local_now.strftime("%Y-%m-%dT%H"):
                aggregate_hour(hour)
        if day <= local_now.date() - dt.timedelta(days=2):
            aggregate_deflection(day)
        day += dt.timedelta(days=1)
