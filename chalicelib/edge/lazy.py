"""Modules imported on first use, for the route modules (``chalicelib/routes/``).

``app.py`` registers every area's blueprint and the API is one Lambda function, so a cold
container answering a search would otherwise first import the repayment and escalation
services, the help-centre pages and the token verifier (~25 ms). ``repay = lazy_import(
"chalicelib.repay.service")`` stands for that module and imports it the first time one of its
attributes is used — through the normal import system, whose per-module lock makes concurrent
first uses safe. The real module is the one in ``sys.modules``: tests patch it as usual and the
stand-in sees the patch.

Request/response schemas are the same story one level down: ``@api_contract`` names a route's
models when the route table is built, and the repayment and escalation schemas cost ~35 ms of
pydantic class building that a search never uses. ``schemas = lazy_schemas("chalicelib.repay.
schemas")`` makes ``schemas.RepaymentRequest`` a ``ModelRef`` — the module and class name — that
``resolved()`` turns into the class on first use (``http.parse_body``/``parse_query``, the
OpenAPI document). A misspelt name fails there, and the contract tests build the whole document.
"""
from __future__ import annotations

import importlib
from types import ModuleType


class LazyModule:
    __slots__ = ("_name", "_module")

    def __init__(self, name: str):
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str):
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<lazy module {self._name!r} ({state})>"


def lazy_import(name: str) -> LazyModule:
    return LazyModule(name)


class ModelRef:
    """A model class named by module and attribute, imported when ``resolved()`` needs it."""
    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str):
        self.module = module
        self.name = name

    def resolve(self):
        return getattr(importlib.import_module(self.module), self.name)

    def __repr__(self) -> str:
        return f"<model {self.module}.{self.name}>"


class LazySchemas:
    """Stands for a module of pydantic models: each attribute is a ``ModelRef`` into it."""
    __slots__ = ("_name",)

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str) -> ModelRef:
        if attr.startswith("__"):  # copy/pickle/inspect probes: not model names
            raise AttributeError(attr)
        return ModelRef(self._name, attr)


def lazy_schemas(name: str) -> LazySchemas:
    return LazySchemas(name)


def resolved(model):
    """The class itself for a ``ModelRef``; anything else (a class, None) unchanged."""
    return model.resolve() if isinstance(model, ModelRef) else model
