"""Per-user rate limits as fixed-window DynamoDB counters.

One conditional ``UpdateItem`` per request: ``ADD hits :one`` only while the
window's count is under the limit, so concurrent requests can never exceed it.
Windows expire through TTL.

Fails closed: if the counter cannot be updated (DynamoDB throttling, unreachable,
or hung past its timeout) the request is refused with 503 + ``Retry-After`` at
once. Every limited action (paying, entering an SMS code, voting) writes to the
same DynamoDB next, so letting it through would only make it wait on the hung
dependency a second time (#11: 40 s instead of 20); and the verification limit is
what stops an SMS code being guessed, so it must never lapse while DynamoDB is
flaky. The price: a limits-table problem alone also refuses these three actions.

Two uses: ``hit`` counts every request and refuses the one over the limit (one conditional
write); ``check`` + ``count`` limit *failures* only (sign-in, #21): ``check`` reads the window's count
and refuses once it is at the limit (fails closed like ``hit``), ``count`` adds one after a failure.
Requests in flight at once may pass ``check`` together, so a failure limit can be overshot by that many.
"""
from __future__ import annotations

import functools
import math

from chalicelib.adapters import aws
from chalicelib.config import settings
from chalicelib.edge import errors
from chalicelib.kernel import clock
from chalicelib.kernel.logs import logger, metric


@functools.cache
def _limits(spec: str) -> dict[str, tuple[int, int]]:
    limits = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        action, _, rule = part.partition("=")
        count, _, window = rule.partition("/")
        limits[action.strip()] = (int(count), int(window))
    return limits


class _Window:
    """The current fixed window of ``action`` (None when the action has no limit)."""

    def __init__(self, action: str, key: str, limit: tuple[int, int]):
        self.action, self.count, self.seconds = action, *limit
        now = clock.epoch()
        self.start = now - now % self.seconds
        self.retry_after = max(1, self.start + self.seconds - now)
        self.key = {"pk": f"{action}#{key}", "sk": str(self.start)}

    def refusal(self, message: str | None) -> errors.TooManyRequests:
        metric("RateLimited", action=self.action)
        minutes = max(1, math.ceil(self.retry_after / 60))
        return errors.TooManyRequests((message or "操作过于频繁，请约 {minutes} 分钟后再试。").format(minutes=minutes),
                                      headers={"Retry-After": str(self.retry_after)})


def _window(action: str, key: str) -> _Window | None:
    limit = _limits(settings().rate_limits).get(action)
    return None if limit is None else _Window(action, key, limit)


def _table():
    return aws.table(settings().limits_table)


def hit(action: str, user_id: str) -> None:
    """Count one ``action`` by ``user_id``; raise 429 with ``Retry-After`` once over the limit."""
    window = _window(action, user_id)
    if window is None:
        return
    try:
        _table().update_item(
            Key=window.key, UpdateExpression="ADD hits :one SET expires_at = :exp",
            ConditionExpression="attribute_not_exists(hits) OR hits < :limit",
            ExpressionAttributeValues={":one": 1, ":limit": window.count, ":exp": window.start + 2 * window.seconds},
        )
    except aws.ClientError as exc:
        if aws.is_condition_failure(exc):
            raise window.refusal(None) from None
        raise _store_failed(action, exc) from None
    except aws.BotoCoreError as exc:
        raise _store_failed(action, exc) from None


def check(action: str, key: str, message: str | None = None) -> None:
    """Refuse (429 + ``Retry-After``; ``message`` may say ``{minutes}``) once ``key`` has ``count``ed the
    limit's number of failures in this window. Reads only; fails closed."""
    window = _window(action, key)
    if window is None:
        return
    try:
        item = _table().get_item(Key=window.key, ConsistentRead=True).get("Item") or {}
    except (aws.ClientError, aws.BotoCoreError) as exc:
        raise _store_failed(action, exc) from None
    if int(item.get("hits", 0)) >= window.count:
        raise window.refusal(message)


def count(action: str, key: str) -> None:
    """One failure of ``key`` (what ``check`` reads). Not counted if the store fails: logged, and the next
    ``check`` fails closed anyway."""
    window = _window(action, key)
    if window is None:
        return
    try:
        _table().update_item(Key=window.key, UpdateExpression="ADD hits :one SET expires_at = :exp",
                             ExpressionAttributeValues={":one": 1, ":exp": window.start + 2 * window.seconds})
    except (aws.ClientError, aws.BotoCoreError) as exc:
        logger.warning("rate limit failure not counted", extra={"action": action, "aws_error": _code(exc)})


def _code(exc: Exception) -> str:
    return exc.response["Error"]["Code"] if isinstance(exc, aws.ClientError) else type(exc).__name__


def _store_failed(action: str, exc: Exception) -> errors.ServiceUnavailable:
    logger.warning("rate limit store unavailable; refusing", extra={"action": action, "aws_error": _code(exc)})
    return _unavailable()


def _unavailable() -> errors.ServiceUnavailable:
    return errors.ServiceUnavailable(headers={"Retry-After": "2"})
