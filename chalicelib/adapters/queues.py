"""Sending straight to an SQS queue (not a state change's message: those go through the outbox).

The settlement worker asks again later (``send(queue, body, delay_seconds=...)``; if the send fails the
handler raises and SQS redelivers), the bills schedule fans its shards out (``send_batch``). Queue URLs
are looked up once per container. ``use(InMemoryQueues())`` keeps what was sent in memory (fast tests).
"""
from __future__ import annotations

import functools

from chalicelib.adapters.backends import Backend

twin = Backend(None)   # the in-memory twin a test put in place (``use``); None: SQS
use = twin.use


@functools.cache
def queue_url(name: str) -> str:
    """A queue's URL, looked up once per container (the outbox's sends use it too)."""
    from chalicelib.adapters import aws
    return aws.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]


def send(queue: str, body: str, *, delay_seconds: int = 0) -> None:
    memory = twin()
    if memory is not None:
        memory.sent.append((queue, body, delay_seconds))
        return
    from chalicelib.adapters import aws
    aws.client("sqs").send_message(QueueUrl=queue_url(queue), MessageBody=body,
                                   DelaySeconds=max(0, min(900, delay_seconds)))


def send_batch(queue: str, bodies: list[str]) -> int:
    """Every body, ten to a request; raises when any was not queued. Returns how many were sent."""
    memory = twin()
    if memory is not None:
        memory.sent.extend((queue, body, 0) for body in bodies)
        return len(bodies)
    from chalicelib.adapters import aws
    sqs, url = aws.client("sqs"), queue_url(queue)
    for start in range(0, len(bodies), 10):
        batch = bodies[start:start + 10]
        answer = sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(n), "MessageBody": body} for n, body in enumerate(batch)])
        if answer.get("Failed"):
            raise RuntimeError(f"{queue}: {len(answer['Failed'])} message(s) not queued")
    return len(bodies)


class InMemoryQueues:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, int]] = []



def reset_caches() -> None:
    queue_url.cache_clear()
