"""What a use case is given besides who acts and its input: the moment it runs at and the settings.

Services take a ``Context`` instead of reading ``clock.now()`` or ``settings()`` themselves, so a
test, a schedule or a queue worker states both. ``Context.current()`` is for the edges that
receive a request or an event (the routes in ``chalicelib/routes/``, ``devtools``, tests): the only place they are read.

This is the one context type: a domain's own rules are derived from ``settings`` by a function of the
context (``repay.rules.of(ctx)``, ``bills.rules.of(ctx)``), not held by a second context class.
"""
from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from chalicelib.config import Settings, settings
from chalicelib.kernel import clock


@dataclass(frozen=True)
class Context:
    now: dt.datetime       # aware UTC; one instant for the whole use case
    settings: Settings

    @classmethod
    def current(cls, now: dt.datetime | None = None) -> Context:
        return cls(now=now or clock.now(), settings=settings())

    def at(self, now: dt.datetime) -> Context:
        """The same settings at another moment (tests, devtools)."""
        return Context(now=now, settings=self.settings)


T = TypeVar("T")


class PerSettings(Generic[T]):
    """What a domain derives from the settings (its rules: limits, fee schedule, calendar files read once), built
    once per settings object: ``rules_of = PerSettings(build)`` then ``rules_of(ctx)``. Tests that swap the
    settings get rules built from theirs."""

    def __init__(self, build: Callable[[Settings], T]):
        self._build = build
        self._lock = threading.Lock()
        self._last: tuple[Settings, T] | None = None

    def __call__(self, ctx: Context) -> T:
        last = self._last
        if last is not None and last[0] is ctx.settings:
            return last[1]
        with self._lock:
            built = self._build(ctx.settings)
            self._last = (ctx.settings, built)
        return built
