"""Charts as inline SVG, drawn on the server from a report table (no script, no CDN, no font file).

Two shapes cover every report: vertical bars over days/weeks (up to two series side by side) and
horizontal bars per category/step/article (labels above their bars, so long Chinese titles fit a
375 px screen). The SVG scales to its container (``viewBox``, ``width=100%``); every chart's page
shows the same numbers in a table beside it, and the SVG carries a ``<title>`` for screen readers.

Targets: a chart spec may name ``target`` (one value for every row, e.g. the CSAT target: a dashed line
across the chart) or ``targets`` (per series, the column holding each row's own target, e.g. each
priority's first-response target: a dashed tick across that row's bar). The scale always reaches the
targets, and a percentage axis (``unit: "%"``) always runs from 0 to 100 %.
"""
from __future__ import annotations

from markupsafe import Markup, escape

COLOURS = ("#1f6feb", "#c2610f")   # blue and a dark orange: both ≥ 3:1 against white (graphics, WCAG 1.4.11)
TARGET = "#1f2329"                 # target lines: the page's ink, dashed
WIDTH = 360  # about a phone's width: text stays ~1:1 at 375 px (pages cap charts at 560 px)


def _number(value) -> float:
    return float(value) if isinstance(value, (int, float)) else 0.0


def _label(value, unit: str | None) -> str:
    if value is None:
        return "–"
    if unit == "%":
        return f"{round(value * 100)}%"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def render(table) -> Markup | None:
    """The chart a table declares (``table.chart``), or None when it has none or nothing to show."""
    spec = table.chart
    if not spec or not table.rows:
        return None
    keys = [key for key, _ in table.columns]
    titles = dict(table.columns)
    label_at = keys.index(spec["label"])
    series = [(keys.index(k), titles[k]) for k in spec["values"]]
    rows = [(row[label_at], [row[i] for i, _ in series]) for row in table.rows]
    if not any(_number(v) for _, values in rows for v in values) and not spec.get("marks"):
        return None
    per_row = spec.get("targets") or {}
    target_at = [keys.index(per_row[k]) if k in per_row else None for k in spec["values"]]
    row_targets = [[row[i] if i is not None else None for i in target_at] for row in table.rows]
    if spec.get("kind") == "hbar":
        return _hbars(table.title, rows, [t for _, t in series], spec.get("unit"), target=spec.get("target"),
                      row_targets=row_targets if per_row else None)
    marks = [row[keys.index(spec["marks"])] for row in table.rows] if spec.get("marks") else None
    return _bars(table.title, rows, [t for _, t in series], spec.get("unit"), target=spec.get("target"), marks=marks)


def _top(rows, unit: str | None, target, row_targets) -> float:
    if unit == "%":
        return 1.0   # shares: the axis runs to 100 % (a 93 % week is not a full bar)
    values = [_number(v) for _, values in rows for v in values]
    values += [_number(target)] + [_number(t) for ts in (row_targets or []) for t in ts]
    return max(values) or 1


def _legend(names: list[str], y: int, with_target: bool = False) -> str:
    parts, x = [], 0
    for colour, name in zip(COLOURS, names, strict=False):  # one colour per series; the palette may be longer
        parts.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{x + 16}" y="{y}" font-size="13">{escape(name)}</text>')
        x += 28 + 13 * len(name)
    if with_target:
        parts.append(f'<line x1="{x}" y1="{y - 4}" x2="{x + 14}" y2="{y - 4}" stroke="{TARGET}" stroke-width="2" '
                     f'stroke-dasharray="4 2"/><text x="{x + 18}" y="{y}" font-size="13">目标</text>')
    return "".join(parts)


def _bars(title: str, rows, names: list[str], unit: str | None, *, target=None, marks=None) -> Markup:
    top = _top(rows, unit, target, None)
    height, base, left = 200, 170, 34
    slot = (WIDTH - left) / len(rows)
    width = max(1.0, slot * 0.8 / len(names))
    parts = [f'<line x1="{left}" y1="{base}" x2="{WIDTH}" y2="{base}" stroke="#8f959e"/>',
             f'<text x="0" y="{30 + 4}" font-size="12">{escape(_label(top, unit))}</text>',
             f'<line x1="{left}" y1="30" x2="{WIDTH}" y2="30" stroke="#e5e6eb"/>',
             f'<text x="0" y="{base}" font-size="12">{escape(_label(0, unit) if unit == "%" else "0")}</text>']
    every = max(1, round(len(rows) / 5))  # about five labels, whatever the range
    for i, (label, values) in enumerate(rows):
        x0 = left + i * slot + slot * 0.1
        for j, value in enumerate(values):
            h = (_number(value) / top) * (base - 30)
            parts.append(f'<rect x="{x0 + j * width:.1f}" y="{base - h:.1f}" width="{width:.1f}" height="{h:.1f}" '
                         f'fill="{COLOURS[j]}"><title>{escape(label)} {escape(names[j])}: '
                         f'{escape(_label(value, unit))}</title></rect>')
        if i % every == 0:
            short = str(label)[5:] if len(str(label)) == 10 else str(label)  # 2026-11-24 → 11-24
            parts.append(f'<text x="{x0:.1f}" y="{base + 16}" font-size="12">{escape(short)}</text>')
    if target is not None:
        y = base - (_number(target) / top) * (base - 30)
        text = f"目标 {_label(target, unit)}"
        parts.append(f'<g class="target" data-target="{target}"><title>{escape(text)}</title>'
                     f'<line x1="{left}" y1="{y:.1f}" x2="{WIDTH}" y2="{y:.1f}" stroke="{TARGET}" stroke-width="1.5" '
                     f'stroke-dasharray="5 3"/><text x="{WIDTH}" y="{y - 4:.1f}" font-size="12" '
                     f'text-anchor="end">{escape(text)}</text></g>')
    for i, mark in enumerate(marks or []):
        if mark:   # an event on that day (a publish): a dashed vertical line through the day's slot
            x = left + (i + 0.5) * slot
            text = f"{rows[i][0]} {mark}"
            parts.append(f'<g class="mark" data-day="{escape(rows[i][0])}"><title>{escape(text)}</title>'
                         f'<line x1="{x:.1f}" y1="24" x2="{x:.1f}" y2="{base}" stroke="{TARGET}" stroke-width="1.5" '
                         f'stroke-dasharray="4 3"/><text x="{x + 3:.1f}" y="22" font-size="11">'
                         f'{escape(str(mark)[:8])}</text></g>')
    parts.append(_legend(names, height + 12))
    return Markup(f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height + 20}" width="100%" '
                  f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{"".join(parts)}</svg>')


def _hbars(title: str, rows, names: list[str], unit: str | None, *, target=None, row_targets=None) -> Markup:
    rows = rows[:12]
    row_targets = (row_targets or [])[:12]
    top = _top(rows, unit, target, row_targets)
    span = WIDTH - 60
    head = 18 if target is not None else 0   # room for the target's label above the first row
    band = 22 + 16 * len(names)
    with_ticks = any(t is not None for ts in row_targets for t in ts)
    legend = len(names) > 1 or with_ticks
    height = head + band * len(rows) + (24 if legend else 4)
    parts = []
    for i, (label, values) in enumerate(rows):
        y = head + i * band
        parts.append(f'<text x="0" y="{y + 14}" font-size="14">{escape(str(label)[:22])}</text>')
        for j, value in enumerate(values):
            w = (_number(value) / top) * span
            yy = y + 20 + j * 16
            goal = row_targets[i][j] if i < len(row_targets) else None
            x = (_number(goal) / top) * span if goal is not None else None
            # the value's label after the bar, or after its target's line when that is close by (never across it)
            line = x if x is not None else (_number(target) / top) * span if target is not None else None
            at = line + 6 if line is not None and w - 4 <= line <= w + 40 else w + 6
            parts.append(f'<rect x="0" y="{yy}" width="{w:.1f}" height="12" fill="{COLOURS[j]}">'
                         f'<title>{escape(label)} {escape(names[j])}: {escape(_label(value, unit))}</title></rect>'
                         f'<text x="{at:.1f}" y="{yy + 11}" font-size="13">{escape(_label(value, unit))}</text>')
            if goal is not None:
                parts.append(f'<g class="target" data-target="{goal}"><title>{escape(label)} {escape(names[j])}'
                             f' 目标: {escape(_label(goal, unit))}</title><line x1="{x:.1f}" y1="{yy - 3}" '
                             f'x2="{x:.1f}" y2="{yy + 15}" stroke="{TARGET}" stroke-width="2" '
                             f'stroke-dasharray="3 2"/></g>')
    if target is not None:
        x = (_number(target) / top) * span
        text = f"目标 {_label(target, unit)}"
        parts.append(f'<g class="target" data-target="{target}"><title>{escape(text)}</title>'
                     f'<line x1="{x:.1f}" y1="{head - 2}" x2="{x:.1f}" y2="{head + band * len(rows)}" '
                     f'stroke="{TARGET}" stroke-width="1.5" stroke-dasharray="5 3"/>'
                     f'<text x="{x:.1f}" y="12" font-size="12" text-anchor="end">{escape(text)}</text></g>')
    if legend:
        parts.append(_legend(names, height - 4, with_target=with_ticks))
    return Markup(f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="100%" '
                  f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{"".join(parts)}</svg>')
