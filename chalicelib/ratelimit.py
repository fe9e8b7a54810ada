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
"""
from __future__ import annotations

import functools
import math

from chalicelib import aws, clock, errors
from chalicelib.config import settings
from chalicelib.logs import logger, metric


@functools.cache
def _limits(spec: str) -> dict[str, tuple[int, int]]:
    limits = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        action, _, rule = part.partition("=")
        count, _, window = rule.partition("/")
        limits[action.strip()] = (int(count), int(window))
    return limits


def hit(action: str, user_id: str) -> None:
    """Count one ``action`` by ``user_id``; raise 429 with ``Retry-After`` once over the limit."""
    limit = _limits(settings().rate_limits).get(action)
    if limit is None:
        return
    count, window = limit
    now = clock.epoch()
    window_start = now - now % window
    retry_after = window_start + window - now
    try:
        aws.table(settings().limits_table).update_item(
            Key={"pk": f"{action}#{user_id}", "sk": str(window_start)},
            UpdateExpression="ADD hits :one SET expires_at = :exp",
            ConditionExpression="attribute_not_exists(hits) OR hits < :limit",
            ExpressionAttributeValues={":one": 1, ":limit": count, ":exp": window_start + 2 * window},
        )
    except aws.ClientError as exc:
        if aws.is_condition_failure(exc):
            metric("RateLimited", action=action)
            minutes = max(1, math.ceil(retry_after / 60))
            raise errors.TooManyRequests(f"操作过于频繁，请约 {minutes} 分钟后再试。",
                                         headers={"Retry-After": str(max(1, retry_after))}) from None
        logger.warning("rate limit store unavailable; refusing", extra={"action": action,
                                                                          "aws_error": exc.response["Error"]["Code"]})
        raise _unavailable() from None
    except aws.BotoCoreError as exc:
        logger.warning("rate limit store unreachable; refusing", extra={"action": action,
                                                                          "aws_error": type(exc).__name__})
        raise _unavailable() from None


def _unavailable() -> errors.ServiceUnavailable:
    return errors.ServiceUnavailable(headers={"Retry-After": "2"})
