"""The outbox's pending index is write-sharded (PENDING[#<shard>]); the drain merges the shards, oldest first."""
import datetime as dt

from chalicelib import config
from chalicelib.adapters import aws as aws_clients
from chalicelib.adapters import outbox, shards
from chalicelib.config import settings
from chalicelib.kernel import clock


def _pending() -> dict[str, list[str]]:
    """Message bodies still pending, by index partition."""
    table = aws_clients.table(settings().outbox_table)
    return {pk: [i["body"] for i in table.query(IndexName="pending",
                                                KeyConditionExpression=aws_clients.Key("pending_pk").eq(pk))["Items"]]
            for pk in shards.shard_keys(outbox.PENDING_PK, settings().outbox_shards)}


def test_the_drain_sends_the_oldest_pending_messages_of_every_shard_first(aws, monkeypatch):
    monkeypatch.setenv("OUTBOX_SHARDS", "4")
    config.reload()
    clock.freeze(dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC))
    bodies = [f"message {n:02d}" for n in range(16)]
    for n, body in enumerate(bodies):  # committed, never delivered at once (as if SQS had been down)
        message = outbox.Message("sqs", settings().settlement_queue, body, message_id=f"msg-{n:02d}")
        aws_clients.client("dynamodb").transact_write_items(TransactItems=[outbox.put(message)])
        clock.advance(dt.timedelta(seconds=1))
    spread = _pending()
    assert sorted(b for found in spread.values() for b in found) == bodies
    assert all(spread.values()), spread  # every shard holds some

    assert outbox.drain(limit=6) == 6
    assert sorted(b for found in _pending().values() for b in found) == bodies[6:]  # the six oldest went first
    assert outbox.drain(limit=100) == 10
    assert not any(_pending().values())
    clock.reset()
