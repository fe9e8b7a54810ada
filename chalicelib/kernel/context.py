"""What a use case is given besides who acts and its input: the moment it runs at and the settings.

Services take a ``Context`` instead of reading ``clock.now()`` or ``settings()`` themselves, so a
test, a schedule or a queue worker states both. ``Context.current()`` is for the edges that
receive a request or an event (the routes in ``chalicelib/routes/``, ``devtools``, tests): the only place they are read.

This is the one context type: a domain's own rules are derived from ``settings`` by a function of the
context (``repay.rules.of(ctx)``, ``bills.rules.of(ctx)``), not held by a second context class.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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
