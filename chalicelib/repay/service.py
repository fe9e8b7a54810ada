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
Use cases take the domain ``Actor`` and a ``Context`` (the time and the rules, ``context.current()``).
"""
from __future__ import annotations

from typing import Any, Callable

from chalicelib.adapters import idempotency
from chalicelib.kernel.actor import Actor
from chalicelib.repay.context import Context, current
from chalicelib.repay.freeze import freeze_account, is_frozen, unfreeze_account
from chalicelib.repay.pay import CREATE_SCOPE, RETRY_SCOPE, Created, create, quote, retry
from chalicelib.repay.settlement import settle
from chalicelib.repay.receipts import receipt, receipt_html, verify as verify_receipt
from chalicelib.repay.verification import cancel, expire_lapsed, resend_code, verify
from chalicelib.repay.staff import access_log, read_for_case
from chalicelib.repay.views import get, history

__all__ = ["Context", "current", "freeze_account", "is_frozen", "unfreeze_account", "CREATE_SCOPE", "RETRY_SCOPE",
           "Created", "create", "quote", "retry", "settle", "verify", "get", "history", "cancel", "expire_lapsed",
           "resend_code", "receipt", "receipt_html", "verify_receipt", "once", "read_for_case", "access_log"]


def once(actor: Actor, key: str | None, scope: str, payload: Any, change: Callable[[], dict]) -> idempotency.Outcome:
    """A change the owner may send with an optional Idempotency-Key (verify, resend the code, cancel):
    with a key, a repeat replays the first answer instead of acting again (#11)."""
    return idempotency.once(actor.user_id, key, scope=scope, payload=payload,
                            action=lambda _claim: idempotency.Outcome(200, change()))
