"""Saved bills, scheduled repayments, reminders: one table keyed by user (README, "Bills" → "Table design"),
and the sweep's fan-out queue (one message per wake shard a minute, one worker each)."""
from infra import table


def tables(cfg):
    return [table(cfg.bills_table, ttl="expires_at", gsis=[
        # sparse and time-bucketed: only bills/schedules with something to do carry wake keys;
        # WAKE#<local day>[#<shard>] / <wake_at>#<pk>#<sk>: the sweep Queries what is due, never Scans
        ("by_wake", "wake_pk", "wake_sk"),
    ])]


def queues(cfg):
    # Visibility timeout > the worker's Lambda timeout (70 s in prod, .chalice/config.json), as AWS requires.
    # A message that fails 5 times lands in the DLQ (its alarm); the next minute's fan-out covers the shard anyway.
    return [{"name": cfg.bills_wake_queue, "visibility_timeout": 120, "dlq": True, "max_receive": 5}]
