"""The wallet user's own pages in the help centre, with the help-door session (``chalicelib/web/``): sign-in
(password, or the app's WebView token), 「我的工单」 (``mycases.py``: list, open with suggestions while typing,
one 工单 with reply, confirm and rating, reopen, escalate, attachments to S3, new messages polled) and
「我的还款」 (``mymoney.py``: repayments and their receipts, saved bills and reminders, the notices inbox), and
the public receipt check a printed receipt's address opens. Form POSTs check CSRF and answer 303."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.edge import httpio, replies
from chalicelib.edge.lazy import lazy_import, lazy_schemas
from chalicelib.edge.openapi import api_contract
from chalicelib.routes.sign_in import add_sign_in_routes

signin = lazy_import("chalicelib.web.signin")
mycases = lazy_import("chalicelib.web.mycases")
mymoney = lazy_import("chalicelib.web.mymoney")
help_door = lazy_import("chalicelib.web.helpdoor")
help_schemas = lazy_schemas("chalicelib.helpcentre.schemas")

bp = Blueprint(__name__)


# ---------------------------------------------------------------- sign-in
add_sign_in_routes(bp, "help")


@bp.route("/help/session", methods=["POST"], content_types=["application/json", *replies.FORM])
@httpio.surface_errors
@replies.answers_json
def help_webview_session():
    """The wallet app's WebView: its bearer token for a help-centre session cookie (303 to ?next=)."""
    return replies.page(signin.webview_session(bp.current_request))


# ---------------------------------------------------------------- 我的工单
@bp.route("/help/cases", methods=["GET"])
@httpio.surface_errors
def my_cases_page():
    return replies.page(mycases.list_page(bp.current_request))


@bp.route("/help/cases", methods=["POST"], content_types=replies.FORM)
@httpio.surface_errors
def my_case_create():
    return replies.page(mycases.create(bp.current_request))


@bp.route("/help/cases/new", methods=["GET"])
@httpio.surface_errors
def my_case_new():
    return replies.page(mycases.new_page(bp.current_request))


@bp.route("/help/cases/suggestions", methods=["GET"])
@httpio.surface_errors
@replies.answers_json
def my_case_suggestions():
    return replies.page_json(mycases.suggestions(bp.current_request))


@bp.route("/help/cases/deflections", methods=["POST"], content_types=replies.FORM)
@httpio.surface_errors
@replies.answers_json
def my_case_deflection():
    return replies.page_json(mycases.deflection(bp.current_request))


@bp.route("/help/cases/{case_id}", methods=["GET"])
@api_contract("「我的工单」: one 工单 as a page (HTML; the help-door session cookie, without one 303 to /help/login; "
              "someone else's 工单 is a 404 page)", tag="escalation", responses={200: None, 404: None}, html=True)
def my_case_page(case_id):
    return replies.page(mycases.case_page(bp.current_request, case_id))


@bp.route("/help/cases/{case_id}/reply", methods=["POST"], content_types=replies.FORM)
@httpio.surface_errors
def my_case_reply(case_id):
    return replies.page(mycases.reply(bp.current_request, case_id))


@bp.route("/help/cases/{case_id}/update-answer", methods=["POST"], content_types=replies.FORM)
@httpio.surface_errors
def my_case_update_answer(case_id):
    return replies.page(mycases.update_answer(bp.current_request, case_id))


@bp.route("/help/cases/{case_id}/confirm", methods=["POST"], content_types=replies.FORM)
@httpio.surface_errors
def my_case_confirm(case_id):
    return replies.page(mycases.confirm(bp.current_request, case_id))


@bp.route("/help/cases/{case_id}/satisfaction", methods=["POST"], content_types=replies.FORM)
@httpio.surface_errors
def my_case_rate(case_id):
    return replies.page(mycases.rate(bp.current_request, case_id))


@bp.route("/help/cases/{case_id}/reopen", methods=["POST"], content_types=replies.FORM)
@httpio.surface_errors
def my_case_reopen(case_id):
    return replies.page(mycases.reopen(bp.current_request, case_id))


@bp.route("/help/cases/{case_id}/escalate", methods=["POST"], content_types=replies.FORM)
@httpio.surface_errors
def my_case_escalate(case_id):
    return replies.page(mycases.escalate(bp.current_request, case_id))


@bp.route("/help/cases/{case_id}/attachments", methods=["POST"], content_types=replies.FORM)
@httpio.surface_errors(path_ids=True)   # a page script's JSON: 404 JSON for an impossible id
@replies.answers_json
def my_case_attachment_grant(case_id):
    """The page's script asks for a presigned S3 POST (JSON), then uploads the file straight to S3."""
    return replies.page_json(mycases.attachment_grant(bp.current_request, case_id))


@bp.route("/help/cases/{case_id}/messages", methods=["GET"])
@httpio.surface_errors(path_ids=True)   # a page script's JSON: 404 JSON for an impossible id
@replies.answers_json
def my_case_messages(case_id):
    return replies.page_json(mycases.messages(bp.current_request, case_id))


@bp.route("/help/cases/{case_id}/export.html", methods=["GET"])
@httpio.surface_errors
def my_case_export(case_id):
    return replies.page(mycases.export_page(bp.current_request, case_id))


@bp.route("/help/cases/{case_id}/attachments/{attachment_id}", methods=["GET"])
@httpio.surface_errors
def my_case_attachment(case_id, attachment_id):
    return replies.page(mycases.attachment_download(bp.current_request, case_id, attachment_id))


# ---------------------------------------------------------------- 我的还款
@bp.route("/help/repayments", methods=["GET"])
@httpio.surface_errors
def my_repayments_page():
    return replies.page(mymoney.list_page(bp.current_request))


@bp.route("/help/repayments/{repayment_id}", methods=["GET"])
@httpio.surface_errors
def my_repayment_page(repayment_id):
    return replies.page(mymoney.detail_page(bp.current_request, repayment_id))


@bp.route("/help/repayments/{repayment_id}/retry", methods=["POST"], content_types=replies.FORM)
@httpio.surface_errors
def my_repayment_retry(repayment_id):
    return replies.page(mymoney.retry(bp.current_request, repayment_id))


@bp.route("/help/repayments/{repayment_id}/receipt", methods=["GET"])
@httpio.surface_errors
def my_repayment_receipt(repayment_id):
    return replies.page(mymoney.receipt_page(bp.current_request, repayment_id))


@bp.route("/help/bills", methods=["GET"])
@httpio.surface_errors
def my_bills_page():
    return replies.page(mymoney.bills_page(bp.current_request))


@bp.route("/help/bills/{bill_id}/reminders", methods=["POST"], content_types=replies.FORM)
@httpio.surface_errors
def my_bill_reminders(bill_id):
    return replies.page(mymoney.bill_reminders(bp.current_request, bill_id))


@bp.route("/help/notices", methods=["GET"])
@httpio.surface_errors
def my_notices_page():
    return replies.page(mymoney.notices_page(bp.current_request))


@bp.route("/help/notices/{notice_id}/read", methods=["POST"], content_types=replies.FORM)
@httpio.surface_errors
def my_notice_read(notice_id):
    return replies.page(mymoney.read_notice(bp.current_request, notice_id))


@bp.route("/help/receipts/verify", methods=["GET"])
@api_contract("Check a receipt as a page (HTML, public): the form, prefilled from ?serial=&code= as printed on the "
              "receipt, and the answer; rate-limited per IP as GET /receipts/verify (the JSON check)", tag="repay",
              query=help_schemas.ReceiptCheckPageQuery, responses={200: None, 400: None, 429: None, 503: None},
              html=True)
def receipt_check_page():
    request = bp.current_request
    return replies.page(mymoney.receipt_check_page(httpio.parse_query(request, help_schemas.ReceiptCheckPageQuery),
                                                   httpio.client_key(request), viewer=help_door.viewer(request)))
