"""How the reports page shows a report's tables to senior support: readable Chinese for every code (category,
step, status, priority), times in the service's time zone, 工单 and articles as links, shares as percentages.

The JSON and CSV twins keep what programs read — the codes, UTC ISO times, shares as fractions — so the page
shows the same numbers in other words. Staff wording throughout ("等待用户回复", not the user's "等待您回复").
"""
from __future__ import annotations

import dataclasses
from urllib.parse import quote, urlencode

from chalicelib.escalation import service as escalation
from chalicelib.kernel import clock

SHARES = frozenset({"csat", "zero_rate", "ctr", "helpful_share", "deflection"})
TIMES = frozenset({"created_at", "at"})          # UTC ISO in the data, local "2026-11-24 10:00" on the page
TEXT = frozenset({"comment", "title", "query"})  # left-aligned, wrapping
CASE_LINKS = frozenset({"case_id", "case"})      # a 工单 reference: its page in the workspace
# A code column is left off the page when the table also carries its readable name (the CSV keeps both).
NAMED_BY = {"step": "title", "category": "title", "slug": "title"}
# Staff wording of the case statuses (the user's pages say 等待您回复 / 待您确认).
STATUS_LABELS = {"open": "处理中", "waiting_user": "等待用户回复（计时暂停）", "resolved": "已解决，待用户确认",
                 "closed": "已关闭"}


def _labels() -> dict[str, dict[str, str]]:
    priorities = escalation.priority_titles()
    return {"category": dict(escalation.CATEGORY_TITLES),
            "step": dict(escalation.STEP_TITLES),
            "status": STATUS_LABELS,
            "priority": {p: f"{p} {priorities[p]}" for p in escalation.PRIORITIES}}


def label(key: str, value):
    """The readable form of a code in column ``key`` (the value itself if it is not a code)."""
    names = _labels().get(key)
    return names.get(value, value) if names and isinstance(value, str) else value


def local_time(value: str, time_zone: str) -> str:
    """``2026-11-24T02:00:00.000Z`` → ``2026-11-24 10:00`` in ``time_zone``."""
    return clock.parse(value).astimezone(clock.zone(time_zone)).strftime("%Y-%m-%d %H:%M")


def _cell(key: str, value, row: dict, time_zone: str) -> dict:
    cell = {"text": "", "href": None, "text_column": key in TEXT, "write_url": None}
    if value is None:
        cell["text"] = "–"
    elif key in SHARES:
        cell["text"] = f"{round(value * 100, 1)}%"
    elif key in TIMES and isinstance(value, str):
        cell["text"] = local_time(value, time_zone)
    else:
        cell["text"] = str(label(key, value))
    if value is not None and key in CASE_LINKS:
        cell["href"] = f"/agent/cases/{quote(str(value), safe='-')}"
    elif key == "deflection" and row.get("slug"):   # an article's row: its daily chart with the publish dates
        cell["href"] = f"/agent/reports?report=self-service&article={quote(str(row['slug']), safe='-')}"
    elif key == "title" and row.get("slug"):
        cell["href"] = f"/help/articles/{quote(str(row['slug']), safe='-')}"
    if key == "query" and value:   # a search users made and did not get an answer to: 「写一篇文章」 about it
        cell["write_url"] = "/agent/kb/new?" + urlencode({"question": str(value)})
    return cell


def view(table, time_zone: str) -> dict:
    """``{"columns": [(key, title)], "rows": [[{"text", "href", "text_column"}]]}`` of one table for the page."""
    keys = [key for key, _ in table.columns]
    shown = [i for i, key in enumerate(keys) if not (key in NAMED_BY and NAMED_BY[key] in keys)]
    rows = []
    for row in table.rows:
        named = dict(zip(keys, row, strict=True))
        rows.append([_cell(keys[i], row[i], named, time_zone) for i in shown])
    return {"columns": [table.columns[i] for i in shown], "rows": rows}


def for_chart(table):
    """The table with its chart's labels in words (``P2`` → ``P2 高``), for ``charts.render``."""
    if not table.chart:
        return table
    keys = [key for key, _ in table.columns]
    at = keys.index(table.chart["label"])
    rows = [[label(keys[at], cell) if i == at else cell for i, cell in enumerate(row)] for row in table.rows]
    return dataclasses.replace(table, rows=rows)


def sla_note() -> str:
    """The SLA targets in words (the page names no file)."""
    priorities = escalation.priority_titles()
    parts = []
    for p in escalation.PRIORITIES:
        first, resolution = escalation.sla_targets(p, security=False)
        parts.append(f"{p} {priorities[p]} {first:g} / {resolution:g} 小时")
    first, resolution = escalation.sla_targets("P1", security=True)
    return (f"SLA 目标（首次答复 / 解决，工作时间）：{'，'.join(parts)}；"
            f"账户安全工单全天候 {first:g} / {resolution:g} 小时。"
            "图中虚线为目标；恰好到时限也算超时。")


def csat_note() -> str | None:
    target = escalation.csat_target()
    return None if target is None else f"满意率目标：{round(target * 100)}%（图中虚线）。"
