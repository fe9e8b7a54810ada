"""AWS clients, created lazily and once per container.

Nothing here runs at import time: a Lambda cold start that never touches SNS
never pays for an SNS client. ``AWS_ENDPOINT_URL`` (read by boto3 itself)
points every client at moto server locally.

boto3/botocore themselves (~150 ms to import) are imported on first use too, so
a container that only answers searches never loads them. Other modules catch
``aws.ClientError`` / ``aws.BotoCoreError`` (resolved on first access, which in an
``except`` clause happens only while an exception is being handled) and use
``serializer()`` / ``deserializer()`` / ``Key`` from here for the same reason.

Every store talks to DynamoDB through the same two pieces here: ``transact`` (named
elements; ``ConditionFailed`` / ``TransactionContended`` name the elements that lost) and one
mapping of failures (``is_condition_failure`` for single writes, ``unavailable`` for throttling,
unreachable endpoints and transient errors, which ``app.py`` answers with 503 + Retry-After).

moto differences (the only place production code accounts for them):

- older moto lists a cancelled transaction's reason codes only in the error message, not as
  ``CancellationReasons``: ``cancellation_codes`` reads either;
- moto server applies the actions of one UpdateItem one by one while serving reads on other
  threads (DynamoDB applies them atomically): ``repay/store.update`` sets the status last, so a
  reader never sees a status without its details.
"""
from __future__ import annotations

import functools
import sys
import threading

from chalicelib.adapters.unit_of_work import NamedFailure

_lock = threading.Lock()


@functools.cache
def _client_config():
    from botocore.config import Config

    from chalicelib.config import settings

    # Sized for the request budget (chalicelib/adapters/deadline.py): one call waits at most connect + read
    # timeout per attempt (1 + 2 s); standard mode retries throttling and 5xx with jittered backoff,
    # while within an HTTP request a service that timed out is neither retried nor called again.
    cfg = settings()
    return Config(
        retries={"total_max_attempts": cfg.aws_max_attempts, "mode": "standard"},  # the first try included
        connect_timeout=cfg.aws_connect_timeout_seconds,
        read_timeout=cfg.aws_read_timeout_seconds,
    )


@functools.cache
def _session():
    import boto3

    from chalicelib.adapters import deadline

    session = boto3.session.Session()
    deadline.install(session)  # each HTTP request's AWS time budget
    return session


@functools.cache
def client(service: str):
    with _lock:  # boto3 sessions are not thread-safe while creating clients
        config = _client_config()
        if service == "s3":  # presigned POST/GET (evidence attachments): Signature V4, as every region accepts
            from botocore.config import Config
            config = config.merge(Config(signature_version="s3v4"))
        return _session().client(service, config=config)


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
    _client_config.cache_clear()



# ---------------------------------------------------------------- errors: one mapping for every store
# Throttled, overloaded or briefly failing: nothing was written, the caller may simply try again.
RETRYABLE_ERRORS = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
    "InternalServerError", "ServiceUnavailable", "InternalFailure", "TransactionInProgressException",
})
# A transaction cancelled because another one touched the same item at that moment (or throttling)
# did nothing either.
RETRYABLE_CANCELLATIONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded",
                                     "RequestLimitExceeded"})


class ConditionFailed(NamedFailure):
    """A conditional write lost: ``names`` are the elements whose condition did not hold.

    ``"frozen" in exc`` reads as it should; a single write's element is named by its caller.
    """


class TransactionContended(NamedFailure):
    """Another transaction was writing ``names`` at that instant: nothing was written; try again."""


def error_code(exc) -> str:
    """The AWS error code of a ``ClientError`` (``""`` for anything else)."""
    response = getattr(exc, "response", None) or {}
    return response.get("Error", {}).get("Code", "")


def is_condition_failure(exc) -> bool:
    """A single conditional write (PutItem/UpdateItem/DeleteItem) whose condition did not hold."""
    return error_code(exc) == "ConditionalCheckFailedException"


def cancellation_codes(exc) -> list[str]:
    """Each element's reason code of a cancelled ``TransactWriteItems``, in request order (``"None"``: fine).

    moto difference (the one place it is handled): DynamoDB and current moto return the codes
    as ``CancellationReasons``; older moto (and its server mode behind some SDKs) only lists
    them in the message, ``"... [ConditionalCheckFailed, None]"``.
    """
    response = getattr(exc, "response", None) or {}
    codes = [r.get("Code") or "None" for r in response.get("CancellationReasons") or []]
    if not codes and error_code(exc) == "TransactionCanceledException":
        message = response.get("Error", {}).get("Message", "")
        listed = message.partition("[")[2].rpartition("]")[0]
        codes = [part.strip() or "None" for part in listed.split(",")] if listed else []
    return codes


def unavailable(exc: BaseException) -> str | None:
    """Why ``exc`` means "AWS is throttled or unreachable, answer 503 + Retry-After", or None if it doesn't.

    Used by ``app.py``'s ``errors_as_json`` for every route. botocore is only consulted when it was
    imported already (an exception from it can't exist otherwise).
    """
    if isinstance(exc, TransactionContended):
        return "TransactionConflict"
    exceptions = sys.modules.get("botocore.exceptions")
    if exceptions is None:
        return None
    if isinstance(exc, exceptions.ClientError):
        code = error_code(exc)
        if code in RETRYABLE_ERRORS or RETRYABLE_CANCELLATIONS.intersection(cancellation_codes(exc)):
            return code
        return None
    if isinstance(exc, exceptions.BotoCoreError):   # unreachable: connection refused, timeouts …
        return type(exc).__name__
    return None


# ---------------------------------------------------------------- writes: one helper, named elements
_SINGLE_CALLS = {"Put": "put_item", "Update": "update_item", "Delete": "delete_item"}


def transact(elements: dict[str, dict]) -> None:
    """Write ``{name: TransactWriteItems element}`` all or nothing.

    Raises ``ConditionFailed`` naming every element whose condition did not hold (e.g.
    ``{"frozen", "idempotency"}``), ``TransactionContended`` naming those another transaction
    was writing at that instant (nothing written: retryable); any other failure propagates as
    botocore raised it. One element is written with its single-item call (half the cost).
    """
    names = list(elements)
    if len(names) == 1 and next(iter(elements[names[0]])) in _SINGLE_CALLS:
        (kind, params), = elements[names[0]].items()
        try:
            getattr(client("dynamodb"), _SINGLE_CALLS[kind])(**params)
        except Exception as exc:
            if is_condition_failure(exc):
                raise ConditionFailed(names) from None
            raise
        return
    try:
        client("dynamodb").transact_write_items(TransactItems=[elements[n] for n in names])
    except Exception as exc:
        if error_code(exc) != "TransactionCanceledException":
            raise
        # Not strict: when no codes could be read (an empty list) nothing matches and the
        # original error is re-raised below, as before.
        codes = dict(zip(names, cancellation_codes(exc), strict=False))
        failed = {n for n, c in codes.items() if c == "ConditionalCheckFailed"}
        if failed:
            raise ConditionFailed(failed) from None
        contended = {n for n, c in codes.items() if c == "TransactionConflict"}
        if contended:
            raise TransactionContended(contended) from None
        raise
