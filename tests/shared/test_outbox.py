"""The outbox: nothing lost when a channel is down, nothing seen twice by a consumer."""
import datetime as dt
import json

import pytest
from botocore.exceptions import ClientError

from chalicelib.adapters import aws as aws_clients
from chalicelib.adapters import outbox
from chalicelib.config import settings
from chalicelib.kernel import clock


def _commit(*messages):
    aws_clients.client("dynamodb").transact_write_items(TransactItems=[outbox.put(m) for m in messages])


def _receive(queue_name):
    sqs = aws_clients.client("sqs")
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    out = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                    MessageAttributeNames=["All"]).get("Messages", [])
        if not batch:
            return out
        out.extend(batch)
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                       for i, m in enumerate(batch)])


def test_message_is_delivered_once_and_marked_sent(aws):
    message = outbox.Message("sqs", settings().settlement_queue, outbox.as_json({"hello": "世界"}))
    _commit(message)
    outbox.deliver([message.message_id])
    received = _receive(settings().settlement_queue)
    assert [json.loads(m["Body"]) for m in received] == [{"hello": "世界"}]
    assert received[0]["MessageAttributes"]["message_id"]["StringValue"] == message.message_id
    assert outbox.drain() == 0  # nothing left pending
    assert _receive(settings().settlement_queue) == []


def test_outage_then_recovery_delivers_everything_later(aws, monkeypatch):
    clock.freeze(dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC))
    messages = [outbox.Message("sqs", settings().settlement_queue, f"m{i}") for i in range(3)]
    _commit(*messages)
    real_send = outbox._send

    def down(*args, **kwargs):
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "SendMessage")
    monkeypatch.setattr(outbox, "_send", down)
    outbox.deliver([m.message_id for m in messages])
    assert outbox.drain() == 0
    assert _receive(settings().settlement_queue) == []

    monkeypatch.setattr(outbox, "_send", real_send)
    assert outbox.drain() == 0, "backoff: not due yet"
    clock.advance(dt.timedelta(minutes=20))
    assert outbox.drain() == 3
    assert sorted(m["Body"] for m in _receive(settings().settlement_queue)) == ["m0", "m1", "m2"]


def test_lease_stops_two_senders_sending_the_same_message(aws):
    message = outbox.Message("sqs", settings().settlement_queue, "once")
    _commit(message)
    key = {"pk": f"MSG#{message.message_id}", "sk": "MSG"}
    item = aws_clients.table(settings().outbox_table).get_item(Key=key)["Item"]
    assert outbox._try_send(item) is True
    assert outbox._try_send(item) is False
    assert [m["Body"] for m in _receive(settings().settlement_queue)] == ["once"]


def test_consumer_sees_each_message_id_once(aws):
    assert outbox.first_delivery("abc", "senior-queue") is True
    assert outbox.first_delivery("abc", "senior-queue") is False
    assert outbox.first_delivery("abc", "other-consumer") is True


def test_unknown_channel_is_refused():
    with pytest.raises(ValueError):
        outbox.Message("fax", "x", "y")


@pytest.mark.parametrize("channel", ["sqs", "sns", "email", "sms"])
def test_each_channel_survives_an_outage_of_its_service(aws, make_user, monkeypatch, channel):
    """SQS, SNS, SES or SMS down at the moment of the change: delivered once it is back."""
    import botocore.client
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses import ses_backends
    from moto.sns import sns_backends

    make_user("carol", phone="+8613800138009")
    sns = aws_clients.client("sns")
    topic_arn = sns.create_topic(Name="outage-topic")["TopicArn"]
    url = aws_clients.client("sqs").create_queue(QueueName="outage-topic-queue")["QueueUrl"]
    queue_arn = aws_clients.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    target = {"sqs": settings().settlement_queue, "sns": "outage-topic", "email": "senior@repaydesk.example.com",
              "sms": "carol"}[channel]
    service = {"sqs": "sqs", "sns": "sns", "email": "ses", "sms": "sns"}[channel]
    real_call = botocore.client.BaseClient._make_api_call

    def outage(self, operation, params):
        if self.meta.service_model.service_name == service and operation in ("SendMessage", "Publish", "SendEmail"):
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, operation)
        return real_call(self, operation, params)

    clock.freeze(dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC))
    message = outbox.Message(channel, target, "案件已升级", subject="案件升级")
    _commit(message)
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", outage)
    outbox.deliver([message.message_id])
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", real_call)
    clock.advance(dt.timedelta(minutes=20))
    assert outbox.drain() == 1
    assert outbox.drain() == 0

    region = settings().region
    if channel == "sqs":
        assert [m["Body"] for m in _receive(target)] == ["案件已升级"]
    elif channel == "sns":
        assert [m["Body"] for m in _receive("outage-topic-queue")] == ["案件已升级"]
    elif channel == "email":
        sent = ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages
        assert [m.destinations["ToAddresses"] for m in sent] == [["senior@repaydesk.example.com"]]
    else:
        texts = list(sns_backends[DEFAULT_ACCOUNT_ID][region].sms_messages.values())
        assert texts == [("+8613800138009", "案件已升级")]
