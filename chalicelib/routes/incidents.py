"""Support that follows the money (``chalicelib/escalation/following.py``, ``incidents.py``): the owner's answer to
a repayment update in their 工单, settlement incidents for staff (list, read, one reply to all, close), and the
repayment-events worker through which a 工单 hears its repayment."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.config import settings
from chalicelib.edge import httpio, replies
from chalicelib.edge.lazy import lazy_import, lazy_schemas
from chalicelib.edge.openapi import api_contract
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import logger
from chalicelib.routes.auth import cognito_jwt

escalation = lazy_import("chalicelib.escalation.service")
esc_schemas = lazy_schemas("chalicelib.escalation.schemas")
inc_schemas = lazy_schemas("chalicelib.escalation.incident_schemas")

bp = Blueprint(__name__)


@bp.route("/support/cases/{case_id}/update-answer", methods=["POST"], authorizer=cognito_jwt)
@api_contract("The owner answers whether the linked repayment's update solves the problem (solved: the case "
              "closes with the owner's consent recorded; not solved: it stays open); 409 when nothing is asked",
              tag="escalation", body=inc_schemas.UpdateAnswer, headers=replies.OPTIONAL_IDEMPOTENCY_HEADER,
              responses={200: esc_schemas.CaseView}, errors=(400, 403, 404, 409, 422))
def case_update_answer(case_id):
    request = bp.current_request
    body = httpio.parse_body(request, inc_schemas.UpdateAnswer)
    return replies.idempotent_response(escalation.answer_update(
        httpio.actor(request), Context.current(), case_id, body.solved, replies.idempotency_key(request)))


@bp.route("/support/incidents", methods=["GET"], authorizer=cognito_jwt)
@api_contract("Settlement incidents, newest first (one kind of failure at one issuer, platform or biller past "
              "the threshold); support roles", tag="escalation", responses={200: inc_schemas.IncidentList},
              errors=(403,))
def list_incidents():
    return httpio.json_response(escalation.list_incidents(httpio.actor(bp.current_request)))


@bp.route("/support/incidents/{incident_id}", methods=["GET"], authorizer=cognito_jwt)
@api_contract("An incident with the 工单 grouped under it; support roles", tag="escalation",
              responses={200: inc_schemas.IncidentView}, errors=(403, 404))
def get_incident(incident_id):
    return httpio.json_response(escalation.get_incident(httpio.actor(bp.current_request), incident_id))


@bp.route("/support/incidents/{incident_id}/reply", methods=["POST"], authorizer=cognito_jwt)
@api_contract("One reply to every grouped 工单 still open (each user gets it in their own 工单, once per "
              "Idempotency-Key: a repeat completes and never duplicates); senior-support", tag="escalation",
              body=inc_schemas.IncidentReply, headers=replies.IDEMPOTENCY_HEADER,
              responses={200: inc_schemas.IncidentReplied}, errors=(400, 403, 404, 409, 422))
def reply_incident(incident_id):
    request = bp.current_request
    body = httpio.parse_body(request, inc_schemas.IncidentReply)
    return httpio.json_response(escalation.reply_all(httpio.actor(request), Context.current(), incident_id,
                                                     body.message, replies.idempotency_key(request)))


@bp.route("/support/incidents/{incident_id}/close", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Close an incident (it also closes by itself after a quiet window); senior-support",
              tag="escalation", responses={200: inc_schemas.IncidentView}, errors=(403, 404, 409))
def close_incident(incident_id):
    return httpio.json_response(escalation.close_incident(httpio.actor(bp.current_request), Context.current(),
                                                          incident_id))


@bp.on_sqs_message(queue=settings().repayment_events_queue, batch_size=10)
def hear_repayments(event):
    """Each record is one settlement outcome; the 工单 linked to its repayment hear it once (redelivery: no-op)."""
    failed = 0
    for record in event:
        try:
            escalation.hear_repayment(Context.current(), record.body)
        except Exception:
            logger.exception("repayment event not heard; the batch will be redelivered")
            failed += 1
    if failed:
        raise RuntimeError(f"{failed} repayment event(s) not heard")
