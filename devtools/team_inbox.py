"""Read what a support team received: its SQS queue (fed by the step's SNS topic), deduplicated.

    .venv/bin/python -m devtools.team_inbox senior            # print and consume the senior team's messages
    .venv/bin/python -m devtools.team_inbox senior --peek     # print up to 10 without deleting

Needs the local stack's AWS_ENDPOINT_URL (``make serve`` uses http://127.0.0.1:5500). A team's
tooling reads the queue the same way: each message carries the outbox id as the
``message_id`` attribute, and ``outbox.first_delivery`` drops redeliveries.
"""
from __future__ import annotations

import argparse
import json
import os

from chalicelib.adapters import aws, outbox
from chalicelib.config import settings


def queue_url(team: str) -> str:
    return aws.client("sqs").get_queue_url(QueueName=settings().team_queue_prefix + team)["QueueUrl"]


def receive(team: str, *, consumer: str | None = None, delete: bool = True, wait_seconds: int = 0,
            max_batches: int = 20) -> list[dict]:
    """Messages now on the team's queue, each once per ``consumer`` (parsed JSON bodies + message_id)."""
    sqs, url = aws.client("sqs"), queue_url(team)
    consumer = consumer or f"team-{team}"
    seen: list[dict] = []
    for _ in range(max_batches if delete else 1):  # a peek reads one batch and leaves it visible
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds,
                                    MessageAttributeNames=["All"],
                                    **({} if delete else {"VisibilityTimeout": 0})).get("Messages", [])
        if not batch:
            break
        for message in batch:
            message_id = outbox.message_id_of(message)
            if not delete or outbox.first_delivery(message_id, consumer):
                seen.append({"message_id": message_id, **json.loads(message["Body"])})
            if delete:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        wait_seconds = 0
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("team", help="frontline | senior | public-feedback | legal")
    parser.add_argument("--peek", action="store_true", help="leave the messages on the queue")
    args = parser.parse_args()
    os.environ.setdefault("AWS_ENDPOINT_URL", f"http://127.0.0.1:{os.environ.get('MOTO_PORT', '5500')}")
    for key, value in {"AWS_DEFAULT_REGION": "ap-southeast-1", "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        os.environ.setdefault(key, value)
    for item in receive(args.team, delete=not args.peek, wait_seconds=1):
        print(json.dumps(item, ensure_ascii=False))


if __name__ == "__main__":
    main()
