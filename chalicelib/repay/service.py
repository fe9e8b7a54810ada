"""Repayment use cases, one module each; this module is their one entry point (``app.py``, escalation).

- ``pay``           quote, create (exactly once per Idempotency-Key), retry (likewise)
- ``verification``  the SMS code of a large repayment: check, resend, the owner cancels, the expiry sweep
- ``receipts``      电子回单 of succeeded repayments and their public verification
- ``settlement``    the SQS settlement worker, and what commits with every move
- ``views``         one repayment, the history, how a repayment is shown
- ``freeze``        account freeze (escalation's account-security cases)
- ``staff``         staff read a user's repayments for a 工单, leaving an access record

Rules live in ``model.py`` (the ``Repayment`` aggregate) and ``fees.py``; DynamoDB in ``store.py``.
Every state change is one conditional write (or one transaction) and appends to the timeline.
Use cases take the domain ``Actor`` and the one ``Context`` (``chalicelib/kernel/context.py``: the moment and the
settings; ``current()`` here is ``Context.current``); the repayment rules are ``rules.of(ctx)``.
Writes go through ``store.py`` into a unit of work (``chalicelib/adapters/unit_of_work.py``).
"""
from __future__ import annotations

from collections.abc import Callable

from chalicelib.kernel.context import Context
from chalicelib.repay import connector as _connector
from chalicelib.repay import model as _model
from chalicelib.repay import store as _store
from chalicelib.repay.access import access_csv, access_page
from chalicelib.repay.freeze import freeze_account, is_frozen, unfreeze_account
from chalicelib.repay.model import (
    KIND_LABELS,
    PROCESSING,
    SUCCEEDED,
    VERIFICATION_REQUIRED,
    Repayment,
    code_matches,
    new_verification,
)
from chalicelib.repay.pay import CREATE_SCOPE, RETRY_SCOPE, Created, create, quote, retry
from chalicelib.repay.receipts import receipt, receipt_html
from chalicelib.repay.receipts import verify as verify_receipt
from chalicelib.repay.rules import current
from chalicelib.repay.rules import of as rules_of
from chalicelib.repay.schemas import RepaymentRequest
from chalicelib.repay.settlement import settle
from chalicelib.repay.staff import access_log, read_for_case, record_access
from chalicelib.repay.verification import cancel, expire_lapsed, resend_code, verify
from chalicelib.repay.views import get, history

__all__ = ["Context", "current", "freeze_account", "is_frozen", "unfreeze_account", "CREATE_SCOPE", "RETRY_SCOPE",
           "Created", "create", "quote", "retry", "settle", "verify", "get", "history", "cancel", "expire_lapsed",
           "resend_code", "receipt", "receipt_html", "verify_receipt", "read_for_case", "access_log", "record_access",
           "access_page", "access_csv",
           "rules_of", "RepaymentRequest", "Repayment", "KIND_LABELS",
           "PROCESSING", "SUCCEEDED", "VERIFICATION_REQUIRED",
           "code_matches", "new_verification", "stored", "paid_since", "utility_bill", "tokenize_card"]


# ---------------------------------------------------------------- for other domains (bills): no reaching inside
def stored(user_id: str, repayment_id: str) -> Repayment | None:
    """One repayment as stored (a system caller: the bills sweep checking the repayment it started)."""
    return _store.get(user_id, repayment_id)


def paid_since(user_id: str, kind: str, since: str, pays: Callable[[dict], bool]) -> bool:
    """A repayment of ``kind`` created at or after ``since`` to a payee ``pays`` accepts, succeeded or still
    processing (the user's latest of each status, newest first)."""
    for status in (_model.SUCCEEDED, _model.PROCESSING):
        found, _ = _store.page(user_id, status=status, kind=kind, limit=25, after_id=None)
        if any(r.created_at >= since and pays(r.payee) for r in found):
            return True
    return False


def utility_bill(utility: str, biller: str, city: str, account_number: str):
    """The biller's current bill for an account (None: no such account)."""
    return _connector.get().utility_bill(utility, biller, city, account_number)


def tokenize_card(user_id: str, issuer: str, card_number: str) -> str:
    return _connector.get().tokenize_card(user_id, issuer, card_number)
