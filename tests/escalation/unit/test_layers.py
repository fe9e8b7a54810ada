"""The escalation and insight packages keep the shape #22 asks for, read from their source (no import runs):
no import circle, another domain reached only through its facade, AWS only in the stores, no module over
~400 lines, no function-level import unless it says why (cold start, or a type annotation)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("escalation", "insight")
STORES = {"chalicelib/escalation/store.py", "chalicelib/escalation/incident_store.py",   # DynamoDB
          "chalicelib/escalation/agent_store.py", "chalicelib/escalation/search_store.py",   # DynamoDB
          "chalicelib/escalation/quarantine_store.py",                                          # DynamoDB
          "chalicelib/escalation/attachment_store.py", "chalicelib/escalation/inbound_store.py"}   # S3
FACADES = {"repay": "chalicelib.repay.service", "search": "chalicelib.search.service",
           "escalation": "chalicelib.escalation.service"}


def modules():
    for package in PACKAGES:
        yield from sorted((ROOT / "chalicelib" / package).glob("*.py"))


def imported(node) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module:
        return [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
    return []


def top_level_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        names.update(imported(node))
    return names


def test_no_import_circle_inside_escalation():
    package = ROOT / "chalicelib" / "escalation"
    graph = {p.stem: {n.split(".")[2] for n in top_level_imports(p)
                      if n.startswith("chalicelib.escalation.") and (package / f"{n.split('.')[2]}.py").exists()}
             - {p.stem} for p in package.glob("*.py")}
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"import circle: {' → '.join((*path, name))}"
        if name in done:
            return
        for following in graph.get(name, ()):
            visit(following, (*path, name))
        done.add(name)
    for name in graph:
        visit(name, ())


def test_other_domains_only_through_their_facade():
    wrong = []
    for path in modules():
        own = path.parent.name
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for name in imported(node):
                parts = name.split(".")
                if len(parts) >= 3 and parts[0] == "chalicelib" and parts[1] in FACADES and parts[1] != own \
                        and not name.startswith(FACADES[parts[1]]) and name != f"chalicelib.{parts[1]}":
                    wrong.append(f"{path.relative_to(ROOT)}: {name}")
    assert wrong == []


def test_only_the_stores_import_aws():
    users = {str(p.relative_to(ROOT)) for p in modules()
             for node in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
             if any(n in ("chalicelib.adapters.aws", "chalicelib.adapters.aws.aws") or n.endswith("adapters.aws")
                    for n in imported(node))}
    assert users <= STORES


def test_services_neither_catch_aws_errors_nor_read_condition_names():
    for path in modules():
        if str(path.relative_to(ROOT)) in STORES:
            continue
        text = path.read_text(encoding="utf-8")
        assert "ClientError" not in text and '"frozen" in exc' not in text, path.name


def test_no_module_over_400_lines():
    assert {p.name: n for p in modules() if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400} == {}


def test_function_level_imports_say_why():
    unexplained = []
    for path in modules():
        lines = path.read_text(encoding="utf-8").splitlines()
        tree = ast.parse("\n".join(lines))
        for function in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)) and "cold start" not in lines[node.lineno - 1] \
                        and "first use" not in lines[node.lineno - 1] and "imported with" not in lines[node.lineno - 1]:
                    unexplained.append(f"{path.name}:{node.lineno}")
    assert unexplained == []
