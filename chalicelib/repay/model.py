"""Repayment rules as plain data and functions: statuses, transitions, failures, arrival, masking, codes."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from chalicelib.calendar import BusinessCalendar
from chalicelib.repay.fees import ArrivalRule

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
KB_DELAY = "repayment-delay"


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
}


# ---------------------------------------------------------------- payee details
def luhn_valid(number: str) -> bool:
    if not number.isdigit():
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


def mask_tail(value: str, keep: int = 4) -> str:
    return "*" * max(0, len(value) - keep) + value[-keep:]


UTILITIES = {"water": "水费", "electricity": "电费", "gas": "燃气费"}
KIND_LABELS = {"credit_card": "信用卡还款", "loan": "贷款还款", "utility": "生活缴费"}


# ---------------------------------------------------------------- arrival
@dataclass(frozen=True)
class Arrival:
    expected_at: dt.datetime   # aware, in the calendar's zone
    note: str

    @property
    def date(self) -> dt.date:
        return self.expected_at.date()


def estimate_arrival(rule: ArrivalRule, submitted_at: dt.datetime, calendar: BusinessCalendar) -> Arrival:
    local = calendar.local(submitted_at)
    if rule.mode == "realtime":
        return Arrival(local, "实时到账")
    if rule.mode == "within_hours":
        return Arrival(local + dt.timedelta(hours=rule.hours or 24), f"{rule.hours or 24} 小时内到账")
    cutoff = rule.cutoff or dt.time(17, 0)
    cutoff_text = cutoff.strftime("%H:%M")
    if calendar.is_business_day(local.date()) and local.time() < cutoff:
        day, note = local.date(), f"工作日 {cutoff_text} 前提交，预计当日到账"
    else:
        day = calendar.next_business_day(local.date())
        note = f"非工作日或 {cutoff_text} 后提交，预计下一个工作日（{day.isoformat()}）到账"
    end_of_day = dt.datetime.combine(day, dt.time(23, 59, 59), calendar.zone)
    return Arrival(end_of_day, note)


def due_date_warning(arrival: Arrival, due_date: dt.date | None) -> dict | None:
    if due_date is None or arrival.date <= due_date:
        return None
    return {"code": "arrives_after_due_date",
            "message": f"预计 {arrival.date.isoformat()} 到账，晚于还款日 {due_date.isoformat()}，可能产生逾期费用。"
                       f"建议尽早还款或联系发卡行。",
            "kb_article": KB_DELAY}


# ---------------------------------------------------------------- verification codes
def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def hash_code(code: str, *, salt: str, repayment_id: str) -> str:
    """HMAC-SHA256 keyed by a per-repayment random salt: the code itself is never stored."""
    return hmac.new(bytes.fromhex(salt), f"{repayment_id}:{code}".encode(), hashlib.sha256).hexdigest()


def code_matches(code: str, *, salt: str, repayment_id: str, expected_hash: str) -> bool:
    return hmac.compare_digest(hash_code(code, salt=salt, repayment_id=repayment_id), expected_hash)


def new_repayment_id(now: dt.datetime) -> str:
    """``rp_`` + 12 hex digits of epoch milliseconds + 8 random hex: ids sort by creation time."""
    return f"rp_{int(now.timestamp() * 1000):012x}{secrets.token_hex(4)}"
