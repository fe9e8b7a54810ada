"""``Idempotency-Key`` for any state-changing route: a repeated request replays the first answer.

The contract (README, "Idempotency-Key"), the same on every route that uses it:

- the header is required where a route says so: 1–255 printable ASCII characters (400
  ``idempotency_key_missing`` / ``idempotency_key_invalid`` otherwise);
- the same key with the same request replays the first answer (same status and body; the route
  adds ``Idempotent-Replayed: true``) for ``settings().idempotency_ttl_seconds`` (24 h);
- the same key with a different request is 422 ``idempotency_key_reused``;
- while the first request still holds the key, 409 ``request_in_progress`` with ``Retry-After: 1``;
- a request that fails (any error) gives its key back: the client may try again with it;
- a known key is answered before anything else that could refuse the request: a route's rate limit
  and other pre-checks (``checks``) run only once the key is held as new (#21). A client that lost
  an answer — a 503 after the write had committed — can always replay it, over any limit.

Records are keyed by user + scope + sha256(key): a scope names the operation (``"retry"``,
``"escalate"`` …), so one key can't replay another route's answer; the request's fingerprint
(a keyed hash of the payload the route passes, with the resource id in it) tells "same request"
from "different request". The raw key and the request itself are never stored.

Table: the records live in the repayments table (``USER#<uid>`` / ``IDEM#[<scope>#]<sha256(key)>``,
DynamoDB TTL on ``expires_at``). ``POST /repayments`` must complete its record in the *same*
transaction that writes the repayment (a crash in between would otherwise let the key pay twice);
a transaction may span tables, but one table keeps every user's money-moving state under one
partition and needs no new resource. Its scope is ``""`` (``IDEM#<sha256(key)>``, as before
scopes existed, so keys in flight across a deploy stay valid).

Use ``run`` (claim → action → complete, release on error), or ``claim`` and the ``Claim``'s
methods when the action must write the completion inside its own transaction.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.adapters import aws
from chalicelib.adapters.unit_of_work import Change, Conflict
from chalicelib.config import settings
from chalicelib.kernel import clock, refusals
from chalicelib.kernel.logs import logger

HEADER = "Idempotency-Key"
LOCK_SECONDS = 30    # a request holding a key longer than this is presumed dead


@dataclass(frozen=True)
class Wording:
    """What the user reads when a key is reused or still in flight (Chinese, per route)."""
    reused: str = "这个 Idempotency-Key 已用于另一个不同的请求，请为新的请求使用新的 Key。"
    in_progress: str = "同一个请求正在处理中，请稍后再试，不要重复提交。"

    def reused_error(self) -> refusals.Rejected:
        return refusals.Rejected(self.reused, code="idempotency_key_reused")

    def in_progress_error(self) -> refusals.Conflicting:
        return refusals.Conflicting(self.in_progress, code="request_in_progress", retry_after=1)


@dataclass(frozen=True)
class Outcome:
    """A route's answer: status and JSON body; ``replayed`` when it is the stored first answer."""
    status_code: int
    body: dict
    replayed: bool = False
    recorded: bool = False   # the action wrote ``Claim.completion`` in its own transaction


def validate_key(key: str | None) -> str:
    if key is None or key == "":
        raise refusals.Invalid(
            "缺少 Idempotency-Key 请求头（1–255 个字符），用于防止同一操作被重复执行（如重复扣款、重复升级）。",
            code="idempotency_key_missing", field=HEADER)
    if len(key) > 255 or not key.isprintable() or not key.isascii():
        raise refusals.Invalid("Idempotency-Key 应为 1–255 个可打印 ASCII 字符。",
                             code="idempotency_key_invalid", field=HEADER)
    return key


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def fingerprint(payload: Any, salt: str) -> str:
    """Keyed hash of the normalised payload: equal requests match, yet a card number can't be recovered."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(bytes.fromhex(salt), canonical.encode(), hashlib.sha256).hexdigest()


def record_key(user_id: str, scope: str, hashed: str) -> dict:
    return {"pk": f"USER#{user_id}", "sk": f"IDEM#{scope}#{hashed}" if scope else f"IDEM#{hashed}"}


def _table_name() -> str:
    return settings().repayments_table


class KeyInFlight(Conflict):
    """The unit of work's ``idempotency`` element lost: the key is no longer held by this request."""


@dataclass(frozen=True)
class Claim:
    """This request holds the key (until it completes or releases it)."""
    user_id: str
    scope: str
    key_hash: str
    owner: str

    @property
    def key(self) -> dict:
        return record_key(self.user_id, self.scope, self.key_hash)

    def completion(self, status_code: int, body: dict) -> dict:
        """TransactWriteItems element storing the answer, only while this request holds the claim."""
        return {"Update": {
            "TableName": _table_name(), "Key": aws.attributes(self.key),
            "UpdateExpression": "SET #state = :completed, status_code = :code, response_body = :body "
                                "REMOVE lock_until",
            "ConditionExpression": "#state = :in_progress AND #owner = :owner",
            "ExpressionAttributeNames": {"#state": "state", "#owner": "owner"},
            "ExpressionAttributeValues": aws.attributes({
                ":completed": "completed", ":code": status_code, ":in_progress": "in_progress",
                ":body": json.dumps(body, ensure_ascii=False), ":owner": self.owner}),
        }}

    def complete_in(self, uow, status_code: int, body: dict) -> None:
        """Store the answer in the unit of work of the change it answers (element ``idempotency``; when the
        claim was lost meanwhile the commit raises ``KeyInFlight``)."""
        element = _memory.completion(self, status_code, body) if _memory is not None \
            else self.completion(status_code, body)
        uow.add("idempotency", element, lost=KeyInFlight)

    def complete(self, status_code: int, body: dict) -> None:
        """Store the answer on its own (the action's writes are committed already)."""
        if _memory is not None:
            _memory.complete(self, status_code, body)
            return
        aws.client("dynamodb").update_item(**self.completion(status_code, body)["Update"])

    def release(self) -> None:
        """Forget the claim (the request failed: the same key may be tried again)."""
        if _memory is not None:
            _memory.release(self)
            return
        try:
            aws.client("dynamodb").delete_item(
                TableName=_table_name(), Key=aws.attributes(self.key),
                ConditionExpression="#state = :in_progress AND #owner = :owner",
                ExpressionAttributeNames={"#state": "state", "#owner": "owner"},
                ExpressionAttributeValues=aws.attributes({":in_progress": "in_progress", ":owner": self.owner}))
        except aws.ClientError as exc:
            if not aws.is_condition_failure(exc):
                raise


def hold(user_id: str, scope: str, hashed: str, *, fingerprint_of: Callable[[str], str], owner: str,
         lock_seconds: int = LOCK_SECONDS) -> dict | None:
    """Conditionally record "in progress" for the key. None when claimed; else the record that holds it.

    A record counts as free when absent, past its expiry (TTL deletes lazily) or stuck in
    progress past its lock (the first request's Lambda died mid-way).
    """
    salt = secrets.token_hex(16)
    now = clock.epoch()
    item = {**record_key(user_id, scope, hashed), "state": "in_progress", "fingerprint": fingerprint_of(salt),
            "fingerprint_salt": salt, "owner": owner, "lock_until": now + lock_seconds,
            "created_at": clock.isoformat(clock.now()), "expires_at": now + settings().idempotency_ttl_seconds}
    if _memory is not None:
        return _memory.hold(item, now)
    try:
        aws.client("dynamodb").put_item(
            TableName=_table_name(), Item=aws.attributes(item),
            ConditionExpression="attribute_not_exists(pk) OR expires_at < :now "
                                "OR (#state = :in_progress AND lock_until < :now)",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=aws.attributes({":now": now, ":in_progress": "in_progress"}))
    except aws.ClientError as exc:
        if not aws.is_condition_failure(exc):
            raise
        existing = aws.table(_table_name()).get_item(Key=record_key(user_id, scope, hashed),
                                                     ConsistentRead=True).get("Item")
        # Deleted between our put and this read (its request failed): report "in flight", the client retries.
        return existing or {"state": "in_progress"}
    return None


def claim(user_id: str, key: str | None, *, scope: str, payload: Any,
          wording: Wording = Wording()) -> Claim | Outcome:
    """Hold ``key`` for this request, or answer from the record that holds it already.

    Returns a ``Claim`` (go ahead, then complete or release it) or the replayed ``Outcome``;
    raises 422 when the key was used for a different payload, 409 while it is in flight.
    """
    hashed = key_hash(validate_key(key))
    owner = secrets.token_hex(8)
    existing = hold(user_id, scope, hashed, fingerprint_of=lambda salt: fingerprint(payload, salt), owner=owner)
    if existing is None:
        return Claim(user_id, scope, hashed, owner)
    if existing.get("fingerprint_salt") and \
            not hmac.compare_digest(existing["fingerprint"], fingerprint(payload, existing["fingerprint_salt"])):
        raise wording.reused_error()
    if existing.get("state") != "completed":
        raise wording.in_progress_error()
    return Outcome(int(existing["status_code"]), json.loads(existing["response_body"]), replayed=True)


def _no_checks() -> None:
    return None


def run(user_id: str, key: str | None, *, scope: str, payload: Any, action: Callable[[Claim], Outcome],
        wording: Wording = Wording(), checks: Callable[[], None] = _no_checks) -> Outcome:
    """Claim the key, run ``checks`` and then ``action`` once, store its answer; a replay returns the stored
    answer without running either.

    ``checks``: what may refuse a *new* request before it acts — rate limits, amount limits — run after the
    key is held, so they never stand between a client and the answer its key already has. ``action``
    returns the ``Outcome``; when it wrote ``claim.completion(...)`` in its own transaction it says so with
    ``recorded=True``, else the answer is stored here. Any error (a check's refusal too) releases the key
    (and propagates).
    """
    held = claim(user_id, key, scope=scope, payload=payload, wording=wording)
    if isinstance(held, Outcome):
        return held
    try:
        checks()
        outcome = action(held)
    except BaseException:
        held.release()
        raise
    if not outcome.recorded:
        try:
            held.complete(outcome.status_code, outcome.body)
        except Exception:  # done is done: answer; a repeat after the lock lapses finds the new state
            logger.exception("idempotency record not completed", extra={"scope": scope})
    return outcome


def once(user_id: str, key: str | None, *, scope: str, payload: Any, action: Callable[[Claim | None], Outcome],
         wording: Wording = Wording(), checks: Callable[[], None] = _no_checks) -> Outcome:
    """Where a route makes the key optional: with a key, ``run``; without one, ``checks`` and the action
    just run (``action(None)``: no claim to complete in its transaction)."""
    if key is None:
        checks()
        return action(None)
    return run(user_id, key, scope=scope, payload=payload, action=action, wording=wording, checks=checks)


# ---------------------------------------------------------------- the in-memory twin (the fast test tier)
class InMemoryRecords:
    """The idempotency records without AWS, with the same conditions (free when absent, expired or stuck past
    its lock; completed or released only by the request holding it)."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], dict] = {}

    @staticmethod
    def _key(key: dict) -> tuple[str, str]:
        return key["pk"], key["sk"]

    def hold(self, item: dict, now: int) -> dict | None:
        from chalicelib.adapters.unit_of_work import LOCK
        with LOCK:
            existing = self.records.get(self._key(item))
            if existing is not None:
                expired = existing["expires_at"] < now
                stuck = existing["state"] == "in_progress" and existing["lock_until"] < now
                if not (expired or stuck):
                    return dict(existing)
            self.records[self._key(item)] = dict(item)
            return None

    def _held(self, claim: Claim) -> bool:
        record = self.records.get(self._key(claim.key))
        return record is not None and record["state"] == "in_progress" and record["owner"] == claim.owner

    def completion(self, claim: Claim, status_code: int, body: dict) -> Change:
        def apply() -> None:
            record = self.records[self._key(claim.key)]
            record.update(state="completed", status_code=status_code,
                          response_body=json.dumps(body, ensure_ascii=False))
            record.pop("lock_until", None)
        return Change(holds=lambda: self._held(claim), apply=apply)

    def complete(self, claim: Claim, status_code: int, body: dict) -> None:
        from chalicelib.adapters.unit_of_work import MemoryUnitOfWork
        uow = MemoryUnitOfWork()
        uow.add("idempotency", self.completion(claim, status_code, body), lost=KeyInFlight)
        uow.commit()

    def release(self, claim: Claim) -> None:
        from chalicelib.adapters.unit_of_work import LOCK
        with LOCK:
            if self._held(claim):
                del self.records[self._key(claim.key)]


_memory: InMemoryRecords | None = None


def use(memory: InMemoryRecords | None) -> None:
    """Put the in-memory twin in place of the records in the repayments table (None: back to DynamoDB)."""
    global _memory
    _memory = memory
