"""Repayment rules as plain data and functions, no AWS: the ``Repayment`` aggregate and its moves,
statuses and transitions, failures, verification codes. Arrival estimates are in ``arrival.py``, the
receipt (电子回单) value in ``receipt_model.py``.

Every move (``verify``, ``settle``, ``fail``, ``delay``, ``retry``, ``cancel``, ``expire``) checks
``TRANSITIONS`` and returns a ``Change``: the state before and after (``version + 1``, one more
timeline entry) and what else must happen atomically with it (allowance given back, a settlement
message for an attempt). The store writes ``after`` only while the stored version is ``before``'s.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass, field

from chalicelib.kernel import clock
from chalicelib.kernel.refusals import Conflicting, Limited

# Values of their own (split out of this module), still importable from here:
from chalicelib.repay.arrival import KB_DELAY, Arrival, due_date_warning, estimate_arrival  # noqa: F401
from chalicelib.repay.fees import Fee, FeeLine
from chalicelib.repay.receipt_model import RECEIPT_CODE_LENGTH, Receipt, mask_payee, receipt_serial, serial_format_ok  # noqa: F401

# ---------------------------------------------------------------- statuses
VERIFICATION_REQUIRED = "verification_required"
PROCESSING = "processing"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELLED = "cancelled"
STATUSES = (VERIFICATION_REQUIRED, PROCESSING, SUCCEEDED, FAILED, CANCELLED)

# The only moves a repayment can make; every store write is conditional on the "from" status.
TRANSITIONS = {
    VERIFICATION_REQUIRED: {PROCESSING, CANCELLED},
    PROCESSING: {SUCCEEDED, FAILED},
    FAILED: {PROCESSING},          # retry, retryable reasons only
    SUCCEEDED: set(),
    CANCELLED: set(),
}


def can_move(source: str, target: str) -> bool:
    return target in TRANSITIONS.get(source, set())


KB_FAILED = "repayment-failed"


@dataclass(frozen=True)
class FailureReason:
    code: str
    message: str      # what happened, for the user
    next_step: str    # what to do now
    kb_article: str   # knowledge-base slug that explains it
    retryable: bool


FAILURES = {f.code: f for f in (
    FailureReason("insufficient_funds", "付款账户余额不足，银行未能扣款。",
                  "请先充值或更换付款卡，然后点击“重试”。", KB_FAILED, True),
    FailureReason("biller_unavailable", "收款机构暂时无法受理还款。",
                  "请稍后重试；如多次失败，请联系客服。", KB_FAILED, True),
    FailureReason("network_error", "与银行通信中断，本次还款未完成，资金不会被重复扣除。",
                  "请稍后点击“重试”。", KB_FAILED, True),
    FailureReason("maintenance", "银行系统维护中，暂时无法处理还款。",
                  "请在维护结束后重试（通常几小时内恢复）；临近还款日请留意到账时间。", KB_DELAY, True),
    FailureReason("invalid_account", "收款账户信息有误（卡号、合同号或户号无效）。",
                  "请核对收款信息后重新发起还款；如有疑问，请联系客服。", KB_FAILED, False),
)}
DELAY_MESSAGE = "银行处理较慢，到账时间推迟。资金已在处理中，无需重复还款。"
CANCEL_MESSAGES = {
    "verification_expired": "验证码已过期，本次还款已取消，未扣款。请重新发起还款。",
    "verification_attempts_exhausted": "验证码错误次数过多，本次还款已取消，未扣款。请重新发起还款。",
    "cancelled_by_user": "您已取消这笔还款，未扣款。",
}


# ---------------------------------------------------------------- payee details
_SEPARATORS = str.maketrans("", "", " -\u3000\uff0d")   # spaces and hyphens, ASCII or full-width


def ascii_digits(value: str) -> str:
    """A number as typed (``6225 8801 …``, full-width ``６２２５－８８０１`` from a Chinese IME) as ASCII digits;
    decimal digits of any script become 0–9, everything else is left for the caller to refuse
    (superscripts like ``²`` are digits to Python but not decimal ones)."""
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in value.translate(_SEPARATORS))


def card_digits(value: str) -> str:
    """A typed card number as its digits (full-width digits, spaces and dashes allowed), or ValueError with
    the message the user sees: 12–19 digits passing the Luhn check."""
    digits = ascii_digits(value)
    if not (digits.isascii() and digits.isdigit()) or not 12 <= len(digits) <= 19:
        raise ValueError("卡号应为 12–19 位数字")
    if not luhn_valid(digits):
        raise ValueError("卡号校验失败，请检查是否输入有误")
    return digits


def luhn_valid(number: str) -> bool:
    if not (number.isascii() and number.isdigit()):
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


KIND_LABELS = {"credit_card": "信用卡还款", "loan": "贷款还款", "utility": "生活缴费"}


# ---------------------------------------------------------------- verification codes
def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def hash_code(code: str, *, salt: str, repayment_id: str) -> str:
    """HMAC-SHA256 keyed by a per-repayment random salt: the code itself is never stored."""
    return hmac.new(bytes.fromhex(salt), f"{repayment_id}:{code}".encode(), hashlib.sha256).hexdigest()


def code_matches(code: str, *, salt: str | None, repayment_id: str, expected_hash: str | None) -> bool:
    """Whether ``code`` is the one stored as ``salt``/``expected_hash``; with no code stored (both are
    cleared once a code is used or its repayment/schedule is cancelled) no code matches."""
    if salt is None or expected_hash is None:
        return False
    return hmac.compare_digest(hash_code(code, salt=salt, repayment_id=repayment_id), expected_hash)


def new_repayment_id(now: dt.datetime) -> str:
    """``rp_`` + 12 hex digits of epoch milliseconds + 8 random hex: ids sort by creation time."""
    return f"rp_{int(now.timestamp() * 1000):012x}{secrets.token_hex(4)}"


# ---------------------------------------------------------------- the aggregate
class RuleViolation(Conflicting):
    """The requested move is not allowed in the repayment's current state (→ 409)."""

    def __init__(self, message: str, code: str = "invalid_state"):
        super().__init__(message, code=code)


class ResendLimited(Limited):
    """A new SMS code too soon after the last one, or one too many (→ 429; ``retry_after`` when waiting helps)."""


@dataclass(frozen=True)
class Repayment:
    id: str
    user_id: str
    username: str
    kind: str
    payee: dict                  # card last-4 only, never the number
    amount_fen: int
    fee_fen: int
    fee_lines: tuple[FeeLine, ...]
    fee_schedule_version: str
    usage_month: str             # the month whose allowance this amount counts against
    status: str
    attempt: int
    created_at: str
    updated_at: str
    expected_arrival_at: str
    expected_arrival_note: str
    version: int = 1
    processing_since: str | None = None
    due_date: str | None = None
    warning: dict | None = None
    verify_salt: str | None = None
    verify_hash: str | None = None
    verify_attempts: int | None = None
    verify_expires_at: str | None = None
    verify_sent_at: str | None = None     # when the current code was made (the resend interval counts from it)
    verify_resends: int | None = None     # new codes sent after the first
    verified_at: str | None = None
    failure_reason: str | None = None
    cancel_reason: str | None = None
    delayed_attempt: int | None = None
    actual_arrival_at: str | None = None
    # started by a scheduled repayment (chalicelib/bills): its sweep tells the owner
    schedule_id: str | None = None
    timeline: tuple[dict, ...] = field(default_factory=tuple)

    @property
    def total_fen(self) -> int:
        return self.amount_fen + self.fee_fen

    @property
    def failure(self) -> FailureReason | None:
        return FAILURES.get(self.failure_reason or "") if self.status == FAILED else None

    @property
    def delayed(self) -> bool:
        """The current attempt is late at the bank (shown as a notice while processing)."""
        return self.status == PROCESSING and self.delayed_attempt == self.attempt

    @property
    def retried(self) -> bool:
        """A retry is processing already: repeating it changes nothing."""
        return self.status == PROCESSING and self.attempt > 1

    def attempts_left(self, max_attempts: int) -> int:
        return max(0, max_attempts - (self.verify_attempts or 0))

    def awaits_settlement(self, attempt: int) -> bool:
        """A settlement message acts only on the attempt it names, while that attempt is processing."""
        return self.status == PROCESSING and self.attempt == attempt

    # ---------------------------------------------------------------- moves
    def _move(self, now: dt.datetime, target: str, event: str, message: str, *, stay: bool = False,
              **changes) -> Change:
        """``target`` by one of ``TRANSITIONS`` — or, with ``stay``, an event within the current status."""
        if not (self.status == target if stay else can_move(self.status, target)):
            raise RuleViolation(f"还款状态为 {self.status}，不能变为 {target}。")
        at = clock.isoformat(now)
        entry = {"at": at, "status": target, "event": event, "message": message}
        after = dataclasses.replace(self, status=target, version=self.version + 1, updated_at=at,
                                    timeline=self.timeline + (entry,), **changes)
        return Change(self, after, entry)

    def expire(self, now: dt.datetime) -> Change | None:
        """A verification past its time cancels the repayment (lazily, on the next touch)."""
        if self.status == VERIFICATION_REQUIRED and clock.isoformat(now) >= (self.verify_expires_at or ""):
            return self.cancel(now, "verification_expired")
        return None

    def cancel(self, now: dt.datetime, reason: str) -> Change:
        """Verification expired or failed too often: cancelled, nothing charged, allowance given back."""
        attempts = (self.verify_attempts or 0) + (1 if reason == "verification_attempts_exhausted" else 0)
        change = self._move(now, CANCELLED, reason, CANCEL_MESSAGES[reason], cancel_reason=reason,
                            verify_attempts=attempts, verify_hash=None, verify_salt=None)
        return dataclasses.replace(change, release_fen=self.amount_fen)

    def cancel_by_owner(self, now: dt.datetime) -> Change:
        """The owner changed their mind while the code was awaited: cancelled, nothing charged."""
        if self.status != VERIFICATION_REQUIRED:
            raise RuleViolation("只有等待短信验证的还款可以取消；这笔还款已在处理或已完成，无法取消。",
                                code="not_cancellable")
        return self.cancel(now, "cancelled_by_user")

    def resend(self, now: dt.datetime, verification: Verification, *, max_resends: int,
               min_interval_seconds: int) -> Change:
        """A new code replaces the old one (which stops working); attempts used so far stay used.
        Raises ``RuleViolation`` unless awaiting a code, ``ResendLimited`` when too soon or too often."""
        self.check_verifiable()
        if (self.verify_resends or 0) >= max_resends:
            raise ResendLimited(f"验证码最多重新发送 {max_resends} 次。如仍未收到，请取消后重新发起还款。",
                                code="resend_limit_reached", retry_after=None)
        sent = clock.parse(self.verify_sent_at or self.created_at)
        wait = int((sent + dt.timedelta(seconds=min_interval_seconds) - now).total_seconds() + 0.999)
        if wait > 0:
            raise ResendLimited(f"验证码刚刚发送过，请 {wait} 秒后再试。", code="resend_too_soon", retry_after=wait)
        return self._move(now, VERIFICATION_REQUIRED, "code_resent", "已重新发送验证码，之前的验证码已失效。",
                          stay=True, verify_salt=verification.salt, verify_hash=verification.hash,
                          verify_expires_at=verification.expires_at, verify_sent_at=clock.isoformat(now),
                          verify_resends=(self.verify_resends or 0) + 1)

    def check_verifiable(self) -> None:
        """Raise unless a code can be checked now (a cancelled or never-verifiable repayment: 409)."""
        if self.status == CANCELLED and self.cancel_reason in CANCEL_MESSAGES:
            raise RuleViolation(CANCEL_MESSAGES[self.cancel_reason], code=self.cancel_reason)
        if self.status != VERIFICATION_REQUIRED:
            raise RuleViolation("这笔还款不需要验证。", code="not_awaiting_verification")

    def verify(self, code: str, now: dt.datetime, *, max_attempts: int) -> Change:
        """The right code moves it to processing (settlement of this attempt); a wrong one uses an
        attempt, and the last wrong one cancels it. ``change.event`` tells which."""
        self.check_verifiable()
        if not code_matches(code, salt=self.verify_salt, repayment_id=self.id, expected_hash=self.verify_hash):
            used = (self.verify_attempts or 0) + 1
            if used >= max_attempts:
                return self.cancel(now, "verification_attempts_exhausted")
            return self._move(now, VERIFICATION_REQUIRED, "verification_failed", "验证码错误。", stay=True,
                              verify_attempts=used)
        at = clock.isoformat(now)
        change = self._move(now, PROCESSING, "verified", "验证通过，还款正在处理。", verified_at=at,
                            processing_since=at, verify_hash=None, verify_salt=None)
        return dataclasses.replace(change, settle_attempt=self.attempt)

    def retry(self, now: dt.datetime, arrival: Arrival) -> Change:
        """Failed for a retryable reason → processing as attempt N+1 (conditional on attempt N)."""
        if self.status != FAILED:
            raise RuleViolation("只有失败的还款可以重试。", code="not_retryable")
        reason = FAILURES.get(self.failure_reason or "")
        if reason is None or not reason.retryable:
            raise RuleViolation("这笔还款失败的原因无法通过重试解决：" + (reason.next_step if reason else ""),
                                code="not_retryable")
        attempt = self.attempt + 1
        change = self._move(now, PROCESSING, "retried", f"已重新提交（第 {attempt} 次尝试）。", attempt=attempt,
                            processing_since=clock.isoformat(now), failure_reason=None,
                            expected_arrival_at=arrival.expected_at.isoformat(timespec="seconds"),
                            expected_arrival_note=arrival.note)
        return dataclasses.replace(change, settle_attempt=attempt)

    def settle(self, now: dt.datetime, arrived_at: dt.datetime) -> Change:
        """The bank paid: succeeded, with the actual arrival (local time)."""
        return self._move(now, SUCCEEDED, "settled", "还款已到账。",
                          actual_arrival_at=arrived_at.isoformat(timespec="seconds"))

    def fail(self, now: dt.datetime, reason_code: str) -> Change:
        """The bank refused: failed; a reason retrying can't fix gives the month's allowance back."""
        reason = FAILURES[reason_code]
        change = self._move(now, FAILED, reason.code, f"{reason.message}{reason.next_step}",
                            failure_reason=reason.code)
        return change if reason.retryable else dataclasses.replace(change, release_fen=self.amount_fen)

    def delay(self, now: dt.datetime, expected_at: dt.datetime) -> Change | None:
        """The bank is slow with this attempt: a new expected arrival, said once per attempt."""
        if self.delayed_attempt == self.attempt:
            return None
        return self._move(now, PROCESSING, "delayed", DELAY_MESSAGE, stay=True, delayed_attempt=self.attempt,
                          expected_arrival_at=expected_at.isoformat(timespec="seconds"),
                          expected_arrival_note="银行处理延迟，预计到账时间已更新")


@dataclass(frozen=True)
class Change:
    """One move: the state it was made from (the write's condition), the new state, its timeline entry,
    and what must commit with it."""
    before: Repayment
    after: Repayment
    entry: dict
    release_fen: int = 0               # monthly allowance usage given back (it will never settle)
    settle_attempt: int | None = None  # a settlement message for this attempt goes out with it

    @property
    def event(self) -> str:
        return self.entry["event"]


@dataclass(frozen=True)
class Verification:
    code: str        # texted to the user, never stored
    salt: str
    hash: str
    expires_at: str


def new_verification(repayment_id: str, now: dt.datetime, ttl_seconds: int) -> Verification:
    code, salt = new_code(), secrets.token_hex(16)
    return Verification(code, salt, hash_code(code, salt=salt, repayment_id=repayment_id),
                        clock.isoformat(now + dt.timedelta(seconds=ttl_seconds)))


def open_repayment(*, repayment_id: str, user_id: str, username: str, kind: str, payee: dict, fee: Fee,
                   month: str, arrival: Arrival, due_date: dt.date | None, now: dt.datetime,
                   verification: Verification | None, schedule_id: str | None = None) -> Repayment:
    """A new repayment: processing (settlement of attempt 1), or awaiting its SMS code when stepped up."""
    at = clock.isoformat(now)
    if verification is None:
        status, message = PROCESSING, "还款已提交，正在处理。"
    else:
        status, message = VERIFICATION_REQUIRED, "还款已提交。金额较大，请输入短信验证码确认。"
    repayment = Repayment(
        id=repayment_id, user_id=user_id, username=username, kind=kind, payee=payee,
        amount_fen=fee.amount_fen, fee_fen=fee.fee_fen, fee_lines=fee.lines, fee_schedule_version=fee.version,
        usage_month=month, status=status, attempt=1, created_at=at, updated_at=at, processing_since=at,
        expected_arrival_at=arrival.expected_at.isoformat(timespec="seconds"), expected_arrival_note=arrival.note,
        due_date=due_date.isoformat() if due_date else None, warning=due_date_warning(arrival, due_date),
        schedule_id=schedule_id,
        timeline=({"at": at, "status": status, "event": "created", "message": message},))
    if verification is None:
        return repayment
    return dataclasses.replace(
        repayment, verify_salt=verification.salt, verify_hash=verification.hash, verify_attempts=0,
        verify_expires_at=verification.expires_at, verify_sent_at=at, verify_resends=0)


def receipt_of(repayment: Repayment) -> Receipt:
    """A succeeded repayment's receipt; any other status has none yet (→ 409)."""
    if repayment.status != SUCCEEDED or not repayment.actual_arrival_at:
        raise RuleViolation("只有还款成功后才能开具电子回单，请在到账后再试。", code="receipt_not_available")
    return Receipt(serial=receipt_serial(repayment.id), repayment_id=repayment.id, kind=repayment.kind,
                   amount_fen=repayment.amount_fen, fee_fen=repayment.fee_fen, payee=mask_payee(repayment.payee),
                   submitted_at=repayment.created_at, settled_at=repayment.actual_arrival_at)
