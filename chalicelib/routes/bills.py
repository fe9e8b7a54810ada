"""Bills (``chalicelib/bills``): the catalogue, saved bills, scheduled and automatic repayments, the notices inbox;
the sweep that fans the wake shards out and the workers that send reminders and run the schedules."""
from __future__ import annotations

from chalice import Blueprint, Rate

from chalicelib.config import settings
from chalicelib.edge import replies
from chalicelib.edge.lazy import lazy_import, lazy_schemas
from chalicelib.edge.openapi import api_contract
from chalicelib.routes.auth import cognito_jwt

bills = lazy_import("chalicelib.bills.service")
bills_schemas = lazy_schemas("chalicelib.bills.schemas")

bp = Blueprint(__name__)


@bp.route("/catalogue", methods=["GET"])
@api_contract("Card issuers, licensed loan platforms and billers per city (versioned configuration)", tag="bills",
              query=bills_schemas.CatalogueQuery, responses={200: bills_schemas.CatalogueView}, errors=(400, 404))
def bill_catalogue():
    return replies.answer(bp.current_request, lambda call: bills.catalogue(call.input, bills.current()),
                          query=bills_schemas.CatalogueQuery, headers={"Cache-Control": "public, max-age=300"})


@bp.route("/bills/lookup", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Look up a utility account at its biller: amount due and the masked account holder", tag="bills",
              body=bills_schemas.LookupBody, responses={200: bills_schemas.LookupView}, errors=(400, 422))
def lookup_bill():
    return replies.answer(bp.current_request, lambda call: bills.lookup(call.who, call.input, bills.current()),
                          body=bills_schemas.LookupBody)


@bp.route("/bills", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Save a bill (card: issuer + last 4 + token, never the number; loan; utility) with its due day "
              "and reminder preference", tag="bills", body=bills_schemas.NewBill,
              headers=replies.OPTIONAL_IDEMPOTENCY_HEADER, responses={201: bills_schemas.BillView},
              errors=(400, 409, 422))
def save_bill():
    return replies.replay(bp.current_request, "BILL", lambda call: bills.create_bill(call.who, call.input,
                                                                                     bills.current()),
                          body=bills_schemas.NewBill, status=201, location=lambda saved: f"/bills/{saved['id']}")


@bp.route("/bills", methods=["GET"], authorizer=cognito_jwt)
@api_contract("The caller's saved bills, newest first (opaque cursor)", tag="bills", query=bills_schemas.PageQuery,
              responses={200: bills_schemas.BillPage}, errors=(400,))
def list_bills():
    return replies.answer(bp.current_request, lambda call: bills.list_bills(call.who, call.input, bills.current()),
                          query=bills_schemas.PageQuery)


@bp.route("/bills/{bill_id}", methods=["GET"], authorizer=cognito_jwt)
@api_contract("One saved bill: next due date and next reminder", tag="bills",
              responses={200: bills_schemas.BillView}, errors=(404,))
def get_bill(bill_id):
    return replies.answer(bp.current_request, lambda call: bills.get_bill(call.who, bill_id, bills.current()))


@bp.route("/bills/{bill_id}", methods=["PATCH"], authorizer=cognito_jwt)
@api_contract("Change a bill's due day or date, reminders on/off, or name", tag="bills",
              body=bills_schemas.BillChange, responses={200: bills_schemas.BillView}, errors=(400, 404, 409, 422))
def change_bill(bill_id):
    return replies.answer(bp.current_request, lambda call: bills.update_bill(
        call.who, bill_id, call.input, bills.current()), body=bills_schemas.BillChange)


@bp.route("/bills/{bill_id}", methods=["DELETE"], authorizer=cognito_jwt)
@api_contract("Delete a saved bill (409 while a schedule of it is open)", tag="bills",
              responses={200: bills_schemas.Deleted}, errors=(404, 409))
def delete_bill(bill_id):
    return replies.answer(bp.current_request, lambda call: bills.delete_bill(call.who, bill_id, bills.current()))


@bp.route("/bills/{bill_id}/schedules", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Schedule a repayment of the bill: on a date, to arrive by the due date, or monthly autopay "
              "(utilities); above the step-up threshold it waits for the SMS code", tag="bills",
              body=bills_schemas.NewSchedule, headers=replies.OPTIONAL_IDEMPOTENCY_HEADER,
              responses={201: bills_schemas.ScheduleView}, errors=(400, 404, 409, 422))
def schedule_repayment(bill_id):
    return replies.replay(bp.current_request, f"SCHEDULE#{bill_id}", lambda call: bills.create_schedule(
        call.who, bill_id, call.input, bills.current()), body=bills_schemas.NewSchedule, status=201,
        location=lambda made: f"/schedules/{made['id']}")


@bp.route("/schedules", methods=["GET"], authorizer=cognito_jwt)
@api_contract("The caller's scheduled repayments, newest first, each with its history", tag="bills",
              query=bills_schemas.PageQuery, responses={200: bills_schemas.SchedulePage}, errors=(400,))
def list_schedules():
    return replies.answer(bp.current_request, lambda call: bills.list_schedules(
        call.who, call.input, bills.current()), query=bills_schemas.PageQuery)


@bp.route("/schedules/{schedule_id}", methods=["GET"], authorizer=cognito_jwt)
@api_contract("One scheduled repayment: when it runs and what ran", tag="bills",
              responses={200: bills_schemas.ScheduleView}, errors=(404,))
def get_schedule(schedule_id):
    return replies.answer(bp.current_request, lambda call: bills.get_schedule(call.who, schedule_id,
                                                                              bills.current()))


@bp.route("/schedules/{schedule_id}", methods=["PATCH"], authorizer=cognito_jwt)
@api_contract("Change a schedule until it starts (amount, date; 409 once started)", tag="bills",
              body=bills_schemas.ScheduleChange, responses={200: bills_schemas.ScheduleView},
              errors=(400, 404, 409, 422))
def change_schedule(schedule_id):
    return replies.answer(bp.current_request, lambda call: bills.change_schedule(
        call.who, schedule_id, call.input, bills.current()), body=bills_schemas.ScheduleChange)


@bp.route("/schedules/{schedule_id}/verify", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Confirm a large schedule with the SMS code (once; its runs need none)", tag="bills",
              body=bills_schemas.CodeBody, responses={200: bills_schemas.ScheduleView}, errors=(400, 404, 409, 422))
def verify_schedule(schedule_id):
    return replies.answer(bp.current_request, lambda call: bills.verify_schedule(
        call.who, schedule_id, call.input.code, bills.current()), body=bills_schemas.CodeBody)


@bp.route("/schedules/{schedule_id}/cancel", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Cancel a schedule until it starts (repeating it is harmless; 409 once started)", tag="bills",
              responses={200: bills_schemas.ScheduleView}, errors=(404, 409))
def cancel_schedule(schedule_id):
    return replies.answer(bp.current_request, lambda call: bills.cancel_schedule(call.who, schedule_id,
                                                                                 bills.current()))


@bp.route("/notices", methods=["GET"], authorizer=cognito_jwt)
@api_contract("The caller's in-app notices (reminders, repayment outcomes, schedule news; the SMS's words), "
              "newest first, with the unread count", tag="bills", query=bills_schemas.PageQuery,
              responses={200: bills_schemas.NoticePage}, errors=(400,))
def list_notices():
    return replies.answer(bp.current_request, lambda call: bills.list_notices(call.who, call.input, bills.current()),
                          query=bills_schemas.PageQuery)


@bp.route("/notices/unread", methods=["GET"], authorizer=cognito_jwt)
@api_contract("How many of the caller's notices are unread (the app's badge)", tag="bills",
              responses={200: bills_schemas.UnreadView})
def unread_notices():
    return replies.answer(bp.current_request, lambda call: bills.unread_notices(call.who, bills.current()))


@bp.route("/notices/{notice_id}/read", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Mark one of the caller's notices read (repeating it is harmless)", tag="bills",
              responses={200: bills_schemas.InboxNotice}, errors=(404,))
def read_notice(notice_id):
    return replies.answer(bp.current_request, lambda call: bills.read_notice(call.who, notice_id, bills.current()))


@bp.schedule(Rate(1, unit=Rate.MINUTES))
def bills_sweep(event):
    """Fan-out: one message per wake shard to the bills wake queue; the workers below do the sweeping."""
    bills.fan_out(bills.current())


@bp.on_sqs_message(queue=settings().bills_wake_queue, batch_size=1)
def bills_wake(event):
    """One shard of due-date reminders and scheduled repayments (sparse, time-bucketed index; no Scan), within
    the time budget; throughput grows with WAKE_SHARDS. An exception redelivers the message (safe: conditional)."""
    context = getattr(event, "context", None)
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    for record in event:
        bills.work(record.body, bills.current(),
                   time_left=(lambda: remaining() / 1000 - 10) if remaining else None)
