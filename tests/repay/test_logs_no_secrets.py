"""No card number, phone number, SMS code or token ever reaches the logs."""
import logging
import re

from tests.repay.conftest import BAD_CARD, CARD, card, run_worker


def test_a_full_flow_logs_none_of_the_secrets(as_alice, business_hours, sms_sent, capfd, caplog):
    caplog.set_level(logging.INFO)  # what production runs at (LOG_LEVEL); ours and every library's
    token = as_alice.user.token
    created = as_alice.create(card("6000.00"))                       # step-up: SMS code to the phone
    code = re.search(r"(\d{6})", sms_sent()[-1][1]).group(1)
    as_alice.verify(created.json["id"], f"{(int(code) + 1) % 1_000_000:06d}")   # a wrong code first
    as_alice.verify(created.json["id"], code)
    run_worker()
    as_alice.create(card("100.00", payee={"kind": "credit_card", "issuer": "招商银行", "card_number": BAD_CARD}))
    as_alice.api.get("/repayments", headers={"Authorization": f"Bearer {token}x"})  # rejected token
    as_alice.api.get("/me", token=token)

    out, err = capfd.readouterr()
    logged = out + err + "\n".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    assert "request refused" in logged and "token rejected" in logged, "the flow's own logs were captured"
    for secret in (CARD, BAD_CARD, "13800138001", code, token, token.split(".")[1]):
        assert secret not in logged, f"secret leaked into logs: {secret[:6]}…"
