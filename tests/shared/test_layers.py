"""The shape of the whole tree (#22), read from the source (nothing is imported): no import circle between
chalicelib's modules, AWS only in the adapters and the stores, a domain reaches another only through what that
domain publishes, and no module grows past ~400 lines. Each check names the offending files."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 425   # "~400": a module longer than this is split by what it does
# Every use of another library's private internals stays in this one file, version-checked (the house rule),
# so it is not split by library.
ONE_FILE_BY_RULE = {"chalicelib/private_hooks.py"}

# What each domain publishes to the others: its facade for behaviour, and the vocabulary other domains may
# speak (repay's payees, amounts and fee rules are what a saved bill is made of; the contacts directory is
# read-only data the help centre shows).
PUBLISHED = {
    "repay": {"service", "model", "schemas", "fees"},
    "bills": {"service"},
    "escalation": {"service"},
    # build: the kb/*.md format content imports and exports; analyzer: the terms the assistant classifier uses
    "search": {"service", "schemas", "contacts", "build", "analyzer"},
    "insight": {"service"},
    "notices": {""},            # a package: its __init__ is the facade
    "helpcentre": {"pages"},
    "status": {"service", "schemas"},   # service notices: the facade, and the public view a quote carries
    "editions": {"service"},    # contacts and quick replies as published in the workspace (what readers follow)
    "content": {"service", "schemas"},
    "assistant": {"service", "registry", "model"},   # the facade; where providers and actions plug in (#24)
}

# Talking to AWS is the adapters' job and the stores'. Known exceptions, each with its reason:
AWS_ALLOWED = {
    "chalicelib/web/cognito.py",       # the Cognito adapter of the sign-in doors
}


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / "chalicelib").rglob("*.py")):
        if "index" in path.relative_to(ROOT).parts:
            continue
        rel = path.relative_to(ROOT).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        found[".".join(parts)] = path
    return found


def imports(path: Path, *, top_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_import_circle_between_modules():
    mods = modules()
    graph = {name: {dep for dep in imports(path, top_level_only=True) if dep in mods and dep != name}
             for name, path in mods.items()}
    circles, done = [], set()

    def visit(name, trail):
        if name in trail:
            circles.append(" → ".join([*trail[trail.index(name):], name]))
            return
        if name in done:
            return
        for dep in sorted(graph[name]):
            visit(dep, [*trail, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
    assert not circles, "import circles:\n" + "\n".join(circles)


def test_aws_only_in_adapters_and_stores():
    offenders = []
    for path in [ROOT / "app.py", *modules().values()]:
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("chalicelib/adapters/") or "store" in path.name or rel in AWS_ALLOWED:
            continue
        if any(name == "chalicelib.adapters.aws" for name in imports(path, top_level_only=False)):
            offenders.append(rel)
    assert not offenders, "import chalicelib.adapters.aws outside the adapters and stores:\n" + "\n".join(offenders)


def test_a_domain_reaches_another_only_through_what_it_publishes():
    offenders = []
    for domain in PUBLISHED:
        for path in sorted((ROOT / "chalicelib" / domain).rglob("*.py")):
            if "index" in path.relative_to(ROOT).parts:
                continue
            for name in imports(path, top_level_only=False):
                parts = name.split(".")
                if parts[0] != "chalicelib" or len(parts) < 2 or parts[1] not in PUBLISHED or parts[1] == domain:
                    continue
                module = parts[2] if len(parts) > 2 else ""
                if module not in PUBLISHED[parts[1]] and f"chalicelib.{parts[1]}.{module}" in modules():
                    offenders.append(f"{path.relative_to(ROOT)} → {name}")
    assert not offenders, "a domain reaching inside another:\n" + "\n".join(offenders)


def test_no_module_grows_past_about_400_lines():
    long = [f"{path.relative_to(ROOT)}: {n}" for path in [ROOT / "app.py", *modules().values()]
            if path.relative_to(ROOT).as_posix() not in ONE_FILE_BY_RULE
            and (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES]
    assert not long, f"modules over {MAX_LINES} lines:\n" + "\n".join(long)
