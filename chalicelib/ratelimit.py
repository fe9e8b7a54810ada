"""Per-user rate limits as fixed-window DynamoDB counters.

One conditional ``UpdateItem`` per request: ``ADD hits :one`` only while the
window's count is under the limit, so concurrent requests can never exceed it.
Windows expire through TTL. If the counter store is unreachable we let the
request through (logged): a limit protects the service, it must not take it down.
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
        logger.warning("rate limit store unavailable; allowing", extra={"action": action})
    except aws.BotoCoreError:
        logger.warning("rate limit store unreachable; allowing", extra={"action": action})
