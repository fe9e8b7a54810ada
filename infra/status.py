"""Service notices (chalicelib/status/, docs/status.md): one table. ``NOTICE#<id>`` / ``NOTICE`` is a notice,
``NOTICE#<id>`` / ``AUDIT#…`` its audit records, ``DEFLECTION#<day>`` / ``<id>`` a day's count of users who left the
new-工单 form after reading it. Ended notices and their records expire by TTL (400 days after their end)."""
from infra import table


def tables(cfg):
    return [table(cfg.status_table, ttl="expires_at", gsis=[
        # "in force now" without a Scan: every notice sits in one partition LIVE, sorted by <ends_at>#<id>;
        # a Query for live_sk > now returns the few whose end is still ahead (at most MAX_IN_FORCE)
        ("live", "live_pk", "live_sk"),
    ])]
