"""Per-agent figures for leads (issue #25 item 7): plain functions over events and rollups (no AWS).

The case events carry ``agent`` — the staff user name of who answered, resolved (and, on a reopen or a
rating, who had resolved it); nothing about the user. A rollup's ``agents`` maps an agent to the counters
``FIELDS`` (sums of whole minutes on the case's clock, so an hour's and a day's rollups add up exactly);
the report shows averages, CSAT (share of 4–5 ratings), the reopen rate (reopens ÷ resolutions) and the
open load (open 工单 assigned to them now, from the cases table's ``open_age`` index).
"""
from __future__ import annotations

FIELDS = ("first_responses", "first_response_minutes", "resolutions", "resolution_minutes", "ratings",
          "good_ratings", "reopened")


def _row(agents: dict[str, list[int]], agent: str) -> list[int]:
    return agents.setdefault(agent, [0] * len(FIELDS))


def fold(agents: dict[str, list[int]], e: dict) -> None:
    """Count one event into ``agents`` (a rollup's per-agent counters)."""
    agent, kind = e.get("agent"), e.get("kind", "")
    if not agent:
        return
    row = _row(agents, agent)
    if kind.startswith("case.") and e.get("first_response_seconds") is not None:
        row[0] += 1
        row[1] += round(e["first_response_seconds"] / 60)
    if kind == "case.resolved" and e.get("resolution_seconds") is not None:
        row[2] += 1
        row[3] += round(e["resolution_seconds"] / 60)
    if kind == "csat":
        row[4] += 1
        row[5] += int(e.get("rating", 0)) >= 4
    if kind == "case.reopened":
        row[6] += 1


def add(total: dict[str, list[int]], more: dict[str, list[int]]) -> None:
    for agent, values in more.items():
        row = _row(total, agent)
        total[agent] = [a + b for a, b in zip(row, values, strict=True)]


def _mean(total: int, count: int) -> float | None:
    return round(total / count, 1) if count else None


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def rows(summaries: list[dict], open_load: dict[str, int]) -> list[list]:
    """One row per agent (by name): [agent, first responses, mean first response min, resolutions, mean
    resolution min, CSAT share, ratings, reopen rate, open load]."""
    total: dict[str, list[int]] = {}
    for summary in summaries:
        add(total, summary.get("agents", {}))
    for agent in open_load:
        _row(total, agent)
    found = []
    for agent in sorted(total):
        fr, fr_min, res, res_min, rated, good, reopened = total[agent]
        found.append([agent, fr, _mean(fr_min, fr), res, _mean(res_min, res), _share(good, rated), rated,
                      _share(reopened, res), open_load.get(agent, 0)])
    return found


COLUMNS = [("agent", "客服"), ("first_responses", "首次答复数"), ("first_response_mean", "首次答复平均（分钟）"),
           ("resolutions", "解决数"), ("resolution_mean", "解决平均（分钟）"), ("csat", "满意率"),
           ("ratings", "评价数"), ("reopen_rate", "重新打开率"), ("open_load", "当前处理中")]
