"""Knowledge base: one table for zero-result query counters and article feedback (see chalicelib/search/store.py).

Access patterns (no Scan anywhere):
- count a zero-result query       UpdateItem pk=ZERO#<day>[#<shard>], sk=Q#<query>  (ADD; shard = crc32(query) % ZERO_RESULT_SHARDS)
- a day's zero-result queries     Query      pk=ZERO#<day>[#<shard>], every shard, counts of a query summed
- a vote + its article's totals   TransactWriteItems: Put pk=ARTICLE#<slug>, Update pk=FEEDBACK[#<shard>], sk=ARTICLE#<slug>
                                  (shard = crc32(slug) % FEEDBACK_SHARDS)
- every article's totals          Query      pk=FEEDBACK[#<shard>], every shard
- an article's votes              Query      pk=ARTICLE#<slug>
Shard 0 is the unsharded key; see chalicelib/shards.py and docs/scale.md.
"""
from infra import table


def tables(cfg):
    return [table(cfg.kb_table)]
