"""The manuals name only what exists: every repository path, link, picture, ``make`` target and
``chalicelib.…`` module (or name in one) written in README.md and docs/*.md is checked against the tree.

A newcomer follows these names; after a reorganisation (issue #22 moved modules into
chalicelib/kernel, adapters and edge) a stale one sends them to a file that is not there.
"""
from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MANUALS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Top-level folders whose paths the manuals name; a path is read from the repository's root.
FOLDERS = ("chalicelib", "templates", "benchmarks", "tests", "devtools", "infra", "kb", "docs", ".chalice")

PATH = re.compile(r"(?<![\w./@:-])((?:" + "|".join(re.escape(f) for f in FOLDERS) + r")/[\w./*{},<>\-]*)")
LINK = re.compile(r"\]\(([^)\s]+)\)|\bsrc=\"([^\"]+)\"")
CODE_BLOCK = re.compile(r"```.*?```", re.DOTALL)
CODE = re.compile(r"```.*?```|`[^`\n]+`", re.DOTALL)  # commands are written as code, not in prose
MAKE = re.compile(r"\bmake (?:-[sq] )*([a-z][\w-]*)")
MODULE = re.compile(r"(?<![\w./])(chalicelib(?:\.\w+)+)")


def manual_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def expand_braces(text: str) -> list[str]:
    """`chalicelib/{a,b}.py` → both; nested braces are not used in the manuals."""
    parts = re.split(r"\{([^{}]*)\}", text)
    choices = [[p] if i % 2 == 0 else p.split(",") for i, p in enumerate(parts)]
    return ["".join(pick) for pick in itertools.product(*choices)]


def exists(relative: str) -> bool:
    relative = relative.rstrip(".,;")
    if any(ch in relative for ch in "*?"):
        return any(ROOT.glob(relative))
    return (ROOT / relative).exists()


def named_paths(text: str) -> set[str]:
    found = set()
    for match in PATH.finditer(text):
        raw = match.group(1).rstrip(".,;:")
        if "<" in raw:
            continue
        found.update(expand_braces(raw))
    return found


def test_every_named_path_exists():
    missing = []
    for manual in MANUALS:
        for relative in sorted(named_paths(manual_text(manual))):
            if not exists(relative):
                missing.append(f"{manual.name}: {relative}")
    assert not missing, "paths named in the manuals that are not in the tree:\n" + "\n".join(missing)


def anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives a file's headings: lower case, punctuation out (CJK kept), spaces → '-'."""
    headings = [line.lstrip("#").strip() for line in CODE_BLOCK.sub("", markdown).splitlines()
                if re.match(r"#{1,6} ", line)]
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_every_link_and_picture_resolves():
    missing = []
    for manual in MANUALS:
        for match in LINK.finditer(manual_text(manual)):
            target, _, anchor = (match.group(1) or match.group(2)).partition("#")
            if re.match(r"[a-z]+:", target) or target.startswith("/"):
                continue  # a web address, or a path on the running service
            linked = (manual.parent / target) if target else manual
            if not linked.exists():
                missing.append(f"{manual.name}: {target}")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(manual_text(linked)):
                missing.append(f"{manual.name}: {target}#{anchor} (no such heading)")
    assert not missing, "links and pictures that resolve to nothing:\n" + "\n".join(missing)


def make_targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    return {name for line in makefile.splitlines()
            if (m := re.match(r"^([\w./ -]+):(?!=)", line)) for name in m.group(1).split()}


def test_every_make_target_named_exists():
    targets = make_targets()
    assert {"serve", "test", "index", "package"} <= targets, "the Makefile reader missed the main targets"
    missing = [f"{manual.name}: make {name}" for manual in MANUALS
               for name in sorted({t for code in CODE.findall(manual_text(manual)) for t in MAKE.findall(code)})
               if name not in targets]
    assert not missing, "make targets named in the manuals that the Makefile lacks:\n" + "\n".join(missing)


def module_file(dotted: str) -> tuple[Path | None, list[str]]:
    """The longest prefix of `chalicelib.a.b.name` that is a module or package, and what follows it."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:cut])
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate, parts[cut:]
    return None, parts


def defines(source: str, name: str) -> bool:
    return re.search(rf"^\s*(?:async\s+)?(?:def|class)\s+{re.escape(name)}\b|^{re.escape(name)}\s*[:=]"
                     rf"|^\s*(?:from\s+\S+\s+)?import\s+.*\b{re.escape(name)}\b", source, re.MULTILINE) is not None


def test_every_named_module_and_name_exists():
    missing = []
    for manual in MANUALS:
        for dotted in sorted(set(MODULE.findall(manual_text(manual)))):
            path, rest = module_file(dotted)
            if path is None:
                missing.append(f"{manual.name}: {dotted} (no such module)")
            elif rest and not defines(path.read_text(encoding="utf-8"), rest[0]):
                missing.append(f"{manual.name}: {dotted} ({rest[0]} is not defined in {path.relative_to(ROOT)})")
    assert not missing, "modules and names in the manuals that the code lacks:\n" + "\n".join(missing)


def test_the_readme_is_read_in_ten_minutes():
    lines = manual_text(ROOT / "README.md").count("\n")
    assert lines <= 300, f"README.md has {lines} lines; the per-area manuals live in docs/"


def test_anchor_reader():
    assert anchors("# Repayments\n## The help door: header, 「我的还款」, receipt check\n```\n# a comment\n```\n") == {
        "repayments", "the-help-door-header-我的还款-receipt-check"}


@pytest.mark.parametrize("text, expected", [
    ("see `chalicelib/{kernel,edge}/clock.py`.", {"chalicelib/kernel/clock.py", "chalicelib/edge/clock.py"}),
    ("`tests/web/test_x.py::test_y` and devtools/package.py:add_bytecode,",
     {"tests/web/test_x.py", "devtools/package.py"}),
    ("s3://b/kb/learned.json, cases/<ref>/x, chalicelib/<domain>/store.py", set()),
])
def test_path_reader(text, expected):
    assert {p.split("::")[0].split(":")[0] for p in named_paths(text)} == expected
