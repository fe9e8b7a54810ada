"""Other libraries' private internals are touched in one module only, for the versions it was written for.

``chalicelib/private_hooks.py`` holds every shortcut through another library's private names
(issue #10 §4). These tests read every production module (``app.py``, ``chalicelib/``,
``devtools/``, ``infra/``) and fail, naming module, line and name, when one outside it reaches
into a library's private name — ``lib._name``, ``from lib._mod import …``, a ``"lib._mod"``
string, or ``self._name`` / an overridden ``_name`` inherited from a library class — and when
the installed version of a library the hooks touch is not the one they were written for.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = {"app", "chalicelib", "devtools", "infra", "tests", "benchmarks"}
HOOKS = "chalicelib/private_hooks.py"

# Every private name private_hooks.py uses: adding or dropping a hook means editing this list
# (and the module's docstring), so the set stays visible in review.
ALLOWED = {
    "pydantic.plugin._loader",  # pydantic: the plugin loader module stood in for
    # Whoosh: SegmentWriter
    "_check_state", "_check_fields", "_added", "_flush_segment", "_close_segment",
    # Whoosh: W3FieldWriter, W3Codec
    "_tindex", "_postfile", "_postwriter", "_blocklimit", "_compression", "_inlinelimit",
    # Whoosh: W3PostingsWriter
    "_ids", "_weights", "_values", "_minlength", "_maxlength", "_maxweight", "_write_block", "_mini_ids",
    "_mini_weights",
    # chalice.local: ChaliceRequestHandler's handler; our own marker set on LocalGateway
    "_generic_handle", "_repaydesk_patched",
}
# Names that are public despite the underscore: the standard library's, namedtuple's methods.
PUBLIC_UNDERSCORE = {"os._exit", "sys._getframe", "_replace", "_asdict", "_fields", "_make"}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def production_modules() -> list[Path]:
    files = [ROOT / "app.py"]
    for folder in ("chalicelib", "devtools", "infra"):
        files += sorted((ROOT / folder).rglob("*.py"))
    return files


def _dotted(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


class _Finder(ast.NodeVisitor):
    """Private names of other libraries one module uses: (line, library, name)."""

    def __init__(self, module: str):
        self.module = module
        self.imported: dict[str, str] = {}  # local name → what it is (dotted), every scope
        self.found: list[tuple[int, str, str]] = []
        self.classes: list[tuple[ast.ClassDef, bool]] = []  # (class, nested in a function)
        self._depth = 0
        self._in_class = 0

    # -- imports
    def visit_Import(self, node):
        for alias in node.names:
            if alias.asname:
                self.imported[alias.asname] = alias.name
            else:
                self.imported[alias.name.split(".")[0]] = alias.name.split(".")[0]
            self._module_path(node, alias.name)

    def visit_ImportFrom(self, node):
        if node.level or not node.module:
            return
        self._module_path(node, node.module)
        for alias in node.names:
            self.imported[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            if _private(alias.name) and node.module.split(".")[0] not in PROJECT:
                self.found.append((node.lineno, node.module.split(".")[0], alias.name))

    def _module_path(self, node, dotted: str):
        root = dotted.split(".")[0]
        if root not in PROJECT and any(_private(part) for part in dotted.split(".")):
            self.found.append((node.lineno, root, dotted))

    # -- lib._name, obj._name
    def visit_Attribute(self, node):
        chain, base = [], node
        while isinstance(base, ast.Attribute):
            chain.append(base.attr)
            base = base.value
        chain.reverse()
        if isinstance(base, ast.Name) and base.id in ("self", "cls"):
            owner = "?"  # outside a class: a function patched onto some class
            if self._in_class:  # self._x: checked against the class's library bases afterwards;
                chain = chain[1:]  # self.x._y: a private name of whatever self.x is
        elif isinstance(base, ast.Name) and base.id in self.imported:
            owner = self.imported[base.id]
        elif isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and base.func.id == "super":
            return self.generic_visit(node)  # checked with the class
        else:
            owner = "?"  # a local object: whatever it is, its private names are not ours to use
        root = owner.split(".")[0]
        if root not in PROJECT:
            for i, part in enumerate(chain):
                if _private(part):
                    dotted = ".".join([getattr(base, "id", "?"), *chain[:i + 1]])
                    if part not in PUBLIC_UNDERSCORE and dotted not in PUBLIC_UNDERSCORE:
                        self.found.append((node.lineno, root, part))
                    break
        self.generic_visit(base)

    def visit_Constant(self, node):
        if isinstance(node.value, str) and re.fullmatch(r"[A-Za-z_][\w.]*\.[A-Za-z_]\w*", node.value):
            parts = node.value.split(".")
            if parts[0] not in PROJECT and any(_private(p) for p in parts[1:]) and importlib.util.find_spec(parts[0]):
                self.found.append((node.lineno, parts[0], node.value))

    # -- classes (their inherited names are checked against the library's source afterwards)
    def visit_FunctionDef(self, node):
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        self.classes.append((node, self._depth > 0))
        self._in_class += 1
        self.generic_visit(node)
        self._in_class -= 1


def _used_private_names(cls_node: ast.ClassDef) -> dict[str, int]:
    """``self._x`` / ``cls._x`` / ``super()._x`` and ``def _x`` inside one class: name → line."""
    names: dict[str, int] = {}
    for node in ast.walk(cls_node):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            owner = node.value
            if (isinstance(owner, ast.Name) and owner.id in ("self", "cls")) or \
                    (isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "super"):
                names.setdefault(node.attr, node.lineno)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _private(node.name):
            names.setdefault(node.name, node.lineno)
    return names


def _library_classes(cls: type) -> list[type]:
    return [base for base in cls.__mro__[1:] if base.__module__.split(".")[0] not in PROJECT | {"builtins"}]


def _inherited_private_names(cls: type, names: dict[str, int]) -> list[tuple[int, str, str]]:
    found = []
    for base in _library_classes(cls):
        try:
            source = inspect.getsource(base)
        except (OSError, TypeError):  # a C class: its private names are not Python attributes
            source = " ".join(vars(base))
        for name, line in names.items():
            if re.search(rf"\b{re.escape(name)}\b", source):
                found.append((line, base.__module__.split(".")[0], name))
    return sorted(set(found))


def private_names(path: Path) -> list[tuple[int, str, str]]:
    finder = _Finder(_dotted(path))
    finder.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    found = list(finder.found)
    module = None
    for cls_node, nested in finder.classes:
        names = _used_private_names(cls_node)
        if not names:
            continue
        if nested:  # defined inside a function (private_hooks' lazily made classes): bases by name
            bases = [finder.imported.get(b.id, "") for b in cls_node.bases if isinstance(b, ast.Name)]
            roots = {b.split(".")[0] for b in bases if b and b.split(".")[0] not in PROJECT}
            found += [(line, root, name) for root in roots for name, line in names.items()]
            continue
        module = module or importlib.import_module(finder.module)
        found += _inherited_private_names(getattr(module, cls_node.name), names)
    return sorted(set(found))


@pytest.fixture(scope="module")
def findings() -> dict[str, list[tuple[int, str, str]]]:
    sys.path.insert(0, str(ROOT))
    return {str(path.relative_to(ROOT)): found for path in production_modules() if (found := private_names(path))}


def test_no_production_module_reaches_into_a_library_outside_private_hooks(findings):
    outside = {path: found for path, found in findings.items() if path != HOOKS}
    assert not outside, (
        "another library's private names used outside chalicelib/private_hooks.py (use a public API, "
        "or move the hook there with its version pin):\n"
        + "\n".join(f"  {path}:{line}: {lib} {name}" for path, found in outside.items() for line, lib, name in found))


def test_private_hooks_uses_exactly_the_listed_private_names(findings):
    used = {name for _, _, name in findings.get(HOOKS, [])}
    assert used == ALLOWED, "private_hooks.py's private names changed: update ALLOWED (and the module's docstring)"


def test_the_installed_libraries_are_the_versions_the_hooks_were_written_for():
    from chalicelib import private_hooks

    changed = {dist: (pin, private_hooks.installed_version(dist))
               for dist, pin in private_hooks.WRITTEN_FOR.items()
               if private_hooks.installed_version(dist) != pin}
    assert not changed, (
        "a library chalicelib/private_hooks.py reaches into changed version — read each of its hooks "
        "against the new source, then update WRITTEN_FOR: "
        + ", ".join(f"{dist} {pin} → {now}" for dist, (pin, now) in changed.items()))


def test_the_finder_sees_each_kind_of_reach(tmp_path):
    """The checks above pass only if nothing is found: show that each kind would be."""
    module = tmp_path / "sample.py"
    module.write_text(
        "import sys, os\n"
        "from whoosh.writing import SegmentWriter\n"
        "from pydantic.plugin._loader import get_plugins\n"
        "from chalice import local\n"
        "from chalicelib import aws\n"
        "LOADER = 'pydantic.plugin._loader'\n"
        "local.LocalGateway._marker = True\n"
        "aws._session()\n"  # the project's own: allowed
        "os._exit\n"  # public despite the underscore
        "def patched(self):\n"
        "    return self._handler, local.thing()._field\n"
        "def make():\n"
        "    class Writer(SegmentWriter):\n"
        "        def _flush_segment(self):\n"
        "            self._added = True\n"
        "    return Writer\n", encoding="utf-8")
    finder = _Finder("sample")
    finder.visit(ast.parse(module.read_text(encoding="utf-8")))
    names = {name for _, _, name in finder.found}
    assert names == {"pydantic.plugin._loader", "_marker", "_handler", "_field"}
    (cls_node, nested), = finder.classes
    assert nested and set(_used_private_names(cls_node)) == {"_flush_segment", "_added"}
    from whoosh.writing import SegmentWriter

    class Ours(SegmentWriter):
        def _flush_segment(self):  # Whoosh's
            self._mine = 1  # ours

    found = _inherited_private_names(Ours, {"_flush_segment": 1, "_mine": 2})
    assert [name for _, _, name in found] == ["_flush_segment"]


def test_a_hook_is_not_applied_to_a_version_it_was_not_written_for(monkeypatch):
    """On another version the stock, slower path runs: a hook never guesses at new internals."""
    from chalicelib import private_hooks

    monkeypatch.setitem(private_hooks.WRITTEN_FOR, "pydantic", "0.0.0")
    monkeypatch.delitem(sys.modules, private_hooks.PYDANTIC_PLUGIN_LOADER, raising=False)
    assert private_hooks.skip_pydantic_plugin_discovery() is False
    assert private_hooks.PYDANTIC_PLUGIN_LOADER not in sys.modules
    monkeypatch.setattr(private_hooks, "_segment_writer_base", None)
    monkeypatch.setitem(private_hooks.WRITTEN_FOR, "Whoosh-Reloaded", "0.0.0")
    with pytest.raises(RuntimeError, match="Whoosh-Reloaded"):
        private_hooks.whoosh_segment_writer_base()


def test_the_moto_server_hooks_leave_another_moto_as_it_is(monkeypatch):
    """On a moto other than the one they were read against, the local stack's shortcuts are not applied."""
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    from chalicelib import private_hooks

    monkeypatch.setitem(private_hooks.WRITTEN_FOR, "moto", "0.0.0")
    before = (models.DynamoDBBackend.transact_write_items, Table.query, Table.all_items)
    assert private_hooks.undo_touched_items_only() is False
    assert private_hooks.query_reads_its_partition_only() is False
    assert private_hooks.remember_what_never_changes() is False
    assert (models.DynamoDBBackend.transact_write_items, Table.query, Table.all_items) == before
