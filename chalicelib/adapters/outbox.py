"""Transactional outbox: at-least-once delivery of messages caused by a state change.

A domain adds ``add(uow, message)`` to the *same* unit of work as the state
change it announces (``chalicelib/adapters/unit_of_work.py``; ``put`` is the
DynamoDB element it adds), so the change and the promise to announce it commit
together. ``deliver(ids)`` then tries to send at once; ``drain()`` (scheduled
every minute) sends whatever is still pending — SNS down at the moment of the
move loses nothing. Sending is guarded by a short lease so two senders don't
race; a crash between sending and marking sent can still repeat a message, so
every message carries its id (SQS/SNS attribute ``message_id``) and consumers
call ``first_delivery`` to see each message once.

Channels: ``sqs`` (a queue), ``sns`` (a topic), ``email`` (an address: the teams'), ``sms`` and ``user_email``
(a Cognito username: the phone or the *verified* e-mail address is looked up at send time, so neither is ever
stored here). ``user_email`` goes out with SES ``SendRawEmail`` carrying the message's ``headers`` (Reply-To,
Message-ID, References, In-Reply-To: ``escalation/replymail.py``); a user without a verified address gets none.
"""
from __future__ import annotations

import datetime as dt
import functools
import heapq
import itertools
import json
import random
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate

from chalicelib.adapters import aws, mailbox, queues, shards, sms
from chalicelib.adapters.backends import Backend
from chalicelib.config import settings
from chalicelib.kernel import clock
from chalicelib.kernel.logs import logger, metric

CHANNELS = ("sqs", "sns", "email", "sms", "user_email")
PENDING_PK = "PENDING"
LEASE = dt.timedelta(seconds=30)
MAX_ATTEMPTS = 12          # ~ 1 day of retries with the backoff below
KEEP_SENT = dt.timedelta(days=7)


@dataclass(frozen=True)
class Message:
    channel: str   # sqs | sns | email | sms | user_email
    target: str    # queue name | topic name | e-mail address | Cognito username (sms, user_email: looked up at send)
    body: str
    subject: str | None = None
    message_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    headers: dict[str, str] = field(default_factory=dict, hash=False)   # user_email: Reply-To, threading

    def __post_init__(self):
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown outbox channel {self.channel!r}")


def pending_key(message_id: str) -> str:
    """The ``pending`` index partition of a message: every state change writes one, so the index is
    write-sharded (``OUTBOX_SHARDS``, crc32 of the id, shard 0 = ``PENDING``; docs/scale.md)."""
    return shards.shard_key(PENDING_PK, shards.shard_of(message_id, settings().outbox_shards))


def put(message: Message, *, not_before: dt.datetime | None = None) -> dict:
    """One ``TransactWriteItems`` element that records ``message`` as pending; with ``not_before``
    (a user's quiet hours, ``chalicelib/notices/``) neither ``deliver`` nor ``drain`` sends it earlier."""
    now = clock.isoformat(clock.now())
    due = max(now, clock.isoformat(not_before)) if not_before else now
    item = {
        "pk": f"MSG#{message.message_id}", "sk": "MSG",
        "channel": message.channel, "target": message.target, "body": message.body,
        "subject": message.subject, "status": "pending", "attempts": 0, "created_at": now,
        **({"headers": dict(message.headers)} if message.headers else {}),
        "pending_pk": pending_key(message.message_id), "pending_sk": f"{due}#{message.message_id}", "lease_until": "",
    }
    return {"Put": {"TableName": settings().outbox_table, "Item": aws.attributes(item),
                    "ConditionExpression": "attribute_not_exists(pk)"}}


def add(uow, message: Message, *, not_before: dt.datetime | None = None, name: str | None = None) -> str:
    """Record ``message`` as pending in the unit of work ``uow`` (``chalicelib/adapters/unit_of_work.py``), as
    ``name`` (default ``outbox:<id>``); its id, to ``deliver`` once the unit of work committed."""
    memory = twin()
    element = memory.element(message, not_before) if memory is not None else put(message, not_before=not_before)
    uow.add(name or f"outbox:{message.message_id}", element)
    return message.message_id


def deliver(message_ids: list[str]) -> None:
    """Best effort, right after the transaction committed; whatever fails waits for ``drain``."""
    memory = twin()
    if memory is not None:
        memory.deliver(message_ids)
        return
    table = aws.table(settings().outbox_table)
    for message_id in message_ids:
        try:
            item = table.get_item(Key={"pk": f"MSG#{message_id}", "sk": "MSG"}).get("Item")
            due = (item or {}).get("pending_sk", "")
            if item and item.get("status") == "pending" and due <= f"{clock.isoformat(clock.now())}#~":
                _try_send(item)   # one deferred to later (quiet hours) waits for the drain
        except Exception:  # the change is committed: whatever goes wrong here, the drain retries it
            logger.warning("outbox immediate delivery deferred", extra={"message_id": message_id}, exc_info=True)


def drain(limit: int = 100) -> int:
    """Send due pending messages (oldest first); returns how many were sent."""
    table = aws.table(settings().outbox_table)
    now = clock.isoformat(clock.now())

    def due(partition: str) -> list[dict]:
        return table.query(IndexName="pending", KeyConditionExpression="pending_pk = :p AND pending_sk <= :now",
                           ExpressionAttributeValues={":p": partition, ":now": f"{now}#~"}, Limit=limit)["Items"]
    partitions = shards.shard_keys(PENDING_PK, settings().outbox_shards)
    oldest = heapq.merge(*(due(p) for p in partitions), key=lambda item: item["pending_sk"])
    return sum(1 for item in itertools.islice(oldest, limit) if _try_send(item))


def _try_send(item: dict) -> bool:
    table = aws.table(settings().outbox_table)
    key = {"pk": item["pk"], "sk": "MSG"}
    now = clock.now()
    try:  # take the lease: only one sender at a time per message
        table.update_item(
            Key=key,
            UpdateExpression="SET lease_until = :lease",
            ConditionExpression="#s = :pending AND lease_until < :now",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":lease": clock.isoformat(now + LEASE), ":pending": "pending",
                                       ":now": clock.isoformat(now)},
        )
    except aws.ClientError as exc:
        if aws.is_condition_failure(exc):
            return False
        raise
    message_id = item["pk"].split("#", 1)[1]
    try:
        _send(item["channel"], item["target"], item["body"], item.get("subject"), message_id,
              dict(item.get("headers") or {}))
    except Exception as exc:  # any failure: back off and try later; never lose the message
        attempts = int(item.get("attempts", 0)) + 1
        error = type(exc).__name__
        if attempts >= MAX_ATTEMPTS:
            table.update_item(
                Key=key,
                UpdateExpression="SET #s = :dead, attempts = :a, last_error = :e REMOVE pending_pk, pending_sk",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":dead": "dead", ":a": attempts, ":e": error})
            logger.error("outbox message undeliverable",
                         extra={"message_id": message_id, "channel": item["channel"]})
            metric("OutboxDead")  # one alarm watches it (dimension: service only)
            return False
        delay = min(2 ** attempts * 5, 900) * random.uniform(0.8, 1.2)
        due = clock.isoformat(now + dt.timedelta(seconds=delay))
        table.update_item(
            Key=key, UpdateExpression="SET attempts = :a, last_error = :e, pending_sk = :due, lease_until = :free",
            ExpressionAttributeValues={":a": attempts, ":e": error, ":due": f"{due}#{message_id}", ":free": ""})
        logger.warning("outbox delivery failed, will retry",
                       extra={"message_id": message_id, "channel": item["channel"],
                              "attempt": attempts, "error": error})
        return False
    table.update_item(
        Key=key, UpdateExpression="SET #s = :sent, sent_at = :t, expires_at = :exp REMOVE pending_pk, pending_sk",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":sent": "sent", ":t": clock.isoformat(clock.now()),
                                   ":exp": int((clock.now() + KEEP_SENT).timestamp())})
    return True


def _send(channel: str, target: str, body: str, subject: str | None, message_id: str,
          headers: dict[str, str] | None = None) -> None:
    attributes = {"message_id": {"DataType": "String", "StringValue": message_id}}
    if channel == "sqs":
        aws.client("sqs").send_message(QueueUrl=queues.queue_url(target), MessageBody=body,
                                       MessageAttributes=attributes)
    elif channel == "sns":
        # No SNS Subject: it must be ASCII, and our subjects are Chinese; the body says it all.
        aws.client("sns").publish(TopicArn=_topic_arn(target), Message=body, MessageAttributes=attributes)
    elif channel == "email":
        aws.client("ses").send_email(
            Source=settings().sender_email, Destination={"ToAddresses": [target]},
            Message={"Subject": {"Data": subject or "RepayDesk", "Charset": "UTF-8"},
                     "Body": {"Text": {"Data": body, "Charset": "UTF-8"}}})
    elif channel == "user_email":
        address = mailbox.verified_email(target)
        if not address:   # no verified address: nothing to send, nothing to retry
            logger.info("user e-mail skipped: no verified address", extra={"message_id": message_id})
            return
        raw = user_mail(address, subject or "RepayDesk", body, headers or {})
        aws.client("ses").send_raw_email(Source=settings().sender_email, RawMessage={"Data": raw})
    elif channel == "sms":
        phone = sms.user_phone(target)
        if not phone:
            raise LookupError("user has no phone number")
        sms.send_sms(phone, body)


def user_mail(address: str, subject: str, body: str, headers: dict[str, str]) -> bytes:
    """The raw e-mail to a user: From our sender, the message's own headers (Reply-To, threading), plain text
    in UTF-8, ``Auto-Submitted: auto-generated`` (RFC 3834: vacation responders leave it unanswered)."""
    mail = EmailMessage()
    mail["From"] = f"RepayDesk <{settings().sender_email}>"
    mail["To"] = address
    mail["Subject"] = subject
    mail["Date"] = formatdate(clock.now().timestamp(), usegmt=True)
    mail["Auto-Submitted"] = "auto-generated"
    for name, value in headers.items():
        mail[name] = value
    mail.set_content(body, charset="utf-8")
    return mail.as_bytes()


@functools.cache
def _account_id() -> str:
    return aws.client("sts").get_caller_identity()["Account"]


def _topic_arn(name: str) -> str:
    return f"arn:aws:sns:{settings().region}:{_account_id()}:{name}"


def message_id_of(sqs_record: dict) -> str:
    """The outbox id carried by an SQS record (raw SNS delivery keeps message attributes)."""
    attributes = sqs_record.get("messageAttributes") or sqs_record.get("MessageAttributes") or {}
    value = attributes.get("message_id") or {}
    return (value.get("stringValue") or value.get("StringValue")
            or sqs_record.get("messageId") or sqs_record["MessageId"])


def first_delivery(message_id: str, consumer: str) -> bool:
    """True the first time ``consumer`` sees ``message_id`` (a conditional put remembers it for 7 days)."""
    try:
        aws.client("dynamodb").put_item(
            TableName=settings().outbox_table,
            Item=aws.attributes({"pk": f"SEEN#{consumer}#{message_id}", "sk": "SEEN",
                             "expires_at": int((clock.now() + KEEP_SENT).timestamp())}),
            ConditionExpression="attribute_not_exists(pk)")
    except aws.ClientError as exc:
        if aws.is_condition_failure(exc):
            return False
        raise
    return True


# ---------------------------------------------------------------- the in-memory twin (the fast test tier)
class InMemoryOutbox:
    """The outbox without AWS: ``pending`` messages (with the moment they may go) and those ``sent``, in order.
    Same promise: a message exists exactly when the unit of work that added it committed."""

    def __init__(self) -> None:
        self.pending: dict[str, tuple[Message, dt.datetime]] = {}
        self.sent: list[Message] = []

    def element(self, message: Message, not_before: dt.datetime | None):
        from chalicelib.adapters.unit_of_work import Change
        due = max(clock.now(), not_before) if not_before else clock.now()

        def unknown() -> bool:
            return message.message_id not in self.pending and all(m.message_id != message.message_id
                                                                  for m in self.sent)

        def apply() -> None:
            self.pending[message.message_id] = (message, due)

        return Change(holds=unknown, apply=apply)

    def deliver(self, message_ids: list[str]) -> None:
        now = clock.now()
        for message_id in message_ids:
            found = self.pending.get(message_id)
            if found and found[1] <= now:
                self.sent.append(self.pending.pop(message_id)[0])

    def messages(self) -> list[Message]:
        """Every message recorded, sent or pending."""
        return self.sent + [m for m, _ in self.pending.values()]


twin = Backend(None)   # the in-memory twin a test put in place of the outbox table (``use``); None: DynamoDB
use = twin.use


def reset_caches() -> None:
    _account_id.cache_clear()


def as_json(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True)
