"""Report tables from rollups: plain functions over ``rollup.summarize`` output (no AWS).

Each report is a list of tables (``Table``: name, title, columns, rows) so that the JSON, the
CSV download and the page's charts all come from the same numbers.

Definitions (README "Reports"):
- percentiles are nearest-rank over whole minutes: the p-th percentile is the smallest value with
  at least p % of the values at or below it (the median of 4 values is the 2nd);
- times to first response and to (first) resolution are counted on the case's clock: business hours
  (09:00–18:00, business days), round the clock for security cases; waiting on the user and the time
  between a resolve and a reopen do not count;
- CSAT is the share of ratings of 4 or 5; click-through is clicks ÷ searches; deflection is the share
  of users who searched or read (that article) and opened no case within 24 h.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from chalicelib.escalation import service as escalation
from chalicelib.insight import tally
from chalicelib.insight.tally import ARTICLE_FIELDS


@dataclass(frozen=True)
class Filters:
    first: dt.date
    last: dt.date
    category: str | None = None
    step: str | None = None

    def days(self) -> list[str]:
        count = (self.last - self.first).days + 1
        return [(self.first + dt.timedelta(days=n)).isoformat() for n in range(count)]

    def match(self, category: str | None, step: str | None) -> bool:
        return (self.category is None or category == self.category) and (self.step is None or step == self.step)


@dataclass
class Table:
    name: str
    title: str
    columns: list[tuple[str, str]]          # (key, title)
    rows: list[list] = field(default_factory=list)
    # {"label": key, "values": [keys], "kind": "bar"|"hbar", "unit", "target": one value for every row,
    #  "targets": {value key: the key of each row's own target}} (charts.py)
    chart: dict | None = None


def percentile(counts: dict[int, int], p: float) -> int | None:
    """Nearest rank over {value: how many times}."""
    n = sum(counts.values())
    if n == 0:
        return None
    rank = max(1, math.ceil(p / 100 * n))
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= rank:
            return value
    return None  # pragma: no cover


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _split(key: str) -> list[str | None]:
    return [p or None for p in key.split("|")]


def _day(sort_key: str) -> str:
    return sort_key[2:12]  # H#2026-11-24T10 / D#2026-11-24


# ------------------------------------------------------------------ cases
def cases_report(hours: list[tuple[str, dict]], f: Filters, oldest: list) -> list[Table]:
    days = f.days()
    per_day = {d: {"opened": 0, "escalated": 0, "resolved": 0, "reopened": 0, "replies": 0} for d in days}
    escalated = {s: 0 for s in escalation.STEP_NAMES}
    breaches = {s: {"step": 0, "first_response": 0, "resolution": 0} for s in escalation.STEP_NAMES}
    durations: dict[tuple[str, str], dict[int, int]] = {
        (m, p): {} for m in ("first_response", "resolution") for p in escalation.PRIORITIES}
    for sort_key, summary in hours:
        day = _day(sort_key)
        if day not in per_day:
            continue
        for key, count in summary.get("cases", {}).items():
            metric, category, step, _priority = _split(key)
            if metric is None or not f.match(category, step):  # (every rollup key names its metric)
                continue
            if metric in per_day[day]:
                per_day[day][metric] += count
            if metric == "escalated" and step in escalated:
                escalated[step] += count
            if metric.startswith("breach.") and step in breaches:
                target = metric.split(".", 1)[1]
                breaches[step][target] = breaches[step].get(target, 0) + count
        for key, buckets in summary.get("durations", {}).items():
            metric, category, step, priority = _split(key)
            if metric is None or priority is None or not f.match(category, step) \
                    or (metric, priority) not in durations:
                continue
            bucket = durations[(metric, priority)]
            for minutes, count in buckets.items():
                bucket[int(minutes)] = bucket.get(int(minutes), 0) + count
    daily = Table("daily", "每日工单量", [("day", "日期"), ("opened", "新建"), ("escalated", "升级"),
                                          ("resolved", "解决"), ("reopened", "重新打开"), ("replies", "客服答复")],
                  [[d, *per_day[d].values()] for d in days],
                  chart={"label": "day", "values": ["opened", "resolved"], "kind": "bar"})
    by_step = Table("escalated_by_step", "各步骤收到的升级",
                    [("step", "步骤"), ("title", "名称"), ("escalated", "升级次数")],
                    [[s, escalation.STEP_TITLES[s], escalated[s]] for s in escalation.STEP_NAMES],
                    chart={"label": "title", "values": ["escalated"], "kind": "hbar"})
    times = Table("response_times", "首次答复与解决用时（分钟，按工作时间；安全工单全天候）", [
        ("priority", "优先级"), ("first_response_count", "首次答复数"), ("first_response_median", "首次答复中位数"),
        ("first_response_p90", "首次答复 P90"), ("first_response_target", "首次答复目标"),
        ("resolution_count", "解决数"), ("resolution_median", "解决中位数"), ("resolution_p90", "解决 P90"),
        ("resolution_target", "解决目标")],
        chart={"label": "priority", "values": ["first_response_median", "resolution_median"], "kind": "hbar",
               "unit": "分钟", "targets": {"first_response_median": "first_response_target",
                                          "resolution_median": "resolution_target"}})
    for priority in escalation.PRIORITIES:
        first_target, resolution_target = escalation.sla_targets(priority, security=False)
        row: list[str | int | None] = [priority]
        for metric, target_hours in (("first_response", first_target), ("resolution", resolution_target)):
            counts = durations[(metric, priority)]
            row += [sum(counts.values()), percentile(counts, 50), percentile(counts, 90), round(target_hours * 60)]
        times.rows.append(row)
    breach_table = Table("breaches_by_step", "各步骤超时（违反 SLA）", [
        ("step", "步骤"), ("title", "名称"), ("step_limit", "步骤时限"), ("first_response", "首次答复"),
        ("resolution", "解决"), ("total", "合计")],
        [[s, escalation.STEP_TITLES[s], b["step"], b["first_response"], b["resolution"], sum(b.values())]
         for s, b in breaches.items()],
        chart={"label": "title", "values": ["total"], "kind": "hbar"})
    old = Table("oldest_open", "最久未结的工单", [("case_id", "工单编号"), ("category", "类别"), ("priority", "优先级"),
                                                  ("step", "步骤"), ("status", "状态"), ("created_at", "创建时间"),
                                                  ("age_hours", "已过小时")], oldest)
    return [daily, by_step, times, breach_table, old]


# ------------------------------------------------------------------ satisfaction
def week_of(day: str) -> str:
    date = dt.date.fromisoformat(day)
    return (date - dt.timedelta(days=date.weekday())).isoformat()


def satisfaction_report(hours: list[tuple[str, dict]], f: Filters) -> list[Table]:
    weeks: dict[str, list[int]] = {}
    for day in f.days():
        weeks.setdefault(week_of(day), [0, 0])
    categories: dict[str, list[int]] = {c: [0, 0] for c in escalation.CATEGORIES}
    by_step: dict[str, list[int]] = {s: [0, 0] for s in escalation.STEP_NAMES}
    low: list[dict] = []
    days = set(f.days())
    for sort_key, summary in hours:
        day = _day(sort_key)
        if day not in days:
            continue
        for key, count in summary.get("csat", {}).items():
            category, step, rating = _split(key)
            if not f.match(category, step) or rating is None:
                continue
            good = count if int(rating) >= 4 else 0
            # (a rating without a category or a step counts in the weeks only)
            for row in (weeks[week_of(day)], categories.get(category or ""), by_step.get(step or "")):
                if row is not None:
                    row[0] += count
                    row[1] += good
        low.extend(c for c in summary.get("comments", []) if f.match(c.get("category"), c.get("step")))
    columns = [("ratings", "评价数"), ("satisfied", "满意（4–5 分）"), ("csat", "满意率")]
    target = escalation.csat_target()   # a dashed line on the CSAT charts (None: no target configured)
    weekly = Table("weekly", "每周满意率（CSAT）", [("week", "周（周一）"), *columns],
                   [[w, n, good, share(good, n)] for w, (n, good) in sorted(weeks.items())],
                   chart={"label": "week", "values": ["csat"], "kind": "bar", "unit": "%", "target": target})
    per_category = Table("by_category", "各类别满意率", [("category", "类别"), ("title", "名称"), *columns],
                         [[c, escalation.CATEGORY_TITLES[c], n, good, share(good, n)]
                          for c, (n, good) in categories.items()],
                         chart={"label": "title", "values": ["csat"], "kind": "hbar", "unit": "%",
                                "target": target})
    per_step = Table("by_step", "按到达的步骤", [("step", "步骤"), ("title", "名称"), *columns],
                     [[s, escalation.STEP_TITLES[s], n, good, share(good, n)] for s, (n, good) in by_step.items()],
                     chart={"label": "title", "values": ["csat"], "kind": "hbar", "unit": "%",
                            "target": target})
    comments = Table("low_ratings", "低分评价（1–2 分）的意见", [
        ("at", "时间"), ("case", "工单编号"), ("rating", "评分"), ("category", "类别"), ("step", "步骤"),
        ("comment", "意见")],
        [[c["at"], c["case"], c["rating"], c["category"], c["step"], c["comment"]]
         for c in sorted(low, key=lambda c: c["at"], reverse=True)])
    return [weekly, per_category, per_step, comments]


# ------------------------------------------------------------------ self-service
def self_service_report(hours: list[tuple[str, dict]], deflection_days: list[tuple[str, dict]], f: Filters,
                        articles_meta: dict[str, dict], top: int = 20) -> list[Table]:
    """``articles_meta``: slug → {"title", "category"} (the KB index); ``f.category`` is a KB category here."""
    days = f.days()
    per_day = {d: [0, 0, 0, 0] for d in days}
    queries: dict[str, list[int]] = {}
    articles: dict[str, list[int]] = {}
    assistant: dict[str, list[int]] = {}
    for sort_key, summary in hours:
        day = _day(sort_key)
        if day not in per_day:
            continue
        per_day[day] = [a + b for a, b in zip(per_day[day], summary.get("search", [0, 0, 0, 0]), strict=True)]
        tally.add_search_counts(queries, articles, summary)
        tally.add_assistant_counts(assistant, summary)
    reach: dict[str, list[int]] = {}
    for sort_key, result in deflection_days:
        if _day(sort_key) in per_day:
            for slug, (users, deflected) in result.items():
                row = reach.setdefault(slug, [0, 0])
                row[0] += users
                row[1] += deflected
    daily = Table("daily", "每日搜索", [("day", "日期"), ("searches", "搜索"), ("zero_results", "无结果"),
                                       ("zero_rate", "无结果率"), ("clicks", "点击"), ("ctr", "点击率"),
                                       ("cases_after_search", "搜索后提交工单")],
                  [[d, s, z, share(z, s), c, share(c, s), k] for d, (s, z, c, k) in per_day.items()],
                  chart={"label": "day", "values": ["searches", "zero_results"], "kind": "bar"})
    unclicked = sorted(((q, s) for q, (s, c) in queries.items() if c == 0 and s > 0), key=lambda x: (-x[1], x[0]))
    no_click = Table("queries_without_click", "没有点击任何结果的热门搜索",
                     [("query", "搜索内容"), ("searches", "次数")],
                     [[q, s] for q, s in unclicked[:top]],
                     chart={"label": "query", "values": ["searches"], "kind": "hbar"})
    rows = []
    for slug in sorted(set(articles) | {s for s in reach if s != "*"}):
        meta = articles_meta.get(slug, {})
        if f.category and meta.get("category") != f.category:
            continue
        views, helpful, not_helpful, clicks, cases_after = articles.get(slug, [0] * len(ARTICLE_FIELDS))
        users, deflected = reach.get(slug, [0, 0])
        rows.append([slug, meta.get("title", ""), views, helpful, not_helpful, share(helpful, helpful + not_helpful),
                     clicks, cases_after, users, deflected, share(deflected, users)])
    rows.sort(key=lambda r: (-r[2], r[0]))
    table = Table("articles", "文章阅读、有用率与分流（阅读后 24 小时内未提交工单的用户占比）", [
        ("slug", "文章"), ("title", "标题"), ("views", "阅读"), ("helpful", "有帮助"), ("not_helpful", "没帮助"),
        ("helpful_share", "有用率"), ("clicks", "搜索点击"), ("cases_after", "读后提交工单"),
        ("users", "读者（已登录）"), ("deflected", "未提交工单"), ("deflection", "分流率")], rows,
        chart={"label": "title", "values": ["deflection"], "kind": "hbar", "unit": "%"})
    users, deflected = reach.get("*", [0, 0])
    overall = Table("deflection", "整体分流（搜索或阅读后 24 小时内未提交工单）", [
        ("users", "搜索或阅读的用户"), ("deflected", "未提交工单"), ("deflection", "分流率")],
        [[users, deflected, share(deflected, users)]])
    return [daily, no_click, table, overall, *assistant_tables(assistant)]


def assistant_tables(assistant: dict[str, list[int]]) -> list[Table]:
    """The 智能客服 (#24): totals, and per intent what was understood, done, handed over or resolved."""
    started, clarifying, handovers, resolved = assistant.get("*", [0, 0, 0, 0])
    overall = Table("assistant", "智能客服：对话、转人工与自助解决", [
        ("conversations", "对话"), ("clarifying", "追问"), ("handovers", "转人工"), ("resolved", "未提交工单即解决"),
        ("resolved_share", "自助解决率")],
        [[started, clarifying, handovers, resolved, share(resolved, started)]])
    counted = sorted(((intent, values) for intent, values in assistant.items() if intent != "*"),
                     key=lambda kv: (-kv[1][0], kv[0]))
    rows: list[list] = [[intent or "（未识别）", understood, acted, handed, done, share(done, understood)]
                        for intent, (understood, acted, handed, done) in counted]
    per_intent = Table("assistant_intents", "智能客服：各意图的识别、操作、转人工和自助解决", [
        ("intent", "意图"), ("intents", "识别次数"), ("actions", "执行操作"), ("handovers", "转人工"),
        ("resolved", "未提交工单即解决"), ("resolved_share", "自助解决率")], rows,
        chart={"label": "intent", "values": ["intents", "handovers", "resolved"], "kind": "hbar"})
    return [overall, per_intent]


def article_days(deflection_days: list[tuple[str, dict]], f: Filters, slug: str, title: str,
                 marks: dict[str, str]) -> Table:
    """One article's deflection day by day, its publish dates marked (``marks``: day → "发布第 N 版"…), so a lead
    sees whether a change helped: the chart draws a dashed vertical line on each marked day."""
    reach = {d: [0, 0] for d in f.days()}
    for sort_key, result in deflection_days:
        day = _day(sort_key)
        if day in reach and slug in result:
            reach[day] = [a + b for a, b in zip(reach[day], result[slug], strict=True)]
    rows = [[d, users, deflected, share(deflected, users), marks.get(d)] for d, (users, deflected) in reach.items()]
    return Table("article_days", f"「{title or slug}」每日分流（虚竖线：发布日期）", [
        ("day", "日期"), ("users", "读者（已登录）"), ("deflected", "未提交工单"), ("deflection", "分流率"),
        ("published", "发布")], rows,
        chart={"label": "day", "values": ["deflection"], "kind": "bar", "unit": "%", "marks": "published"})
