"""Write sharding for hot DynamoDB partition keys (see docs/scale.md).

A partition key that every request of a kind writes (a step's queue, the feedback totals,
a day's zero-result counters) is limited to one partition's 1,000 WCU / 3,000 RCU per
second. Such a key is split into ``n`` shards: an item goes to the shard a stable hash of
its own identity picks (a case id, an article slug, a query), and readers query every
shard and merge.

Shard 0 keeps the unsharded key itself (``QUEUE#frontline``), shard k > 0 appends
``#k`` (``QUEUE#frontline#3``): with ``n = 1`` the layout is exactly the unsharded one,
and items written before sharding was switched on are still read (as shard 0).

The shard count may only grow: readers query shards ``0 .. n-1``, so every item written
under a smaller count is still found. Lowering it would hide the items of the dropped
shards. An item whose identity hashes to another shard after a change (a feedback
total, a counter) is then found in two shards; readers sum those, so totals stay exact.
"""
from __future__ import annotations

import zlib


def shard_of(identity: str, shards: int) -> int:
    """The shard of ``identity`` among ``shards`` (crc32: the same in every process, unlike ``hash``)."""
    return zlib.crc32(identity.encode()) % shards


def shard_key(base: str, shard: int) -> str:
    return base if shard == 0 else f"{base}#{shard}"


def shard_keys(base: str, shards: int) -> list[str]:
    """Every partition key a reader must query, shard 0 first."""
    return [shard_key(base, shard) for shard in range(shards)]
