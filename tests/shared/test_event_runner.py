"""The local event runner handles an SQS queue as Lambda does: five batches at once (#21)."""
import os
import threading
import time

import pytest
from chalice.app import SQSEventConfig

# Under libfaketime (make test-any-hour) a timed wait between threads never times out here: even
# threading.Event().wait(0.5) hangs. This test is about threads, not the time of day, so it runs only on the real
# clock (every `make test`).
UNDER_LIBFAKETIME = "faketime" in os.environ.get("LD_PRELOAD", "")


@pytest.mark.skipif(UNDER_LIBFAKETIME, reason="libfaketime breaks timed waits between threads (Event.wait hangs)")
def test_five_batches_of_a_queue_are_handled_at_once(aws, monkeypatch):
    """Ten messages, one per batch: five handlers are in flight together (each waits for the other four), then
    the next five. One at a time, 20 clients' repayments waited minutes to be settled on the local stack."""
    from chalicelib.adapters import aws as aws_clients
    from devtools import events

    monkeypatch.setattr(events, "_stop", threading.Event())
    monkeypatch.delenv("LOCAL_SQS_POLLERS", raising=False)
    sqs = aws_clients.client("sqs")
    url = sqs.create_queue(QueueName="runner-test", Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    for i in range(10):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
    five_at_once = threading.Barrier(5, timeout=20)
    handled: list[str] = []

    def handler(event, context):
        five_at_once.wait()
        handled.extend(record["body"] for record in event["Records"])
    monkeypatch.setattr(events, "_handler", lambda config: handler)
    config = SQSEventConfig(name="runner_test", handler_string="app.runner_test", queue="runner-test", queue_arn=None,
                            batch_size=1, maximum_batching_window_in_seconds=0, maximum_concurrency=None)
    threads = events.start(config)
    try:
        deadline = time.monotonic() + 60
        while len(handled) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        events._stop.set()
        for thread in threads:
            thread.join(timeout=10)
    assert len(threads) == 5 and sorted(handled, key=int) == [str(i) for i in range(10)]
    assert not five_at_once.broken
    left = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                                   "ApproximateNumberOfMessagesNotVisible"])
    assert set(left["Attributes"].values()) == {"0"}   # each deleted once its handler returned


def test_a_handlers_maximum_concurrency_caps_the_pollers(monkeypatch):
    from devtools import events

    def config(maximum):
        return SQSEventConfig(name="q", handler_string="app.q", queue="q", queue_arn=None, batch_size=1,
                              maximum_batching_window_in_seconds=0, maximum_concurrency=maximum)
    monkeypatch.delenv("LOCAL_SQS_POLLERS", raising=False)
    assert events.pollers(config(None)) == 5 and events.pollers(config(2)) == 2
    monkeypatch.setenv("LOCAL_SQS_POLLERS", "1")
    assert events.pollers(config(None)) == 1
