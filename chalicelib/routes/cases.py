"""The 工单 API (``chalicelib/escalation``): suggestions before opening, the owner's case (open, read, add,
confirm, rate, reopen, escalate, attachments, export), the staff's actions and queues, lifting a freeze, the
repayments behind a case; the sweep that warns, escalates and closes."""
from __future__ import annotations

from chalice import Blueprint, Rate

from chalicelib.adapters import ratelimit
from chalicelib.edge import httpio, replies
from chalicelib.edge.lazy import lazy_import, lazy_schemas
from chalicelib.edge.openapi import api_contract
from chalicelib.kernel.context import Context
from chalicelib.routes.auth import cognito_jwt

escalation = lazy_import("chalicelib.escalation.service")
esc_schemas = lazy_schemas("chalicelib.escalation.schemas")
repay_schemas = lazy_schemas("chalicelib.repay.schemas")

bp = Blueprint(__name__)

# The contract of a change to a case that answers the case (the owner's or staff's; a known key replays).
A_CASE_CHANGE = {"tag": "escalation", "headers": replies.OPTIONAL_IDEMPOTENCY_HEADER,
                 "responses": {200: esc_schemas.CaseView}, "errors": (403, 404, 409, 422)}


@bp.route("/support/suggestions", methods=["GET"], authorizer=cognito_jwt)
@api_contract("Knowledge-base articles that may already answer the question (before opening a case)",
              tag="escalation", query=esc_schemas.SuggestionQuery, responses={200: esc_schemas.Suggestions},
              errors=(400, 503))
def case_suggestions():
    return replies.answer(bp.current_request, lambda call: escalation.suggestions(call.input.q, call.who),
                          query=esc_schemas.SuggestionQuery)


@bp.route("/support/cases", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Open a case (account_security starts at senior with P1 and freezes repayments at once)",
              tag="escalation", body=esc_schemas.NewCase, headers=replies.OPTIONAL_IDEMPOTENCY_HEADER,
              responses={201: esc_schemas.CaseView}, errors=(409, 422, 429, 503))
def open_case():
    request = bp.current_request
    body = httpio.parse_body(request, esc_schemas.NewCase)
    who = httpio.actor(request)
    opened = escalation.open_case(who, Context.current(), category=body.category, description=body.description,
                                  repayment_id=body.repayment_id, idempotency_key=replies.idempotency_key(request),
                                  insist=body.insist,
                                  # each case texts the user and e-mails a team; a known key replays first
                                  limit=lambda: ratelimit.hit("case_open", who.user_id))
    return replies.idempotent_response(opened, {"Location": f"/support/cases/{opened.body['case_id']}"})


@bp.route("/support/cases/{case_id}/merge", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Staff merge a duplicate into another 工单 of the same user (closed with a pointer; the kept one "
              "keeps the earlier SLA clock); answers the kept 工单", body=esc_schemas.MergeInto, **A_CASE_CHANGE)
def merge_case(case_id):
    return replies.change(bp.current_request, lambda call: escalation.merge_case(
        call.who, call.context, case_id, call.input.into, call.key), body=esc_schemas.MergeInto)


@bp.route("/support/cases/{case_id}/unmerge", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Staff undo a merge within 24 h (later: 409 unmerge_window_passed); answers the kept 工单",
              **A_CASE_CHANGE)
def unmerge_case(case_id):
    return replies.change(bp.current_request, lambda call: escalation.unmerge_case(
        call.who, call.context, case_id, call.key))


@bp.route("/support/cases", methods=["GET"], authorizer=cognito_jwt)
@api_contract("The caller's cases, newest first", tag="escalation", responses={200: esc_schemas.CaseList})
def my_cases():
    return replies.answer(bp.current_request, lambda call: escalation.list_mine(call.who))


@bp.route("/support/cases/{case_id}", methods=["GET"], authorizer=cognito_jwt)
@api_contract("A case: step, status, deadline, timeline and what happens next (staff also see notes)",
              tag="escalation", responses={200: esc_schemas.CaseView}, errors=(404,))
def get_case(case_id):
    return replies.answer(bp.current_request, lambda call: escalation.get_case(call.who, call.context, case_id))


@bp.route("/support/cases/{case_id}/escalate", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Move the case one step up, once per Idempotency-Key (the owner: not solved — once the step has "
              "answered or its limit has lapsed, else 409 step_not_answered; staff: escalate)", tag="escalation",
              body=esc_schemas.Reason, headers=replies.IDEMPOTENCY_HEADER, responses={200: esc_schemas.CaseView},
              errors=(400, 403, 404, 409, 422))
def escalate_case(case_id):
    return replies.change(bp.current_request, lambda call: escalation.escalate(
        call.who, call.context, case_id, call.input.reason, call.key), body=esc_schemas.Reason)


@bp.route("/support/cases/{case_id}/messages", methods=["POST"], authorizer=cognito_jwt)
@api_contract("The owner adds information (resumes a clock paused while waiting on the user)",
              body=esc_schemas.UserMessage, **A_CASE_CHANGE)
def case_user_message(case_id):
    return replies.change(bp.current_request, lambda call: escalation.add_user_message(
        call.who, call.context, case_id, call.input.message, call.key), body=esc_schemas.UserMessage)


@bp.route("/support/cases/{case_id}/confirm", methods=["POST"], authorizer=cognito_jwt)
@api_contract("The owner confirms a resolved case is solved (closes it); with a body, rates it 1–5 with an "
              "optional comment (stored once, shown to staff)", tag="escalation", body=esc_schemas.Confirm,
              headers=replies.OPTIONAL_IDEMPOTENCY_HEADER, responses={200: esc_schemas.CaseView},
              errors=(400, 403, 404, 409, 422))
def confirm_case(case_id):
    return replies.change(bp.current_request, lambda call: escalation.confirm(   # no body: without a rating
        call.who, call.context, case_id, call.key, rating=call.input.rating if call.input else None,
        comment=call.input.comment if call.input else None), body=esc_schemas.Confirm, optional=True)


@bp.route("/support/cases/{case_id}/satisfaction", methods=["POST"], authorizer=cognito_jwt)
@api_contract("The owner rates a closed case 1–5 (once; a case confirmed with a rating is already rated: 409)",
              tag="escalation", body=esc_schemas.Confirm, responses={200: esc_schemas.CaseView},
              errors=(400, 403, 404, 409, 422))
def rate_case(case_id):
    return replies.answer(bp.current_request, lambda call: escalation.rate(
        call.who, call.context, case_id, call.input.rating, call.input.comment), body=esc_schemas.Confirm)


@bp.route("/support/cases/{case_id}/messages", methods=["GET"], authorizer=cognito_jwt)
@api_contract("The owner's conversation after a cursor (poll with ?after=<cursor> for new replies)",
              tag="escalation", query=esc_schemas.MessagesQuery, responses={200: esc_schemas.NewMessages},
              errors=(400, 403, 404))
def case_messages_since(case_id):
    return replies.answer(bp.current_request, lambda call: escalation.messages_since(
        call.who, call.context, case_id, call.input.after), query=esc_schemas.MessagesQuery)


@bp.route("/support/cases/{case_id}/attachments", methods=["POST"], authorizer=cognito_jwt)
@api_contract("A presigned S3 POST for one evidence file (PNG/JPEG/WebP/PDF, at most 10 MB) on the owner's own "
              "case; upload it straight to S3", tag="escalation", body=esc_schemas.AttachmentRequest,
              responses={201: esc_schemas.AttachmentUpload}, errors=(400, 403, 404, 409, 422, 429))
def case_attachment_upload(case_id):
    request = bp.current_request
    body = httpio.parse_body(request, esc_schemas.AttachmentRequest)
    caller = httpio.actor(request)
    ratelimit.hit("attachment_upload", caller.user_id)
    granted = escalation.attachment_upload(caller, Context.current(), case_id, body.filename, body.content_type,
                                           body.size)
    return httpio.json_response(granted, status=201)


@bp.route("/support/cases/{case_id}/attachments", methods=["GET"], authorizer=cognito_jwt)
@api_contract("A case's evidence attachments with short-lived download links (owner and staff)",
              tag="escalation", responses={200: esc_schemas.AttachmentList}, errors=(404,))
def case_attachments(case_id):
    return replies.answer(bp.current_request, lambda call: escalation.list_attachments(call.who, call.context, case_id))


@bp.route("/support/cases/{case_id}/reopen", methods=["POST"], authorizer=cognito_jwt)
@api_contract("The owner reopens a resolved case within 7 days (back to the step it was in)",
              body=esc_schemas.Reason, **A_CASE_CHANGE)
def reopen_case(case_id):
    return replies.change(bp.current_request, lambda call: escalation.reopen(
        call.who, call.context, case_id, call.input.reason, call.key), body=esc_schemas.Reason)


@bp.route("/support/cases/{case_id}/export", methods=["GET"], authorizer=cognito_jwt)
@api_contract("The case as JSON to attach to a complaint (with regulator/legal routes and evidence list)",
              tag="escalation", responses={200: esc_schemas.CaseExport}, errors=(404,))
def export_case(case_id):
    view = escalation.export(httpio.actor(bp.current_request), Context.current(), case_id)
    return httpio.json_response(view, headers={
        "Content-Disposition": f'attachment; filename="{view.reference}.json"'})


@bp.route("/support/cases/{case_id}/export.html", methods=["GET"], authorizer=cognito_jwt)
@api_contract("The case as a printable page (HTML)", tag="escalation", responses={200: None}, errors=(404,),
              html=True, path_ids=True)
def export_case_html(case_id):
    return httpio.html_response(escalation.export_html(httpio.actor(bp.current_request), Context.current(), case_id))


@bp.route("/support/cases/{case_id}/assign", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Assign the case to the caller, or to a registered agent named (capacity checked); support roles",
              body=esc_schemas.Assign, **A_CASE_CHANGE)
def assign_case(case_id):
    return replies.change(bp.current_request, lambda call: escalation.assign(
        call.who, call.context, case_id, call.input.assignee, call.key), body=esc_schemas.Assign)


@bp.route("/support/cases/{case_id}/notes", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Add an internal note (never shown to the user); support roles", tag="escalation",
              body=esc_schemas.Note, headers=replies.OPTIONAL_IDEMPOTENCY_HEADER,
              responses={201: esc_schemas.NoteAdded}, errors=(403, 404, 409, 422))
def note_case(case_id):
    return replies.change(bp.current_request, lambda call: escalation.add_note(
        call.who, call.context, case_id, call.input.text, call.key), body=esc_schemas.Note)


@bp.route("/support/cases/{case_id}/reply", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Reply to the user (the step's response; await_user pauses the clock); support roles",
              body=esc_schemas.Reply, **A_CASE_CHANGE)
def reply_case(case_id):
    return replies.change(bp.current_request, lambda call: escalation.reply(
        call.who, call.context, case_id, call.input.message, call.input.await_user, call.key), body=esc_schemas.Reply)


@bp.route("/support/cases/{case_id}/resolve", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Resolve the case (the user may confirm or reopen within 7 days); support roles",
              body=esc_schemas.Resolve, **A_CASE_CHANGE)
def resolve_case(case_id):
    return replies.change(bp.current_request, lambda call: escalation.resolve(
        call.who, call.context, case_id, call.input.summary, call.key), body=esc_schemas.Resolve)


@bp.route("/support/cases/{case_id}/repayments", methods=["GET"], authorizer=cognito_jwt)
@api_contract("The repayment(s) behind a case, for staff who may act on its step; each read leaves an access "
              "record (who, whose data, when; card last-4 only)", tag="escalation",
              responses={200: repay_schemas.StaffRepayments}, errors=(403, 404))
def case_repayments(case_id):
    return replies.answer(bp.current_request, lambda call: escalation.case_repayments(call.who, call.context, case_id))


@bp.route("/support/queues/{step}", methods=["GET"], authorizer=cognito_jwt)
@api_contract("Open cases of a step, nearest deadline first (opaque cursor); support roles", tag="escalation",
              query=esc_schemas.QueueQuery, responses={200: esc_schemas.QueuePage}, errors=(400, 403, 404))
def support_queue(step):
    return replies.answer(bp.current_request, lambda call: escalation.queue(
        call.who, step, limit=call.input.limit, cursor=call.input.cursor), query=esc_schemas.QueueQuery)


@bp.route("/support/cases/search", methods=["GET"], authorizer=cognito_jwt)
@api_contract("Find 工单 by reference (lower case / full width accepted), user name, repayment id, words, or the "
              "phone's last four digits and a day; filters, newest first, opaque cursor; support roles; a search by "
              "user name or phone leaves an access record",
              tag="escalation", query=esc_schemas.CaseSearchQuery, responses={200: esc_schemas.CaseSearchPage},
              errors=(400, 403))
def search_cases():
    request = bp.current_request
    query = httpio.parse_query(request, esc_schemas.CaseSearchQuery)
    return httpio.json_response(escalation.search(httpio.actor(request), Context.current(), query))


@bp.route("/support/accounts/{user_id}/unfreeze", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Lift a security freeze on a user's repayments (senior-support only)", tag="escalation",
              responses={200: esc_schemas.AccountFreeze}, errors=(400, 403))
def unfreeze_account(user_id):
    return replies.answer(bp.current_request, lambda call: escalation.unfreeze(call.who, call.context, user_id))


@bp.schedule(Rate(1, unit=Rate.MINUTES))
def escalation_sweep(event):
    """Warn teams before deadlines, escalate lapsed steps, auto-close resolved cases after 7 days."""
    escalation.sweep(Context.current())
