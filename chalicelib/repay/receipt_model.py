"""The receipt (电子回单) of a succeeded repayment as a value: its serial, what it shows, and its code."""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

_SERIAL_PREFIX = "RD"
RECEIPT_CODE_LENGTH = 20      # hex digits of the HMAC shown on the receipt (80 bits)


def receipt_serial(repayment_id: str) -> str:
    """The receipt's serial: ``RD`` + the repayment id's 20 hex digits, so issuing it twice gives the same one."""
    return _SERIAL_PREFIX + repayment_id.removeprefix("rp_").upper()


def mask_payee(payee: dict) -> str:
    """Who was paid, without a full number: issuer/platform/biller and the last 4 digits only."""
    if payee["kind"] == "credit_card":
        return f"{payee['issuer']} 信用卡 尾号 {payee['card_last4']}"
    if payee["kind"] == "loan":
        return f"{payee['platform']} 借款合同 尾号 {payee['contract_number'][-4:]}"
    return f"{payee['biller']} 户号 尾号 {payee['account_number'][-4:]}"


@dataclass(frozen=True)
class Receipt:
    serial: str
    repayment_id: str
    kind: str
    amount_fen: int
    fee_fen: int
    payee: str          # masked (``mask_payee``)
    submitted_at: str   # UTC, ``clock.isoformat``
    settled_at: str     # local time of arrival, ISO 8601 with offset

    @property
    def total_fen(self) -> int:
        return self.amount_fen + self.fee_fen

    @property
    def settled_date(self) -> str:
        return self.settled_at[:10]

    def signed_text(self) -> str:
        """Every field the code vouches for, in a fixed order (changing any one changes the code)."""
        return "|".join(("v1", self.serial, self.repayment_id, self.kind, str(self.amount_fen), str(self.fee_fen),
                         self.payee, self.submitted_at, self.settled_at))

    def code(self, secret: str) -> str:
        digest = hmac.new(secret.encode(), self.signed_text().encode(), hashlib.sha256).hexdigest()
        return digest[:RECEIPT_CODE_LENGTH].upper()

    def code_matches(self, code: str, secret: str) -> bool:
        """Constant-time: an altered code takes as long to refuse as a nearly right one."""
        return hmac.compare_digest(self.code(secret).encode(), code.strip().upper().encode())


def serial_format_ok(serial: str) -> bool:
    rest = serial.removeprefix(_SERIAL_PREFIX)
    return rest != serial and len(rest) == 20 and all(c in "0123456789ABCDEF" for c in rest)
