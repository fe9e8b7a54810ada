"""What a rollup counts, as plain functions over events (no AWS; unit-tested on fixed events): ``Tally`` one
slot's events, ``summarize``, ``merge`` rollups (slots → hour → day), a day's ``deflection``. The job that
reads events and writes rollups is ``rollup.py``.

A rollup (JSON, dimension values joined by ``|``):
- ``cases``      ``<metric>|<category>|<step>|<priority>`` → count; metrics ``opened``, ``escalated``,
                 ``resolved``, ``reopened``, ``replies``, ``breach.<target>``
- ``durations``  ``<first_response|resolution>|<category>|<step>|<priority>`` → {minutes: count}
- ``csat``       ``<category>|<step>|<rating>`` → count; ``comments``: the low ratings (≤ 2) with a comment
- ``search``     [searches, zero results, clicks, searches then a case]
- ``queries``    query → [searches, clicks], the TOP_QUERIES most searched (heavy hitters): a slot keeps its
                 own top 300, an hour or a day the top 300 of its slots' sums (approximate, stated in the report)
- ``articles``   slug → [views, helpful votes, not helpful votes, clicks, cases after reading]
- ``assistant``  the 智能客服 (#24): intent → [understood, actions taken, handovers, resolved without a 工单]
                 (a handover counts for the conversation's last topic, a resolution for each of its topics);
                 ``*`` → [conversations started, clarifying questions, handovers, resolved without a 工单].
                 Events carry only ids and intent names (``assistant.service._record``): nothing personal.
- ``agents``     staff user name → the per-agent counters (``agents.py``)
Everything but ``queries`` merges exactly (counts and duration buckets add up; comments are kept).
"""
from __future__ import annotations

import datetime as dt

from chalicelib.insight import agents as per_agent
from chalicelib.kernel import clock

TOP_QUERIES = 300
LOW_RATING = 2
DEFLECTION_WINDOW = dt.timedelta(hours=24)
ARTICLE_FIELDS = ("views", "helpful", "not_helpful", "clicks", "cases_after")
ASSISTANT_FIELDS = ("intents", "actions", "handovers", "resolved")


def _key(*parts) -> str:
    return "|".join("" if p is None else str(p) for p in parts)


class Tally:
    """One rollup, built an event at a time (``add``): a slot's events are folded in as they are read."""

    def __init__(self):
        self.count = 0
        self.cases: dict[str, int] = {}
        self.durations: dict[str, dict[str, int]] = {}
        self.csat: dict[str, int] = {}
        self.comments: list[dict] = []
        self.search = [0, 0, 0, 0]
        self.queries: dict[str, list[int]] = {}
        self.articles: dict[str, list[int]] = {}
        self.agents: dict[str, list[int]] = {}
        self.assistant: dict[str, list[int]] = {}

    def _assistant(self, intent: str, field: int, by: int = 1) -> None:
        self.assistant.setdefault(intent, [0] * len(ASSISTANT_FIELDS))[field] += by

    @staticmethod
    def _bump(table: dict, key: str, by: int = 1):
        table[key] = table.get(key, 0) + by

    def _article(self, slug: str) -> list[int]:
        return self.articles.setdefault(slug, [0] * len(ARTICLE_FIELDS))

    def add(self, e: dict) -> None:
        self.count += 1
        cases, bump, article, search, queries = self.cases, self._bump, self._article, self.search, self.queries
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
        elif kind in ("case.merged", "case.unmerged"):   # a merged pair counts as one 工单 opened
            bump(cases, _key("opened", *dims), -1 if kind == "case.merged" else 1)
        elif kind == "breach":
            bump(cases, _key(f"breach.{e.get('target')}", *dims))
        per_agent.fold(self.agents, e)
        if kind in ("case.replied", "case.paused") and e.get("actor") == "support":
            bump(cases, _key("replies", *dims))
        for metric, field in (("first_response", "first_response_seconds"), ("resolution", "resolution_seconds")):
            if kind.startswith("case.") and e.get(field) is not None:
                minutes = str(round(e[field] / 60))
                bucket = self.durations.setdefault(_key(metric, *dims), {})
                bucket[minutes] = bucket.get(minutes, 0) + 1
        if kind == "csat":
            bump(self.csat, _key(e.get("category"), e.get("step"), e.get("rating")))
            if e.get("rating", 5) <= LOW_RATING and e.get("comment"):
                self.comments.append({k: e.get(k) for k in ("at", "case", "rating", "category", "step", "comment")})
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
        elif kind.startswith("assistant."):
            self._add_assistant(kind.partition(".")[2], e)

    def _add_assistant(self, what: str, e: dict) -> None:
        if what == "started":
            self._assistant("*", 0)
        elif what == "clarifying":
            self._assistant("*", 1)
        elif what in ("intent", "clarified") and e.get("intent"):
            self._assistant(e["intent"], 0)
        elif what == "action":
            self._assistant(e.get("intent") or "", 1)
        elif what == "handover":
            self._assistant("*", 2)
            self._assistant((e.get("intents") or [""])[-1], 2)
        elif what == "resolved":
            self._assistant("*", 3)
            for intent in dict.fromkeys(e.get("intents") or ()):
                self._assistant(intent, 3)

    def result(self) -> dict:
        top = sorted(self.queries.items(), key=lambda kv: (-kv[1][0], kv[0]))[:TOP_QUERIES]
        return {"cases": self.cases, "durations": self.durations, "csat": self.csat, "comments": self.comments,
                "search": self.search, "queries": dict(top), "articles": self.articles,
                "assistant": self.assistant,
                "agents": self.agents}


def summarize(events_) -> dict:
    """The rollup of some events (a slot's, an hour's: any iterable, read once)."""
    tally = Tally()
    for e in events_:
        tally.add(e)
    return tally.result()


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
    """Several summaries as one (an hour's or a day's slots): counts added, duration buckets
    added, comments kept, queries added and cut to the TOP_QUERIES most searched again."""
    cases: dict[str, int] = {}
    durations: dict[str, dict[str, int]] = {}
    csat: dict[str, int] = {}
    comments: list[dict] = []
    search = [0, 0, 0, 0]
    queries: dict[str, list[int]] = {}
    articles: dict[str, list[int]] = {}
    assistant: dict[str, list[int]] = {}
    agents: dict[str, list[int]] = {}
    for summary in summaries:
        per_agent.add(agents, summary.get("agents", {}))
        for name, totals in (("cases", cases), ("csat", csat)):
            for key, count in summary.get(name, {}).items():
                totals[key] = totals.get(key, 0) + count
        for key, buckets in summary.get("durations", {}).items():
            target = durations.setdefault(key, {})
            for minutes, count in buckets.items():
                target[minutes] = target.get(minutes, 0) + count
        comments.extend(summary.get("comments", []))
        search = [a + b for a, b in zip(search, summary.get("search", [0, 0, 0, 0]), strict=True)]
        add_search_counts(queries, articles, summary)
        add_assistant_counts(assistant, summary)
    top = dict(sorted(queries.items(), key=lambda kv: (-kv[1][0], kv[0]))[:TOP_QUERIES])
    return {"cases": cases, "durations": durations, "csat": csat, "comments": comments, "search": search,
            "queries": top, "articles": articles, "assistant": assistant,
            "agents": agents}


def add_assistant_counts(assistant: dict[str, list[int]], summary: dict) -> None:
    """Add one summary's 智能客服 counters (per intent, and ``*``) to running totals (older rollups have none)."""
    for intent, values in summary.get("assistant", {}).items():
        row = assistant.setdefault(intent, [0] * len(ASSISTANT_FIELDS))
        assistant[intent] = [a + b for a, b in zip(row, values, strict=True)]


def add_search_counts(queries: dict[str, list[int]], articles: dict[str, list[int]], summary: dict) -> None:
    """Add one summary's per-query [searches, clicks] and per-article counters to running totals."""
    for query, (searches, clicks) in summary.get("queries", {}).items():
        row = queries.setdefault(query, [0, 0])
        row[0] += searches
        row[1] += clicks
    for slug, values in summary.get("articles", {}).items():
        row = articles.setdefault(slug, [0] * len(ARTICLE_FIELDS))
        articles[slug] = [a + b for a, b in zip(row, values, strict=True)]
