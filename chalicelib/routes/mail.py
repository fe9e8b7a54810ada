"""Replies by e-mail: the ``receive_mail`` function reads the inbound queue, where S3 announces each mail SES
stored (``infra/mail.py``), and hands each to ``escalation.inbound`` (docs/escalation.md, "Replies by e-mail")."""
from __future__ import annotations

import json
from urllib.parse import unquote_plus

from chalice import Blueprint

from chalicelib.config import settings
from chalicelib.edge.lazy import lazy_import
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import logger

inbound = lazy_import("chalicelib.escalation.inbound")

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
