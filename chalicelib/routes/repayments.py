"""Repayments (``chalicelib/repay``): quote, pay, verify, retry, cancel, the 电子回单 and its public check; the sweep
that cancels lapsed verifications and the settlement worker."""
from __future__ import annotations

from urllib.parse import urlencode

from chalice import Blueprint, Rate, Response

from chalicelib.adapters import ratelimit
from chalicelib.config import settings
from chalicelib.edge import httpio, replies
from chalicelib.edge.lazy import lazy_import, lazy_schemas
from chalicelib.edge.openapi import api_contract
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import logger
from chalicelib.routes.auth import cognito_jwt

repay = lazy_import("chalicelib.repay.service")
repay_schemas = lazy_schemas("chalicelib.repay.schemas")
error_pages = lazy_import("chalicelib.edge.errorpages")

bp = Blueprint(__name__)


@bp.route("/repayments/quote", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Fee breakdown, total and expected arrival for a repayment (warns when it would arrive after due_date)",
              tag="repay", body=repay_schemas.RepaymentRequest, responses={200: repay_schemas.QuoteView})
def quote_repayment():
    return replies.answer(bp.current_request, lambda call: repay.quote(call.who, call.input, repay.current()),
                          body=repay_schemas.RepaymentRequest)


@bp.route("/repayments", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Make a repayment (exactly once per Idempotency-Key); large amounts answer 202 verification_required",
              tag="repay", body=repay_schemas.RepaymentRequest, headers=replies.IDEMPOTENCY_HEADER,
              responses={201: repay_schemas.RepaymentView, 202: repay_schemas.RepaymentView},
              errors=(409, 422, 423, 429))
def create_repayment():
    request = bp.current_request
    body = httpio.parse_body(request, repay_schemas.RepaymentRequest)
    caller = httpio.actor(request)
    # the key is claimed in the repayment's own transaction; a known key replays before the limit
    created = repay.create(caller, replies.idempotency_key(request), body, repay.current(),
                           limit=lambda: ratelimit.hit("repayment_create", caller.user_id))
    return replies.idempotent_response(created, {"Location": f"/repayments/{created.body['id']}"})


@bp.route("/repayments", methods=["GET"], authorizer=cognito_jwt)
@api_contract("The caller's repayments, newest first (filters status, kind; opaque cursor)", tag="repay",
              query=repay_schemas.ListQuery, responses={200: repay_schemas.RepaymentPage}, errors=(400,))
def list_repayments():
    return replies.answer(bp.current_request, lambda call: repay.history(call.who, call.input, repay.current()),
                          query=repay_schemas.ListQuery)


@bp.route("/repayments/{repayment_id}", methods=["GET"], authorizer=cognito_jwt)
@api_contract("One repayment: status, fee, expected and actual arrival, timeline", tag="repay",
              responses={200: repay_schemas.RepaymentView}, errors=(404,))
def get_repayment(repayment_id):
    return replies.answer(bp.current_request, lambda call: repay.get(call.who, repayment_id, repay.current()))


@bp.route("/repayments/{repayment_id}/verify", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Confirm a large repayment with the SMS code (5 minutes, 5 attempts, then cancelled)", tag="repay",
              body=repay_schemas.VerifyRequest, headers=replies.OPTIONAL_IDEMPOTENCY_HEADER,
              responses={200: repay_schemas.RepaymentView}, errors=(400, 404, 409, 422, 423, 429))
def verify_repayment(repayment_id):
    return replies.replay(bp.current_request, f"VERIFY#{repayment_id}", lambda call: repay.verify(
        call.who, repayment_id, call.input, repay.current(),
        before_check=lambda: ratelimit.hit("repayment_verify", call.who.user_id)), body=repay_schemas.VerifyRequest)


@bp.route("/repayments/{repayment_id}/retry", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Retry a repayment that failed for a retryable reason (exactly once per Idempotency-Key; "
              "repeating it is harmless)", tag="repay", headers=replies.IDEMPOTENCY_HEADER,
              responses={200: repay_schemas.RepaymentView}, errors=(400, 404, 409, 422, 423))
def retry_repayment(repayment_id):
    return replies.change(bp.current_request, lambda call: repay.retry(call.who, call.key, repayment_id,
                                                                       repay.current()))


@bp.route("/repayments/{repayment_id}/resend-code", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Text a new SMS code for a repayment awaiting verification; the old code stops working "
              "(3 per repayment, one per minute: 429 + Retry-After)", tag="repay",
              headers=replies.OPTIONAL_IDEMPOTENCY_HEADER,
              responses={200: repay_schemas.RepaymentView}, errors=(400, 404, 409, 422, 423, 429))
def resend_repayment_code(repayment_id):
    return replies.replay(bp.current_request, f"RESEND#{repayment_id}",
                          lambda call: repay.resend_code(call.who, repayment_id, repay.current()))


@bp.route("/repayments/{repayment_id}/cancel", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Cancel a repayment still waiting for its SMS code (nothing is charged; repeating it is harmless; "
              "processing or settled: 409)", tag="repay", headers=replies.OPTIONAL_IDEMPOTENCY_HEADER,
              responses={200: repay_schemas.RepaymentView}, errors=(400, 404, 409, 422))
def cancel_repayment(repayment_id):
    return replies.replay(bp.current_request, f"CANCEL#{repayment_id}",
                          lambda call: repay.cancel(call.who, repayment_id, repay.current()))


@bp.route("/repayments/{repayment_id}/receipt", methods=["GET"], authorizer=cognito_jwt)
@api_contract("电子回单 of a succeeded repayment with its verification code (409 until it succeeded)", tag="repay",
              responses={200: repay_schemas.ReceiptView}, errors=(404, 409, 503))
def repayment_receipt(repayment_id):
    return replies.answer(bp.current_request, lambda call: repay.receipt(call.who, repayment_id, repay.current()))


@bp.route("/repayments/{repayment_id}/receipt.html", methods=["GET"], authorizer=cognito_jwt)
@api_contract("电子回单 as a printable page (HTML)", tag="repay", responses={200: None}, errors=(404, 409, 503),
              html=True, path_ids=True)
def repayment_receipt_html(repayment_id):
    return httpio.html_response(repay.receipt_html(httpio.actor(bp.current_request), repayment_id, repay.current()),
                                headers={"Cache-Control": "no-store"})


@bp.route("/receipts/verify", methods=["GET"])
@api_contract("Was this receipt issued by RepayDesk? (public; serial and code as printed; rate-limited per IP)",
              tag="repay", query=repay_schemas.ReceiptQuery, responses={200: repay_schemas.ReceiptCheck},
              errors=(400, 429, 503))
def verify_receipt():
    request = bp.current_request
    if error_pages.prefers_html(httpio.header(request, "Accept")):   # a person opened the address: the page
        return Response(body="", status_code=303, headers={
            "Location": "/help/receipts/verify?" + urlencode(request.query_params or {}),
            "Cache-Control": "no-store", "Vary": "Accept"})
    query = httpio.parse_query(request, repay_schemas.ReceiptQuery)
    ratelimit.hit("receipt_verify", httpio.client_key(request))
    return httpio.json_response(repay.verify_receipt(query.serial, query.code, repay.current()))


@bp.schedule(Rate(1, unit=Rate.MINUTES))
def expire_verifications(event):
    """Cancel repayments whose SMS code lapsed (allowance given back), not only when someone reads them."""
    cancelled = repay.expire_lapsed(repay.current())
    if cancelled:
        logger.info("expired verifications swept", extra={"cancelled": cancelled})


@bp.on_sqs_message(queue=settings().settlement_queue, batch_size=10)
def settle_repayments(event):
    """Settlement worker: each record names one repayment attempt; duplicates and retries are no-ops."""
    failed = 0
    for record in event:
        try:
            repay.settle(record.body, repay.current())
        except Exception:
            logger.exception("settlement failed; the batch will be redelivered")
            failed += 1
    if failed:  # settled records are skipped on redelivery (conditional on status and attempt)
        raise RuntimeError(f"{failed} settlement message(s) failed")


@bp.route("/support/access-records", methods=["GET"], authorizer=cognito_jwt)
@api_contract("Who among staff read which user's data and when (senior-support only): filter by staff user name, "
              "user id, UTC days; newest first, opaque cursor; ?format=csv downloads the same rows",
              tag="escalation", query=repay_schemas.AccessQuery, responses={200: repay_schemas.AccessPage},
              errors=(400, 403), csv=True)
def access_records():
    request = bp.current_request
    query = httpio.parse_query(request, repay_schemas.AccessQuery)
    items, next_cursor = repay.access_page(httpio.actor(request), Context.current(), staff=query.staff,
                                           user_id=query.user_id, since=query.since, until=query.until,
                                           limit=query.limit, cursor=query.cursor)
    if query.format == "csv":
        return replies.csv_download("access-records.csv", repay.access_csv(items))
    return httpio.json_response({"items": items, "next_cursor": next_cursor})
