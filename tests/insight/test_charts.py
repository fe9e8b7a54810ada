"""The reports' charts and how the page words a table: percentage axes to 100 %, target lines, labels in words."""
from __future__ import annotations

import re

from chalicelib.insight import charts, present
from chalicelib.insight.metrics import Table


def _weekly(csat_values, target=0.85):
    return Table("weekly", "每周满意率（CSAT）", [("week", "周（周一）"), ("ratings", "评价数"), ("csat", "满意率")],
                 [[f"2026-11-{16 + 7 * i:02d}", 10, v] for i, v in enumerate(csat_values)],
                 chart={"label": "week", "values": ["csat"], "kind": "bar", "unit": "%", "target": target})


def _axis_top(svg: str) -> str:
    return re.search(r'<text x="0" y="34" font-size="12">([^<]+)</text>', svg).group(1)


def test_a_percentage_axis_runs_to_100_and_the_csat_target_is_a_dashed_line():
    svg = str(charts.render(_weekly([0.93, 0.81])))
    assert _axis_top(svg) == "100%"                      # not the best week's 93 %
    target = re.search(r'<g class="target" data-target="0.85"><title>目标 85%</title><line [^>]*y1="([\d.]+)"', svg)
    assert target, svg
    # 85 % of the plot's height above the base line (y 170 … 30)
    assert abs(float(target.group(1)) - (170 - 0.85 * 140)) < 0.2
    bars = [float(h) for h in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"', svg)]
    assert abs(bars[0] - 0.93 * 140) < 0.2 and abs(bars[1] - 0.81 * 140) < 0.2


def test_without_a_configured_target_no_line_is_drawn():
    svg = str(charts.render(_weekly([0.5], target=None)))
    assert 'class="target"' not in svg and _axis_top(svg) == "100%"


def test_horizontal_bars_of_shares_scale_to_100_and_mark_the_target():
    t = Table("by_step", "按到达的步骤", [("title", "名称"), ("csat", "满意率")],
              [["一线客服", 0.5], ["高级客服", 1.0]],
              chart={"label": "title", "values": ["csat"], "kind": "hbar", "unit": "%", "target": 0.85})
    svg = str(charts.render(t))
    widths = [float(w) for w in re.findall(r'<rect x="0" y="\d+" width="([\d.]+)"', svg)]
    assert widths == [150.0, 300.0]                       # half and all of the 300 px span
    assert re.search(r'data-target="0.85"><title>目标 85%</title><line x1="255.0"', svg)


def test_each_priority_gets_a_tick_at_its_own_target_and_the_scale_reaches_it():
    t = Table("response_times", "用时", [("priority", "优先级"), ("median", "中位数"), ("target", "目标")],
              [["P1", 30, 60], ["P2", 500, 240]],
              chart={"label": "priority", "values": ["median"], "kind": "hbar", "unit": "分钟",
                     "targets": {"median": "target"}})
    svg = str(charts.render(t))
    ticks = re.findall(r'<g class="target" data-target="(\d+)"><title>([^<]+)</title><line x1="([\d.]+)"', svg)
    assert [(v, float(x)) for v, _, x in ticks] == [("60", 36.0), ("240", 144.0)]   # 500 minutes: the full span
    assert ticks[1][1] == "P2 中位数 目标: 240" and "目标</text>" in svg            # legend names the ticks


def test_the_page_words_every_code_in_staff_language_and_local_time():
    t = Table("oldest_open", "最久未结的工单", [("case_id", "工单编号"), ("category", "类别"), ("priority", "优先级"),
                                                ("step", "步骤"), ("status", "状态"), ("created_at", "创建时间")],
              [["RD-20261209-7Q3K", "other", "P3", "public_feedback", "waiting_user", "2026-12-08T23:30:00.000Z"]])
    view = present.view(t, "Asia/Shanghai")
    cells = view["rows"][0]
    assert [c["text"] for c in cells] == ["RD-20261209-7Q3K", "其他问题", "P3 普通", "公开反馈渠道",
                                         "等待用户回复（计时暂停）", "2026-12-09 07:30"]
    assert cells[0]["href"] == "/agent/cases/RD-20261209-7Q3K" and all(c["href"] is None for c in cells[1:])


def test_a_code_column_is_left_off_when_its_name_is_there_and_article_titles_link_to_the_article():
    t = Table("articles", "文章", [("slug", "文章"), ("title", "标题"), ("views", "阅读"), ("deflection", "分流率")],
              [["find-hotline", "官方客服电话", 3, 0.667], ["gone", "", 1, None]])
    view = present.view(t, "Asia/Shanghai")
    assert [k for k, _ in view["columns"]] == ["title", "views", "deflection"]
    first = view["rows"][0]
    assert (first[0]["text"], first[0]["href"], first[2]["text"]) == (
        "官方客服电话", "/help/articles/find-hotline", "66.7%")
    assert view["rows"][1][2]["text"] == "–"
