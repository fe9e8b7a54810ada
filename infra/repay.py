"""Repayments: one table keyed by user, one settlement queue (see README, "Repayments" → "Table design")."""
from infra import table


def tables(cfg):
    return [table(cfg.repayments_table, ttl="expires_at", gsis=[
        ("by_status", "gsi1pk", "gsi1sk"),   # <user>#<status> / <repayment id>: history filtered by status
        ("by_kind", "gsi2pk", "gsi2sk"),     # <user>#<kind>   / <repayment id>: history filtered by kind
        # sparse: only repayments awaiting their SMS code; VERIFY_EXPIRY / <expires_at>#<id>: the expiry sweep
        ("by_verify_expiry", "gsi3pk", "gsi3sk"),
        # sparse: staff access records (repay/access_store.py): by staff member, by UTC day, newest first
        ("access_by_staff", "acc_staff_pk", "acc_sk"),
        ("access_by_day", "acc_day_pk", "acc_sk"),
    ])]


def queues(cfg):
    # Visibility timeout > the worker's Lambda timeout, as AWS requires for SQS triggers.
    return [{"name": cfg.settlement_queue, "visibility_timeout": 120, "dlq": True, "max_receive": 5}]
