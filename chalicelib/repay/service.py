"""Repayment use cases: quote, create (idempotent), verify, settle, retry, read; account freeze.

Rules live in ``model.py``/``fees.py``; DynamoDB in ``store.py``. Every state
change is one conditional write (or one transaction) and appends to the
repayment's timeline.
"""
from __future__ import annotations

from chalicelib.logs import logger, metric, user_hash
from chalicelib.repay import store


# ---------------------------------------------------------------- account freeze (used by escalation)
def freeze_account(user_id: str, *, reason: str, case_id: str) -> None:
    """Freeze the account: new repayments, verifications and retries answer 423 until unfrozen.

    Idempotent: freezing a frozen account changes nothing. Recorded in the account's log.
    """
    if store.set_frozen(user_id, reason=reason, case_id=case_id):
        logger.info("account frozen", extra={"user": user_hash(user_id), "case_id": case_id})
        metric("AccountFrozen")


def unfreeze_account(user_id: str, *, actor: str) -> None:
    """Lift a freeze (idempotent; recorded with the actor)."""
    if store.clear_frozen(user_id, actor=actor):
        logger.info("account unfrozen", extra={"user": user_hash(user_id), "actor": actor})
        metric("AccountUnfrozen")


def is_frozen(user_id: str) -> bool:
    account = store.get_account(user_id)
    return bool(account and account.get("frozen"))
