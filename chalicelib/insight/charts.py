"""Charts as inline SVG, drawn on the server from a report table (no script, no CDN, no font file).

Two shapes cover every report: vertical bars over days/weeks (up to two series side by side) and
horizontal bars per category/step/article (labels above their bars, so long Chinese titles fit a
375 px screen). The SVG scales to its container (``viewBox``, ``width=100%``); every chart's page
shows the same numbers in a table beside it, and the SVG carries a ``<title>`` for screen readers.
"""
from __future__ import annotations

from markupsafe import Markup, escape

COLOURS = ("#1f6feb", "#e8912d")
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
    if not any(_number(v) for _, values in rows for v in values):
        return None
    draw = _hbars if spec.get("kind") == "hbar" else _bars
    return draw(table.title, rows, [t for _, t in series], spec.get("unit"))


def _legend(names: list[str], y: int) -> str:
    parts, x = [], 0
    for colour, name in zip(COLOURS, names):
        parts.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{x + 16}" y="{y}" font-size="13">{escape(name)}</text>')
        x += 28 + 13 * len(name)
    return "".join(parts)


def _bars(title: str, rows, names: list[str], unit: str | None) -> Markup:
    top = max(_number(v) for _, values in rows for v in values) or 1
    height, base, left = 200, 170, 30
    slot = (WIDTH - left) / len(rows)
    width = max(1.0, slot * 0.8 / len(names))
    parts = [f'<line x1="{left}" y1="{base}" x2="{WIDTH}" y2="{base}" stroke="#999"/>',
             f'<text x="0" y="24" font-size="12">{escape(_label(top, unit))}</text>',
             f'<text x="0" y="{base}" font-size="12">0</text>']
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
    parts.append(_legend(names, height + 12))
    return Markup(f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height + 20}" width="100%" '
                  f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{"".join(parts)}</svg>')


def _hbars(title: str, rows, names: list[str], unit: str | None) -> Markup:
    rows = rows[:12]
    top = max(_number(v) for _, values in rows for v in values) or 1
    band = 22 + 16 * len(names)
    height = band * len(rows) + (24 if len(names) > 1 else 4)
    parts = []
    for i, (label, values) in enumerate(rows):
        y = i * band
        parts.append(f'<text x="0" y="{y + 14}" font-size="14">{escape(str(label)[:22])}</text>')
        for j, value in enumerate(values):
            w = (_number(value) / top) * (WIDTH - 60)
            yy = y + 20 + j * 16
            parts.append(f'<rect x="0" y="{yy}" width="{w:.1f}" height="12" fill="{COLOURS[j]}">'
                         f'<title>{escape(label)} {escape(names[j])}: {escape(_label(value, unit))}</title></rect>'
                         f'<text x="{w + 6:.1f}" y="{yy + 11}" font-size="13">{escape(_label(value, unit))}</text>')
    if len(names) > 1:
        parts.append(_legend(names, height - 4))
    return Markup(f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="100%" '
                  f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{"".join(parts)}</svg>')
