"""Drive the app's event handlers locally, as Lambda would on AWS.

``chalice local`` serves only HTTP. This runner reads ``app.event_sources`` (every blueprint's) and:
- for each ``on_sqs_message`` handler's queue, long-polls the queue in moto and
  invokes the handler with a Lambda-shaped SQS event, deleting the messages
  only when the handler returns (so a failure is redelivered, then dead-lettered);
  five batches at once (``LOCAL_SQS_POLLERS``; at most the handler's ``maximum_concurrency``),
  as Lambda starts with five — one at a time could not settle repayments as fast as 20
  clients pay (#21: 243 waiting after 3 minutes);
- for each ``schedule``, invokes the handler on its rate, or a ``cron(m/n …)``'s every n minutes
  (every ``LOCAL_SCHEDULE_SECONDS`` instead, when set — demos and e2e tests use a few seconds).
New domains need nothing here: declaring the handler in an area's blueprint (``chalicelib/routes/``) is enough.
"""
from __future__ import annotations

import importlib
import os
import re
import threading
import time
import traceback
import uuid

from chalice.app import ScheduledEventConfig, SQSEventConfig

import app as app_module
from chalicelib.adapters import aws
from chalicelib.config import settings
from chalicelib.kernel import clock
from devtools import lifeline

_stop = threading.Event()


class LocalContext:
    def __init__(self, name: str):
        self.function_name = name
        self.aws_request_id = str(uuid.uuid4())
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:{settings().region}:123456789012:function:{name}"
        self._deadline = time.monotonic() + 60

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _handler(config):
    """The function Lambda would call: ``handler_string`` names its module (a blueprint's) and attribute."""
    module, _, name = config.handler_string.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _schedule_seconds(expression) -> float:
    override = os.environ.get("LOCAL_SCHEDULE_SECONDS")
    if override:
        return float(override)
    text = expression if isinstance(expression, str) else expression.to_string()
    every = re.match(r"cron\(\d+/(\d+) ", text)  # cron(2/5 * * * ? *): every 5 minutes
    if every:
        return int(every.group(1)) * 60
    match = re.match(r"rate\((\d+) (minute|hour|day)s?\)", text)
    if not match:
        return 60.0
    return int(match.group(1)) * {"minute": 60, "hour": 3600, "day": 86400}[match.group(2)]


def pollers(config: SQSEventConfig) -> int:
    """How many batches of a queue are handled at once: ``LOCAL_SQS_POLLERS`` (5, as Lambda starts with five
    concurrent batches of an SQS queue), at most the handler's ``maximum_concurrency`` if it sets one."""
    count = max(1, int(os.environ.get("LOCAL_SQS_POLLERS") or 5))
    return min(count, config.maximum_concurrency) if config.maximum_concurrency else count


def poll_queue(config: SQSEventConfig) -> None:
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=config.queue)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    handler = _handler(config)
    while not _stop.is_set():
        try:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(config.batch_size or 1, 10),
                                           WaitTimeSeconds=1, AttributeNames=["All"],
                                           MessageAttributeNames=["All"]).get("Messages", [])
        except Exception:
            traceback.print_exc()
            time.sleep(1)
            continue
        if not messages:
            continue
        event = {"Records": [{
            "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
            "attributes": m.get("Attributes", {}), "messageAttributes": m.get("MessageAttributes", {}),
            "md5OfBody": m.get("MD5OfBody", ""), "eventSource": "aws:sqs", "eventSourceARN": arn,
            "awsRegion": settings().region,
        } for m in messages]}
        try:
            handler(event, LocalContext(config.name))
        except Exception:
            traceback.print_exc()  # left on the queue: redelivered after the visibility timeout
            continue
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])


def run_schedule(config: ScheduledEventConfig) -> None:
    handler = _handler(config)
    period = _schedule_seconds(config.schedule_expression)
    while not _stop.wait(period):
        event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
                 "source": "aws.events", "account": "123456789012",
                 "time": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),  # the app's clock (CLOCK_START)
                 "region": settings().region, "resources": [], "detail": {}}
        try:
            handler(event, LocalContext(config.name))
        except Exception:
            traceback.print_exc()


def start(source) -> list[threading.Thread]:
    """The threads that drive one event source: ``pollers(source)`` for an SQS queue, one for a schedule."""
    if isinstance(source, SQSEventConfig) and source.queue:
        target, copies = poll_queue, pollers(source)
    elif isinstance(source, ScheduledEventConfig):
        target, copies = run_schedule, 1
    else:
        return []
    threads = [threading.Thread(target=target, args=(source,), name=f"{source.name}-{i}", daemon=True)
               for i in range(copies)]
    for thread in threads:
        thread.start()
    return threads


def main() -> None:
    lifeline.exit_with_parent()
    for source in app_module.app.event_sources:
        threads = start(source)
        if threads:
            print(f"[events] {source.name}: {type(source).__name__}"
                  + (f" ×{len(threads)}" if len(threads) > 1 else ""), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        _stop.set()


if __name__ == "__main__":
    main()
