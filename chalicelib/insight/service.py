"""Report use cases (senior support only): cases, satisfaction, self-service — JSON, CSV and the page.

Every report reads rollups only (``events.rollups``: one Query per month of the range), plus, for
the oldest open cases, the cases table's ``open_age`` index — never the raw events and never a
Scan. The numbers come from ``metrics.py``; ``charts.py`` draws them.
"""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from chalicelib.adapters import events
from chalicelib.edge import csv_export
from chalicelib.edge.render import render
from chalicelib.escalation import service as escalation
from chalicelib.insight import agents, charts, metrics, present, rollup, schemas
from chalicelib.kernel import clock, refusals
from chalicelib.kernel.actor import SENIOR_SUPPORT, Actor
from chalicelib.kernel.context import Context

REPORTS = ("cases", "satisfaction", "self-service", "agents")
TITLES = {"cases": "工单与 SLA", "satisfaction": "用户满意度", "self-service": "自助服务与知识库",
          "agents": "客服个人数据"}
DEFAULT_DAYS = 28
MAX_DAYS = 366
RANGES = (7, 28, 90)  # the page's date-range switch
# rollup.py: each 5 minutes are counted once, 2 minutes after they end (SETTLE), by the run at minute 2, 7, 12 …
LAG_NOTE = "数据按 5 分钟统计，在这 5 分钟结束 2 分钟后计入：最新的记录约 2–7 分钟后出现在报表中。"
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2099, 12, 31)
KB_CATEGORIES = {"contact": "联系我们", "repayment": "还款", "security": "账户安全", "escalation": "投诉与升级",
                 "about": "关于钱包"}


def require_senior(actor: Actor) -> None:
    if not actor.has_role(SENIOR_SUPPORT):
        raise refusals.NotAllowed("报表仅限高级客服（senior-support）查看。", code="forbidden_role")


def _filters(ctx: Context, name: str, query: schemas.ReportQuery) -> metrics.Filters:
    if name not in REPORTS:
        raise refusals.Missing(f"没有这个报表，可选：{'、'.join(REPORTS)}。", code="report_not_found")
    today = ctx.now.astimezone(clock.zone(ctx.settings.time_zone)).date()
    last = query.to or today
    for value, field in ((query.from_, "from"), (last, "to")):
        if value is not None and not EARLIEST <= value <= LATEST:
            raise refusals.Invalid(f"日期应在 {EARLIEST} 到 {LATEST} 之间。", code="invalid_date", field=field)
    first = query.from_ or last - dt.timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise refusals.Invalid("开始日期不能晚于结束日期。", code="invalid_range", field="from")
    if (last - first).days + 1 > MAX_DAYS:
        raise refusals.Invalid(f"日期范围最多 {MAX_DAYS} 天。", code="range_too_long", field="from")
    categories = KB_CATEGORIES if name == "self-service" else escalation.CATEGORY_TITLES
    if query.category is not None and query.category not in categories:
        raise refusals.Invalid(f"没有这个类别，可选：{'、'.join(categories)}。", code="unknown_category",
                               field="category")
    if query.step is not None and query.step not in escalation.STEP_NAMES:
        raise refusals.Invalid(f"没有这个步骤，可选：{'、'.join(escalation.STEP_NAMES)}。", code="unknown_step",
                               field="step")
    return metrics.Filters(first, last, query.category, query.step)


def _oldest(ctx: Context, f: metrics.Filters, limit: int = 20) -> list[list]:
    rows = []
    for case in escalation.oldest_open(limit=200):
        if not f.match(case.category, case.step):
            continue
        age = (ctx.now - clock.parse(case.created_at)).total_seconds() / 3600
        rows.append([case.case_id, case.category, case.priority, case.step, case.status, case.created_at,
                     round(age, 1)])
        if len(rows) >= limit:
            break
    return rows


def _articles_meta() -> dict[str, dict]:
    """slug → title and KB category, from the search index (empty if it cannot be opened)."""
    try:
        from chalicelib.search import service as search_service  # cold start: only the self-service report
        kb = search_service.kb_index()
        categories = [c.id for c in search_service.categories().categories]
    except Exception:  # the report still answers, without titles
        return {}
    meta = {}
    for category in categories:
        for docnum in kb.category_docs(category):
            doc = kb.stored(docnum)
            meta[doc["slug"]] = {"title": doc["title"], "category": doc["category"]}
    return meta


def _publish_marks(ctx: Context, slug: str) -> dict[str, str]:
    """Local day → what happened to the article that day ("发布第 2 版", "下线"…), from the content facade."""
    from chalicelib.content import service as content  # on first use: only a report naming an article asks
    words = {"import": "导入第 {} 版", "publish": "发布第 {} 版", "rollback": "回滚到第 {} 版", "unpublish": "下线"}
    zone = clock.zone(ctx.settings.time_zone)
    marks: dict[str, str] = {}
    for at, action, version in content.publish_history(slug):
        day = clock.parse(at).astimezone(zone).date().isoformat()
        said = words.get(action, action).format(version)
        marks[day] = f"{marks[day]}、{said}" if day in marks else said
    return marks


def tables(ctx: Context, name: str, f: metrics.Filters,
           article: str | None = None) -> tuple[list[metrics.Table], list[str]]:
    first, last = f.first.isoformat(), f.last.isoformat()
    hours = rollup.summaries(first, last)
    if name == "cases":
        return metrics.cases_report(hours, f, _oldest(ctx, f)), [
            "时长按工单的计时方式：工作时间（工作日 09:00–18:00），账户安全工单全天候；等待用户回复的时间不计。",
            present.sla_note(), LAG_NOTE]
    if name == "agents":
        return [_agents_table(hours)], [
            "首次答复、解决按工单的计时方式（工作时间）取平均；满意率 = 4–5 分占比，重新打开率 = 重新打开 ÷ 解决，"
            "均计入当时处理（解决）的客服；当前处理中 = 现在分配给该客服的未结工单。不按类别、步骤筛选。", LAG_NOTE]
    if name == "satisfaction":
        notes = ("满意率 = 4–5 分评价占全部评价的比例；按评价时工单所在步骤统计。", present.csat_note(), LAG_NOTE)
        return metrics.satisfaction_report(hours, f), [note for note in notes if note]
    final = (ctx.now.astimezone(clock.zone(ctx.settings.time_zone)).date() - dt.timedelta(days=2)).isoformat()
    deflection = events.rollups("D", first, min(last, final)) if first <= final else []
    meta = _articles_meta()
    found = metrics.self_service_report(hours, deflection, f, meta)
    if article:
        found.append(metrics.article_days(deflection, f, article, meta.get(article, {}).get("title", ""),
                                          _publish_marks(ctx, article)))
    return found, [
        f"分流率只统计已登录用户，且只含 {final} 及以前的日子（需要其后 24 小时的数据）。",
        "热门搜索按每 5 分钟搜索最多的 300 条累计（近似）；含手机号、卡号等个人信息的搜索不保存内容。", LAG_NOTE]


def _agents_table(hours: list[tuple[str, dict]]) -> metrics.Table:
    load: dict[str, int] = {}
    for case in escalation.oldest_open(limit=500):   # the open_age index, as the cases report's oldest list
        if case.assignee:
            load[case.assignee] = load.get(case.assignee, 0) + 1
    return metrics.Table("agents", "客服个人数据", list(agents.COLUMNS),
                         agents.rows([summary for _, summary in hours], load),
                         chart={"label": "agent", "values": ["first_response_mean", "resolution_mean"], "kind": "hbar"})


def report(actor: Actor, ctx: Context, name: str, query: schemas.ReportQuery) -> schemas.Report:
    require_senior(actor)
    f = _filters(ctx, name, query)
    found, notes = tables(ctx, name, f, query.article)
    return _model(ctx, name, f, found, notes)


def _model(ctx, name, f, found, notes) -> schemas.Report:
    return schemas.Report.model_validate({
        "report": name, "from": f.first.isoformat(), "to": f.last.isoformat(), "category": f.category,
        "step": f.step, "generated_at": clock.isoformat(ctx.now), "notes": notes,
        "tables": [{"name": t.name, "title": t.title, "columns": [{"key": k, "title": v} for k, v in t.columns],
                    "rows": t.rows} for t in found]})


def csv_download(actor: Actor, ctx: Context, name: str, query: schemas.ReportQuery) -> tuple[str, str]:
    """(file name, CSV text with a BOM so spreadsheet programs read the Chinese, formulas defused) of one table."""
    built = report(actor, ctx, name, query)
    wanted = query.table or built.tables[0].name
    table = next((t for t in built.tables if t.name == wanted), None)
    if table is None:
        raise refusals.Invalid(f"没有这个表，可选：{'、'.join(t.name for t in built.tables)}。", code="unknown_table",
                             field="table")
    # every text cell escaped against formula injection (a user's comment, a searched phrase):
    # chalicelib/edge/csv_export.py
    return (f"{name}-{table.name}-{built.from_}-{built.to}.csv",
            csv_export.text([c.key for c in table.columns], table.rows))


def requested(actor: Actor, ctx: Context, name: str, query: schemas.ReportQuery) -> schemas.Report | tuple[str, str]:
    """What ``GET /support/reports/{name}`` asked for: one table as a CSV file (``?format=csv``, ``csv_download``'s
    ``(file name, text)``), else the whole report."""
    return csv_download(actor, ctx, name, query) if query.format == "csv" else report(actor, ctx, name, query)


def page(actor: Actor, ctx: Context, name: str, query: schemas.ReportQuery, *, ws=None) -> str:
    """The reports page (``/agent/reports``): the report's tables, each with its chart, the date-range
    switch, the filters and the CSV links."""
    require_senior(actor)
    f = _filters(ctx, name, query)
    found, notes = tables(ctx, name, f, query.article)
    today = ctx.now.astimezone(clock.zone(ctx.settings.time_zone)).date()
    base = {k: v for k, v in (("category", f.category), ("step", f.step), ("article", query.article)) if v}

    def link(**params) -> str:
        merged = {"report": name, **base, "from": f.first.isoformat(), "to": f.last.isoformat(), **params}
        return "/agent/reports?" + urlencode({k: v for k, v in merged.items() if v})

    ranges = [{"days": d, "url": link(**{"from": (today - dt.timedelta(days=d - 1)).isoformat(),
                                         "to": today.isoformat()}),
               "current": f.last == today and (f.last - f.first).days + 1 == d} for d in RANGES]
    zone = ctx.settings.time_zone
    shown = [{"table": t, "view": present.view(t, zone), "chart": charts.render(present.for_chart(t)),
              "csv": link(format="csv", table=t.name)} for t in found]
    categories = KB_CATEGORIES if name == "self-service" else escalation.CATEGORY_TITLES
    others = [(r, TITLES[r], link(report=r, article=None) if r != name else None) for r in REPORTS]
    return render("insight/reports.html", report=name, reports=others,
                  title=TITLES[name], first=f.first.isoformat(), last=f.last.isoformat(), ranges=ranges,
                  tables=shown, notes=notes, categories=categories, category=f.category, step=f.step,
                  steps=[(s.name, s.title) for s in escalation.STEPS], show_step=name != "self-service",
                  generated_at=present.local_time(clock.isoformat(ctx.now), zone), door="agent", ws=ws)
