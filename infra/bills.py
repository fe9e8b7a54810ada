"""Saved bills, scheduled repayments, reminders: one table keyed by user (README, "Bills" → "Table design")."""
from infra import table


def tables(cfg):
    return [table(cfg.bills_table, ttl="expires_at", gsis=[
        # sparse and time-bucketed: only bills/schedules with something to do carry wake keys;
        # WAKE#<local day>[#<shard>] / <wake_at>#<pk>#<sk>: the sweep Queries what is due, never Scans
        ("by_wake", "wake_pk", "wake_sk"),
    ])]
