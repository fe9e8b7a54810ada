"""The assistant (#24): one table of conversations, keyed by user, with a TTL (chalicelib/assistant/dynamo_store.py).

Access patterns (no Scan anywhere):
- a conversation                 GetItem   pk=USER#<uid>, sk=CONV#<id> (consistent)
- the user's newest one          Query     pk=USER#<uid>, sk begins_with CONV#, newest first, limit 1
- a turn                         Put       conditional on the version read (new: attribute_not_exists)
Conversations expire ``KEEP`` (30 days) after their last turn (``expires_at``).
"""
from infra import table


def tables(cfg):
    return [table(cfg.assistant_table, ttl="expires_at")]
