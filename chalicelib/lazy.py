"""Modules imported on first use, for ``app.py``.

``app.py`` is one route table for every domain and the API is one Lambda function, so a cold
container answering a search would otherwise first import the repayment and escalation
services, the help-centre pages and the token verifier (~25 ms). ``repay = lazy_import(
"chalicelib.repay.service")`` stands for that module and imports it the first time one of its
attributes is used — through the normal import system, whose per-module lock makes concurrent
first uses safe. The real module is the one in ``sys.modules``: tests patch it as usual and the
stand-in sees the patch. Request/response schemas stay plain imports: ``@api_contract`` needs
the classes when the route table is built (and ``/openapi.json`` reads them from there).
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
