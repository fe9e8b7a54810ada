"""Resources shared by the domains: the outbox table, the rate-limit counters, the analytics events and the
in-app inbox."""
from infra import table


def tables(cfg):
    # "pending" is sparse: only undelivered messages carry pending_pk, so the drain
    # Queries exactly the work it has to do, ordered by when it is due. pending_pk is
    # PENDING[#<shard>] (OUTBOX_SHARDS, crc32 of the message id; the drain merges the shards).
    return [table(cfg.outbox_table, gsis=[("pending", "pending_pk", "pending_sk")], ttl="expires_at"),
            table(cfg.limits_table, ttl="expires_at"),
            # Analytics events (EV#<local hour>[#<shard>]) and their rollups (AGG#<yyyy-mm>):
            # chalicelib/adapters/events.py
            table(cfg.events_table, ttl="expires_at"),
            table(cfg.reports_table),
            # USER#<sub> / NOTICE#<id> (newest first) and UNREAD#<id> (the unread count): chalicelib/notices.py
            table(cfg.notices_table, ttl="expires_at")]
