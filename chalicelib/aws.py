"""AWS clients, created lazily and once per container.

Nothing here runs at import time: a Lambda cold start that never touches SNS
never pays for an SNS client. ``AWS_ENDPOINT_URL`` (read by boto3 itself)
points every client at moto server locally.

boto3/botocore themselves (~150 ms to import) are imported on first use too, so
a container that only answers searches never loads them. Other modules catch
``aws.ClientError`` / ``aws.BotoCoreError`` (resolved on first access, which in an
``except`` clause happens only while an exception is being handled) and use
``serializer()`` / ``deserializer()`` / ``Key`` from here for the same reason.
"""
from __future__ import annotations

import functools
import threading

_lock = threading.Lock()


@functools.cache
def _client_config():
    from botocore.config import Config

    # Standard retry mode: exponential backoff with jitter on throttling and 5xx,
    # bounded so that a request still answers well inside API Gateway's 29 s.
    return Config(
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=2,
        read_timeout=5,
    )


@functools.cache
def _session():
    import boto3

    return boto3.session.Session()


@functools.cache
def client(service: str):
    with _lock:  # boto3 sessions are not thread-safe while creating clients
        return _session().client(service, config=_client_config())


@functools.cache
def table(name: str):
    """A DynamoDB Table resource (used for its friendlier item (de)serialisation)."""
    with _lock:
        return _session().resource("dynamodb", config=_client_config()).Table(name)


@functools.cache
def serializer():
    """boto3's DynamoDB ``TypeSerializer`` (Python value → low-level attribute value)."""
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer()


def attributes(item: dict) -> dict:
    """A Python item → DynamoDB's low-level attribute map; ``None`` values are left out
    (an absent attribute), as every table here stores them."""
    serialize = serializer().serialize
    return {k: serialize(v) for k, v in item.items() if v is not None}


@functools.cache
def deserializer():
    """boto3's DynamoDB ``TypeDeserializer`` (low-level attribute value → Python value)."""
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


def __getattr__(name: str):
    # botocore's exception classes and boto3's key-condition builder, imported on first use.
    if name in ("ClientError", "BotoCoreError"):
        from botocore import exceptions

        return getattr(exceptions, name)
    if name == "Key":
        from boto3.dynamodb.conditions import Key

        return Key
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def reset() -> None:
    """Drop cached clients: tests start each case against a fresh moto."""
    table.cache_clear()
    client.cache_clear()
    _session.cache_clear()


def error_code(exc) -> str:
    """The AWS error code of a ``ClientError`` (``""`` for anything else)."""
    response = getattr(exc, "response", None) or {}
    return response.get("Error", {}).get("Code", "")


def is_condition_failure(exc) -> bool:
    """A single conditional write (PutItem/UpdateItem/DeleteItem) whose condition did not hold."""
    return error_code(exc) == "ConditionalCheckFailedException"
