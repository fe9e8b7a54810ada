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
from chalicelib.routes.page_table import add_page_routes
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


# ---------------------------------------------------------------- 我的工单 and 我的还款
# METHOD  path  view name  function of mycases / mymoney  [script: a page script's JSON]
add_page_routes(bp, mycases, """
    GET   /help/cases                                          my_cases_page             list_page
    POST  /help/cases                                          my_case_create            create
    GET   /help/cases/new                                      my_case_new               new_page
    GET   /help/cases/suggestions                              my_case_suggestions       suggestions       script
    POST  /help/cases/deflections                              my_case_deflection        deflection        script
    POST  /help/cases/{case_id}/reply                          my_case_reply             reply
    POST  /help/cases/{case_id}/update-answer                  my_case_update_answer     update_answer
    POST  /help/cases/{case_id}/confirm                        my_case_confirm           confirm
    POST  /help/cases/{case_id}/satisfaction                   my_case_rate              rate
    POST  /help/cases/{case_id}/reopen                         my_case_reopen            reopen
    POST  /help/cases/{case_id}/escalate                       my_case_escalate          escalate
    # the page's script asks for a presigned S3 POST (JSON), then uploads the file straight to S3
    POST  /help/cases/{case_id}/attachments                    my_case_attachment_grant  attachment_grant  script
    GET   /help/cases/{case_id}/messages                       my_case_messages          messages          script
    GET   /help/cases/{case_id}/export.html                    my_case_export            export_page
    GET   /help/cases/{case_id}/attachments/{attachment_id}    my_case_attachment        attachment_download
""")
add_page_routes(bp, mymoney, """
    GET   /help/repayments                                     my_repayments_page        list_page
    GET   /help/repayments/{repayment_id}                      my_repayment_page         detail_page
    POST  /help/repayments/{repayment_id}/retry                my_repayment_retry        retry
    GET   /help/repayments/{repayment_id}/receipt              my_repayment_receipt      receipt_page
    GET   /help/bills                                          my_bills_page             bills_page
    POST  /help/bills/{bill_id}/reminders                      my_bill_reminders         bill_reminders
    GET   /help/notices                                        my_notices_page           notices_page
    POST  /help/notices/{notice_id}/read                       my_notice_read            read_notice
""")


@bp.route("/help/cases/{case_id}", methods=["GET"])
@api_contract("「我的工单」: one 工单 as a page (HTML; the help-door session cookie, without one 303 to /help/login; "
              "someone else's 工单 is a 404 page)", tag="escalation", responses={200: None, 404: None}, html=True)
def my_case_page(case_id):
    return replies.page(mycases.case_page(bp.current_request, case_id))


@bp.route("/help/receipts/verify", methods=["GET"])
@api_contract("Check a receipt as a page (HTML, public): the form, prefilled from ?serial=&code= as printed on the "
              "receipt, and the answer; rate-limited per IP as GET /receipts/verify (the JSON check)", tag="repay",
              query=help_schemas.ReceiptCheckPageQuery, responses={200: None, 400: None, 429: None, 503: None},
              html=True)
def receipt_check_page():
    request = bp.current_request
    return replies.page(mymoney.receipt_check_page(httpio.parse_query(request, help_schemas.ReceiptCheckPageQuery),
                                                   httpio.client_key(request), viewer=help_door.viewer(request)))
