"""Which implementation a store's functions use: the DynamoDB one, unless a twin was put in its place.

A domain's ``store.py`` keeps its functions and says ``backend = Backend(dynamo_store)``; its functions call
``backend().get(...)``; tests (and the fast tier) put the in-memory twin in place with ``store.use(twin)``,
as the Chalice todo sample injects its in-memory ``TodoDB`` (``use(None)``: the default again)."""
from __future__ import annotations

from typing import Any


class Backend:
    def __init__(self, default: Any):
        self._default = default
        self._current: Any = None

    def __call__(self) -> Any:
        """The store in use."""
        return self._current if self._current is not None else self._default

    def use(self, store: Any) -> Any:
        """Put ``store`` in place (None: the default again); returns the one it replaced."""
        previous, self._current = self._current, store
        return previous
