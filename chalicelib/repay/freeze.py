"""Account freeze (used by escalation): while frozen, new repayments, verifications and retries answer 423."""
from __future__ import annotations

from chalicelib.kernel import refusals
from chalicelib.kernel.logs import logger, metric, user_hash
from chalicelib.repay import store


def freeze_account(user_id: str, *, reason: str, case_id: str) -> None:
    """Freeze the account. Idempotent: freezing a frozen account changes nothing. Recorded in the account's log."""
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


def frozen_error(hotline: str) -> refusals.Frozen:
    return refusals.Frozen(f"您的账户已被冻结，暂时无法还款。如有疑问，请拨打安全专线 {hotline}。",
                         code="account_frozen", details={"hotline": hotline})
