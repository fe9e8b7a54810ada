"""Bank / biller connectors behind one small interface, and the local simulator.

A connector settles one attempt of a repayment and answers ``succeeded``,
``failed`` (with a reason from ``model.FAILURES``) or ``pending`` (accepted,
arriving later — ask again). Real connectors must be idempotent by
``request.reference`` (one reference per repayment attempt): SQS delivers at
least once, so the same attempt can be submitted twice; the bank's own
duplicate check on the reference is what keeps money from moving twice, and
our conditional writes keep the outcome from being recorded twice.

Simulator rules (deterministic, by the fen part of the amount, i.e. its last two digits):

====================  ==========================================================
amount ends in        outcome
====================  ==========================================================
``.51``               ``insufficient_funds`` on the first attempt, success on retry
``.52``               ``biller_unavailable`` on the first attempt, success on retry
``.53``               ``network_error`` on the first attempt, success on retry
``.54``               ``maintenance`` on the first attempt, success on retry
``.55``               ``invalid_account`` (not retryable)
``.56``               delayed: pending for ``SIMULATOR_DELAY_SECONDS`` (30 s), then success
``.61`` – ``.64``     same failures as ``.51`` – ``.54`` but on every attempt
anything else         success, arriving now
====================  ==========================================================
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import ClassVar, Protocol

from chalicelib.config import settings
from chalicelib.kernel import clock


@dataclass(frozen=True)
class SettlementRequest:
    reference: str            # "<repayment id>#<attempt>": the bank's duplicate-check key
    repayment_id: str
    kind: str
    amount_fen: int
    payee: dict
    attempt: int
    submitted_at: dt.datetime  # when this attempt started processing


@dataclass(frozen=True)
class Succeeded:
    """The bank paid; the money arrived at ``settled_at``."""
    settled_at: dt.datetime
    status: ClassVar[str] = "succeeded"
    reason: ClassVar[str | None] = None


@dataclass(frozen=True)
class Failed:
    """The bank refused; ``reason`` is a code of ``model.FAILURES``."""
    reason: str
    status: ClassVar[str] = "failed"


@dataclass(frozen=True)
class Pending:
    """Accepted, arriving later (expected at ``expected_at``): ask again."""
    expected_at: dt.datetime
    status: ClassVar[str] = "pending"
    reason: ClassVar[str | None] = None


# What a connector answers for one attempt: each kind carries exactly the fields it needs.
Outcome = Succeeded | Failed | Pending


@dataclass(frozen=True)
class UtilityBill:
    """What the biller says a household owes (``None`` amount: the account is unknown)."""
    amount_due_fen: int
    holder_masked: str       # 户名, partly hidden (``*明``, ``张*华``): the user checks the household, no more


class Connector(Protocol):
    def settle(self, request: SettlementRequest) -> Outcome: ...

    def tokenize_card(self, user_id: str, issuer: str, card_number: str) -> str:
        """An opaque token for the card, usable by this user only; the full number stays with the bank."""

    def card_last4(self, user_id: str, issuer: str, token: str) -> str | None:
        """The last 4 digits of the user's tokenized card, None when the token is not theirs (or not the issuer's)."""

    def utility_bill(self, utility: str, biller: str, city: str, account_number: str) -> UtilityBill | None: ...


_FIRST_ATTEMPT_FAILURES = {51: "insufficient_funds", 52: "biller_unavailable", 53: "network_error", 54: "maintenance"}
_ALWAYS_FAILURES = {61: "insufficient_funds", 62: "biller_unavailable", 63: "network_error", 64: "maintenance"}


class Simulator:
    """Deterministic stand-in for the bank and billers (rules in the module docstring)."""

    def __init__(self, delay_seconds: int = 30):
        self.delay = dt.timedelta(seconds=delay_seconds)

    def settle(self, request: SettlementRequest) -> Outcome:
        fen = request.amount_fen % 100
        now = clock.now()
        if fen in _FIRST_ATTEMPT_FAILURES and request.attempt == 1:
            return Failed(_FIRST_ATTEMPT_FAILURES[fen])
        if fen in _ALWAYS_FAILURES:
            return Failed(_ALWAYS_FAILURES[fen])
        if fen == 55:
            return Failed("invalid_account")
        if fen == 56:
            ready = request.submitted_at + self.delay
            if now < ready:
                return Pending(ready)
        return Succeeded(now)


    # ------------------------------------------------------------ card tokens and bill look-up
    # Simulated tokens: ct_ + last 4 + random + a MAC binding them to the user and issuer. A real bank
    # keeps its own vault; callers treat the token as opaque either way.
    _TOKEN_KEY = b"simulator-card-tokens"

    def _mac(self, user_id: str, issuer: str, last4: str, nonce: str) -> str:
        return hmac.new(self._TOKEN_KEY, f"{user_id}|{issuer}|{last4}|{nonce}".encode(),
                        hashlib.sha256).hexdigest()[:24]

    def tokenize_card(self, user_id: str, issuer: str, card_number: str) -> str:
        last4, nonce = card_number[-4:], secrets.token_hex(4)
        return f"ct_{last4}{nonce}{self._mac(user_id, issuer, last4, nonce)}"

    def card_last4(self, user_id: str, issuer: str, token: str) -> str | None:
        body = token.removeprefix("ct_")
        if len(body) != 36 or body == token:
            return None
        last4, nonce, mac = body[:4], body[4:12], body[12:]
        return last4 if hmac.compare_digest(mac, self._mac(user_id, issuer, last4, nonce)) else None

    def utility_bill(self, utility: str, biller: str, city: str, account_number: str) -> UtilityBill | None:
        """Deterministic: account numbers ending in 0000 are unknown; the amount comes from the digits."""
        if account_number.endswith("0000"):
            return None
        seed = int(hashlib.sha256(f"{biller}|{account_number}".encode()).hexdigest()[:8], 16)
        names = ("张*华", "李*", "王*明", "*芳", "陈*军")
        return UtilityBill(amount_due_fen=1000 + seed % 30000, holder_masked=names[seed % len(names)])


def get() -> Connector:
    name = settings().settlement_connector
    if name == "simulator":
        return Simulator(delay_seconds=settings().simulator_delay_seconds)
    raise RuntimeError(f"unknown settlement connector {name!r}")
