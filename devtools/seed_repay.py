"""Demo repayments for ``make serve``: alice has one of each outcome; the event runner settles them."""
from __future__ import annotations

from chalicelib.kernel.actor import Actor
from chalicelib.repay import schemas, service

CARD = "6225880137654324"  # a Luhn-valid demo number (only its last 4 digits are kept)

ALICE = [
    # (idempotency key, body) — the amount's fen digits pick the simulator's outcome (README, "Simulator")
    ("seed-alice-card", {"amount": "1234.50", "payee": {"kind": "credit_card", "issuer": "招商银行",
                                                        "card_number": CARD}}),
    ("seed-alice-loan", {"amount": "800.51", "payee": {"kind": "loan", "platform": "微粒贷",
                                                       "contract_number": "WLD-2026-0001"}}),
    ("seed-alice-power", {"amount": "88.55", "payee": {"kind": "utility", "utility": "electricity",
                                                       "biller": "国网上海市电力公司", "account_number": "3100123456",
                                                       "city": "上海"}}),
    ("seed-alice-delay", {"amount": "300.56", "payee": {"kind": "credit_card", "issuer": "工商银行",
                                                        "card_number": CARD}}),
]
BOB = [
    ("seed-bob-gas", {"amount": "66.00", "payee": {"kind": "utility", "utility": "gas", "biller": "上海燃气",
                                                   "account_number": "8800112233", "city": "上海"}}),
]


def seed(users) -> None:
    for name, repayments in (("alice", ALICE), ("bob", BOB)):
        user = users[name]
        caller = Actor(user_id=user.user_id, username=user.username)
        for key, body in repayments:
            service.create(caller, key, schemas.RepaymentRequest.model_validate(body), service.current())
    print("[seed] repay: alice has a settled card repayment, a failed loan (retryable), a failed utility "
          "bill (not retryable) and a delayed card repayment; bob a gas bill", flush=True)
