"""Receipts (电子回单) of succeeded repayments, and the public check that a receipt was issued.

A receipt is issued (``RECEIPT#<serial>`` written, conditionally, once) the first time its owner
asks for it; its verification code is an HMAC-SHA256 of every field it shows, keyed by
``RECEIPT_SECRET`` (``chalicelib/config.py``) and never stored. ``verify`` reads the issued receipt
by its serial (a GetItem; the serial is derived from the repayment id) and recomputes the code:
an unknown serial, a made-up or an altered code all answer ``valid: false`` alike.
"""
from __future__ import annotations

from urllib.parse import urlencode

from chalicelib.kernel import clock, refusals
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import logger, metric
from chalicelib.kernel.money import format_fen
from chalicelib.repay import model, store, views
from chalicelib.repay.rules import of as rules_of

_DUMMY = model.Receipt("RD", "rp_", "loan", 0, 0, "", "", "")   # checked against when a serial is unknown
INVALID_MESSAGE = "未查到与该流水号和校验码相符的电子回单。回单可能被伪造或篡改，请勿凭此办理业务，并联系付款人核实。"
VALID_MESSAGE = "该电子回单确由 RepayDesk 开具。请核对金额、到账日期和收款方与您手中的回单一致。"


def _secret(ctx: Context) -> str:
    secret = rules_of(ctx).receipt_secret
    if not secret:
        logger.error("RECEIPT_SECRET is not set: receipts are unavailable")
        raise refusals.Busy("电子回单服务暂未开通，请稍后再试或联系客服。", code="receipts_unavailable")
    return secret


def _issue(actor: Actor, repayment_id: str, ctx: Context) -> tuple[model.Receipt, str]:
    """The caller's receipt (404 for another user's id, 409 until the repayment succeeded), recorded as issued."""
    secret = _secret(ctx)
    receipt = model.receipt_of(views.load(actor, repayment_id))
    if store.put_receipt(receipt, user_id=actor.user_id, issued_at=clock.isoformat(ctx.now)):
        metric("ReceiptIssued", kind=receipt.kind)
    return receipt, receipt.code(secret)


def _local(ctx: Context, moment: str) -> str:
    return rules_of(ctx).calendar.local(clock.parse(moment)).strftime("%Y-%m-%d %H:%M:%S")


def _view(receipt: model.Receipt, code: str, ctx: Context) -> dict:
    return {"serial": receipt.serial, "repayment_id": receipt.repayment_id, "kind": receipt.kind,
            "kind_label": model.KIND_LABELS[receipt.kind], "amount": format_fen(receipt.amount_fen),
            "fee": format_fen(receipt.fee_fen), "total": format_fen(receipt.total_fen), "payee": receipt.payee,
            "submitted_at": _local(ctx, receipt.submitted_at), "settled_at": _local(ctx, receipt.settled_at),
            "time_zone": rules_of(ctx).calendar.zone.key, "verification_code": code,
            "verify_url": "/receipts/verify?" + urlencode({"serial": receipt.serial, "code": code})}


def receipt(actor: Actor, repayment_id: str, ctx: Context) -> dict:
    found, code = _issue(actor, repayment_id, ctx)
    return _view(found, code, ctx)


def check_page_url(serial: str, code: str) -> str:
    """The public check page a person opens, prefilled (absolute with ``PUBLIC_BASE_URL``: it is printed)."""
    from chalicelib.config import settings
    return f"{settings().public_base_url}/help/receipts/verify?" + urlencode({"serial": serial, "code": code})


def receipt_html(actor: Actor, repayment_id: str, ctx: Context) -> str:
    found, code = _issue(actor, repayment_id, ctx)
    # the help centre's environment (autoescape on, imported with the first page rendered)
    from chalicelib.edge.render import render
    return render("repay/receipt.html", receipt=_view(found, code, ctx), check_url=check_page_url(found.serial, code))


def verify(serial: str, code: str, ctx: Context) -> dict:
    """Whether a receipt with this serial and code was issued; if so its non-personal fields only."""
    secret = _secret(ctx)
    serial = serial.strip().upper()
    found = store.get_receipt(serial) if model.serial_format_ok(serial) else None
    valid = (found or _DUMMY).code_matches(code, secret) and found is not None
    metric("ReceiptVerified", valid=str(valid).lower())
    if found is None or not valid:
        return {"valid": False, "serial": serial, "message": INVALID_MESSAGE}
    return {"valid": True, "serial": serial, "message": VALID_MESSAGE, "amount": format_fen(found.amount_fen),
            "settled_date": found.settled_date, "payee": found.payee}

