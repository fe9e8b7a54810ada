"""Text colours of the pages pass WCAG AA (4.5:1) on every background they are used on (issue #20, part 8).

Reads the colour variables from the base templates themselves, so changing a colour there is checked here
(the browser tests' axe-core run checks the rendered pages as well). Print the table of ratios:
``.venv/bin/python -m tests.web.test_colour_contrast``.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASES = ("templates/help/base.html", "templates/web/base.html")
AA = 4.5

# (text, background, where) — variables by name, literals as written in the templates.
PAIRS = (
    ("--brand", "#fff", "links on cards"),
    ("--brand", "--bg", "links on the page background"),
    ("--brand", "#eef4ff", "links on tinted boxes (rating choice)"),
    ("--brand", "--ok-bg", "links in a success notice (did-you-mean, confirmations)"),
    ("--brand", "--warn-bg", "links in a warning notice (new activity)"),
    ("#fff", "--brand", "header text, the call button, the selected chip"),
    ("#fff", "--brand-dark", "button text"),
    ("--brand-dark", "#eef4ff", "category chips"),
    ("--muted", "#fff", "secondary text on cards"),
    ("--muted", "--bg", "secondary text on the page background"),
    ("--ink", "--bg", "body text"),
    ("--warn", "--warn-bg", "warning notices"),
    ("--ok", "--ok-bg", "success notices"),
    ("#cf1322", "#fff1f0", "the urgent call link"),
    ("#fff", "#1f2a44", "the agent workspace header"),
)


def _variables(path: str) -> dict[str, str]:
    text = (ROOT / path).read_text(encoding="utf-8")
    root = re.search(r":root\s*\{(.*?)\}", text, re.S).group(1)
    return dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{3,6})", root))


def _luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two sRGB colours."""
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _rows(base: str):
    variables = _variables(base)
    for text, background, where in PAIRS:
        if any(colour.startswith("--") and colour not in variables for colour in (text, background)):
            continue   # this base does not define it (e.g. --late only in web/base.html)
        yield where, variables.get(text, text), variables.get(background, background)


def test_the_formula_matches_wcags_reference_values():
    assert ratio("#000", "#fff") == pytest.approx(21.0)
    assert ratio("#777", "#fff") == pytest.approx(4.48, abs=0.01)   # the classic just-fails grey
    assert ratio("#1677ff", "#fff") < AA                             # the old brand blue (issue #20)


@pytest.mark.parametrize("base", BASES)
def test_every_text_colour_passes_aa_on_its_backgrounds(base):
    failing = [(where, fg, bg, round(ratio(fg, bg), 2)) for where, fg, bg in _rows(base) if ratio(fg, bg) < AA]
    assert failing == []
    assert len(list(_rows(base))) >= 12   # the pairs were found, not skipped


if __name__ == "__main__":
    for base in BASES:
        print(base)
        for where, fg, bg in _rows(base):
            print(f"  {ratio(fg, bg):5.2f}:1  {fg} on {bg}  {where}")
