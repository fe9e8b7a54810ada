"""Each HTTP request's time budget for AWS calls (#11 bug 2).

With DynamoDB or SNS hanging, botocore alone waits connect + read timeout per
attempt, retries, and the next call of the same request waits again: routes
answered after 20–40 s, past API Gateway's 29 s. Within a request (the
``errors_as_json`` middleware opens ``request_budget``):

- a service that timed out or could not be reached is not called again by the
  same request, nor retried by botocore: the next call to it fails at once;
- no AWS call starts once the budget, less one call's worst case (connect +
  read timeout), is spent;

either way the call raises ``DependencyTimeout`` (a ``BotoCoreError``, so the
middleware answers 503 + ``Retry-After``). A hung service therefore costs one
read timeout, and a request never runs past ``request_budget_seconds`` waiting on
AWS. Not resending a write that timed out also means it is never applied twice
once the service recovers (a timed-out request may still be applied late).

Outside a request (SQS worker, schedules, background threads) nothing changes:
botocore's own timeouts and retries apply. Hooks go through botocore's public
event system (``before-send``, ``needs-retry``) on the shared session.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import time
from dataclasses import dataclass, field


@dataclass
class _Budget:
    start_by: float                       # time.monotonic() after which no AWS call starts
    failed: dict[str, str] = field(default_factory=dict)   # service id → what happened to it


_current: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("request_budget", default=None)


@contextlib.contextmanager
def request_budget(remaining_ms: int | None = None):
    """AWS calls inside the block share one budget: ``request_budget_seconds``, or less if Lambda has less left."""
    from chalicelib.config import settings
    cfg = settings()
    seconds = cfg.request_budget_seconds
    if remaining_ms is not None:
        seconds = min(seconds, remaining_ms / 1000 - 0.5)  # leave Lambda time to answer
    per_call = cfg.aws_connect_timeout_seconds + cfg.aws_read_timeout_seconds
    token = _current.set(_Budget(start_by=time.monotonic() + seconds - per_call))
    try:
        yield
    finally:
        _current.reset(token)


@functools.cache
def _error_class():
    from botocore.exceptions import BotoCoreError

    class DependencyTimeout(BotoCoreError):
        """Not sent: this request's budget is spent, or the service already failed it."""
        fmt = "{reason}"
    return DependencyTimeout


def __getattr__(name: str):
    if name == "DependencyTimeout":   # botocore is imported on first use only (cold start)
        return _error_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _service(event_name: str) -> str:
    parts = event_name.split(".")
    return parts[1] if len(parts) > 1 else ""


def _before_send(request=None, event_name: str = "", **kwargs):
    budget = _current.get()
    if budget is None:
        return None
    service = _service(event_name)
    if service in budget.failed:
        raise _error_class()(reason=f"{service} did not answer earlier in this request ({budget.failed[service]})")
    if time.monotonic() > budget.start_by:
        raise _error_class()(reason=f"request budget spent before calling {service}")
    return None


def _needs_retry(caught_exception=None, event_name: str = "", **kwargs):
    """Registered first: ``False`` vetoes botocore's retry (and its backoff sleep); ``None`` lets it decide."""
    budget = _current.get()
    if budget is None:
        return None
    if caught_exception is not None:
        from botocore.exceptions import ConnectionError as ConnectionFailure
        from botocore.exceptions import HTTPClientError
        if isinstance(caught_exception, (ConnectionFailure, HTTPClientError)):  # timed out, refused, reset
            budget.failed[_service(event_name)] = type(caught_exception).__name__
            return False
    if time.monotonic() > budget.start_by:
        return False
    return None


def install(session) -> None:
    """Register the hooks on a boto3 session (before it creates clients: they copy its handlers)."""
    session.events.register("before-send", _before_send, unique_id="repaydesk-request-budget")
    # "needs-retry.*.*" (service and operation) ranks before the retry handler botocore registers per
    # service ("needs-retry.<service>"): the event system calls the most specific names first.
    session.events.register_first("needs-retry.*.*", _needs_retry, unique_id="repaydesk-request-budget-retry")
