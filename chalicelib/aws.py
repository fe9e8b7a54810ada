"""AWS clients, created lazily and once per container.

Nothing here runs at import time: a Lambda cold start that never touches SNS
never pays for an SNS client. ``AWS_ENDPOINT_URL`` (read by boto3 itself)
points every client at moto server locally.
"""
from __future__ import annotations

import functools
import threading

import boto3
from botocore.config import Config

# Standard retry mode: exponential backoff with jitter on throttling and 5xx,
# bounded so that a request still answers well inside API Gateway's 29 s.
_CLIENT_CONFIG = Config(
    retries={"max_attempts": 3, "mode": "standard"},
    connect_timeout=2,
    read_timeout=5,
)
_lock = threading.Lock()


@functools.cache
def _session() -> boto3.session.Session:
    return boto3.session.Session()


@functools.cache
def client(service: str):
    with _lock:  # boto3 sessions are not thread-safe while creating clients
        return _session().client(service, config=_CLIENT_CONFIG)


@functools.cache
def table(name: str):
    """A DynamoDB Table resource (used for its friendlier item (de)serialisation)."""
    with _lock:
        return _session().resource("dynamodb", config=_CLIENT_CONFIG).Table(name)


def reset() -> None:
    """Drop cached clients: tests start each case against a fresh moto."""
    table.cache_clear()
    client.cache_clear()
    _session.cache_clear()
