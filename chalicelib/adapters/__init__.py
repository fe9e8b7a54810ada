"""The adapters: AWS clients and failures, the request deadline, outbox, idempotency, rate limit, messaging, events,
shards. ``unavailable(exc)`` is what the HTTP edge asks about a failure (``app.py``'s middleware): the one mapping
of AWS failures to "throttled or unreachable", kept in ``aws.py``."""
from __future__ import annotations


def unavailable(exc: BaseException) -> str | None:
    """Why ``exc`` means an AWS dependency is throttled or unreachable (answer 503 + Retry-After), or None."""
    from chalicelib.adapters import aws
    return aws.unavailable(exc)
