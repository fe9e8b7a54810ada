"""Replies by e-mail: the ``receive_mail`` function reads the inbound queue, where S3 announces each mail SES
stored (``infra/mail.py``), and hands each to ``escalation.inbound`` (docs/escalation.md, "Replies by e-mail");
the leads' quarantine: ``/support/mail/quarantine`` (JSON) and the ``/agent/mail`` page (``web/mail_desk.py``),
both over the same service functions and their senior-support check."""
from __future__ import annotations

import json
from urllib.parse import unquote_plus

from chalice import Blueprint

from chalicelib.config import settings
from chalicelib.edge import replies
from chalicelib.edge.lazy import lazy_import, lazy_schemas
from chalicelib.edge.openapi import api_contract
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import logger
from chalicelib.routes.auth import cognito_jwt
from chalicelib.routes.page_table import add_page_routes

inbound = lazy_import("chalicelib.escalation.inbound")
escalation = lazy_import("chalicelib.escalation.service")
mail_schemas = lazy_schemas("chalicelib.escalation.quarantine_schemas")
desk = lazy_import("chalicelib.web.mail_desk")

bp = Blueprint(__name__)


def stored_mails(body: str) -> list[tuple[str, str]]:
    """(bucket, key) of each object an S3 notification names; S3's test event and anything unreadable: none."""
    try:
        records = json.loads(body).get("Records") or []
        return [(r["s3"]["bucket"]["name"], unquote_plus(r["s3"]["object"]["key"])) for r in records]
    except (ValueError, KeyError, TypeError, AttributeError):
        return []


@bp.on_sqs_message(queue=settings().inbound_mail_queue, batch_size=1)
def receive_mail(event):
    """Each mail once: added to its 工单 or quarantined. An unexpected error is raised: SQS redelivers (a mail
    already added is recognised by its Message-ID), then dead-letters."""
    for record in event:
        for bucket, key in stored_mails(record.body):
            try:
                result = inbound.receive_object(bucket, key, Context.current())
            except ValueError:
                logger.warning("inbound notification for another bucket or prefix, dropped")
                continue
            logger.info("inbound mail handled", extra={"outcome": result.outcome, "reason": result.reason})


@bp.route("/support/mail/quarantine", methods=["GET"], authorizer=cognito_jwt)
@api_contract("Quarantined inbound mails, newest first (opaque cursor; sender masked); senior-support",
              tag="escalation",
              query=mail_schemas.QuarantineQuery, responses={200: mail_schemas.QuarantinePage}, errors=(400, 403))
def quarantined_mails():
    return replies.answer(bp.current_request, lambda call: escalation.quarantine_page(
        call.who, limit=call.input.limit, cursor=call.input.cursor), query=mail_schemas.QuarantineQuery)


@bp.route("/support/mail/quarantine/{qid}/release", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Release a quarantined mail into its 工单 as the user's message (releasable reasons only; recorded on "
              "the 工单 timeline); senior-support", tag="escalation", responses={200: mail_schemas.QuarantinedMail},
              errors=(403, 404, 409))
def release_quarantined_mail(qid):
    return replies.answer(bp.current_request, lambda call: escalation.release_mail(call.who, call.context, qid))


@bp.route("/support/mail/quarantine/{qid}/discard", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Discard a quarantined mail (kept listed with who and when); senior-support", tag="escalation",
              responses={200: mail_schemas.QuarantinedMail}, errors=(403, 404, 409))
def discard_quarantined_mail(qid):
    return replies.answer(bp.current_request, lambda call: escalation.discard_mail(call.who, call.context, qid))


# METHOD  path  view name  function of chalicelib/web/mail_desk.py (the leads' quarantine page)
add_page_routes(bp, desk, """
    GET   /agent/mail                        agent_mail              page
    POST  /agent/mail/{qid}/release          agent_mail_release      release
    POST  /agent/mail/{qid}/discard          agent_mail_discard      discard
""")
