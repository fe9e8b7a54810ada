"""电子回单: only for the owner's succeeded repayments; the public check says true only for an issued receipt."""
import dataclasses

import pytest

from chalicelib.repay import model
from tests.repay.conftest import card, loan, run_worker

SECRET = "test-receipt-key-0123456789abcdef0123456789"


@pytest.fixture
def receipts_on(monkeypatch, aws):
    from chalicelib import config
    monkeypatch.setenv("RECEIPT_SECRET", SECRET)
    config.reload()


def _receipt(as_user, repayment_id, html=False):
    return as_user.api.get(f"/repayments/{repayment_id}/receipt{'.html' if html else ''}", token=as_user.user.token)


def _check(api, serial, code, ip=None):
    from urllib.parse import urlencode
    return api.get("/receipts/verify?" + urlencode({"serial": serial, "code": code}))


def _settled(as_alice, body):
    repayment_id = as_alice.create(body).json["id"]
    run_worker()
    assert as_alice.get(repayment_id).json["status"] == "succeeded"
    return repayment_id


def test_receipt_only_once_succeeded_and_only_for_the_owner(receipts_on, as_alice, as_bob, business_hours):
    repayment_id = as_alice.create(card("3000.00")).json["id"]
    for html in (False, True):
        early = _receipt(as_alice, repayment_id, html)
        assert early.status == 409 and early.json["error"]["code"] == "receipt_not_available"
        assert "到账后" in early.json["error"]["message"]
    run_worker()
    for html in (False, True):
        assert _receipt(as_bob, repayment_id, html).status == 404          # someone else's id: not found
    assert _receipt(as_alice, "rp_nonsense", False).status == 404

    shown = _receipt(as_alice, repayment_id)
    assert shown.status == 200, shown.json
    body = shown.json
    assert body["serial"] == "RD" + repayment_id[3:].upper()
    assert (body["amount"], body["fee"], body["total"]) == ("3000.00", "1.00", "3001.00")
    assert body["payee"] == "招商银行 信用卡 尾号 4324" and "6225880137654324" not in shown.text
    assert body["submitted_at"] == "2026-11-25 10:00:00" and body["settled_at"] == "2026-11-25 10:00:00"
    assert len(body["verification_code"]) == 20
    assert _receipt(as_alice, repayment_id).json == body               # asking again: the same receipt


def test_failed_and_cancelled_repayments_have_no_receipt(receipts_on, as_alice, business_hours):
    failed = as_alice.create(loan("800.55")).json["id"]      # the simulator refuses .55 (see connector.py)
    run_worker()
    assert as_alice.get(failed).json["status"] == "failed"
    assert _receipt(as_alice, failed).status == 409
    waiting = as_alice.create(card("6000.00")).json["id"]
    assert _receipt(as_alice, waiting).status == 409
    as_alice.api.post(f"/repayments/{waiting}/cancel", token=as_alice.user.token)
    assert _receipt(as_alice, waiting).status == 409


def test_printable_receipt_is_escaped_self_contained_chinese(receipts_on, as_alice, business_hours):
    body = card("100.00")
    body["payee"]["issuer"] = "<script>alert(1)</script>银行"
    repayment_id = _settled(as_alice, body)
    page = _receipt(as_alice, repayment_id, html=True)
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<html lang="zh-CN">' in html and "电子回单" in html
    data = _receipt(as_alice, repayment_id).json
    for value in (data["serial"], data["verification_code"], "100.00", "尾号 4324", "2026-11-25 10:00:00"):
        assert value in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;银行" in html
    assert "http://" not in html and "https://" not in html and "<link" not in html and "<img" not in html


def test_verify_true_for_an_issued_receipt_false_for_altered_or_made_up(receipts_on, as_alice, api, business_hours):
    repayment_id = _settled(as_alice, card("3000.00"))
    receipt = _receipt(as_alice, repayment_id).json
    serial, code = receipt["serial"], receipt["verification_code"]

    ok = _check(api, serial, code)
    assert ok.status == 200
    assert ok.json == {"valid": True, "serial": serial, "message": ok.json["message"], "amount": "3000.00",
                       "settled_date": "2026-11-25", "payee": "招商银行 信用卡 尾号 4324"}
    assert _check(api, serial.lower(), code.lower()).json["valid"] is True     # as typed by a clerk

    altered = code[:-1] + ("0" if code[-1] != "0" else "1")
    other_serial = serial[:-1] + ("0" if serial[-1] != "0" else "1")   # one digit off: not issued
    for bad_serial, bad_code in ((serial, altered), (serial, "0" * 20), (serial, code + "0"), (serial, "假的"),
                                 ("RD" + "0" * 20, code), (other_serial, code),
                                 ("nonsense", code)):
        answer = _check(api, bad_serial, bad_code)
        assert answer.status == 200 and answer.json["valid"] is False, (bad_serial, bad_code)
        assert set(answer.json) == {"valid", "serial", "message"} and "伪造" in answer.json["message"]
    assert api.get("/receipts/verify?serial=" + serial).status == 400                       # no code at all


def test_only_issued_receipts_verify(receipts_on, as_alice, api, business_hours):
    """A code computed for a repayment whose receipt was never issued does not verify (nothing was printed)."""
    from chalicelib.repay import store
    repayment_id = _settled(as_alice, card("100.00"))
    never_issued = model.receipt_of(store.get(as_alice.user.user_id, repayment_id))
    assert _check(api, never_issued.serial, never_issued.code(SECRET)).json["valid"] is False
    assert _receipt(as_alice, repayment_id).status == 200
    assert _check(api, never_issued.serial, never_issued.code(SECRET)).json["valid"] is True


def test_the_code_covers_every_field_and_the_key():
    receipt = model.Receipt("RD" + "A" * 20, "rp_" + "a" * 20, "credit_card", 300000, 100, "招商银行 信用卡 尾号 4324",
                            "2026-11-25T02:00:00.000Z", "2026-11-25T10:00:00+08:00")
    code = receipt.code(SECRET)
    assert receipt.code_matches(code, SECRET) and receipt.code_matches(code.lower(), SECRET)
    assert not receipt.code_matches(code, SECRET + "x")
    for name, value in (("amount_fen", 300001), ("fee_fen", 0), ("payee", "工商银行 信用卡 尾号 4324"),
                        ("settled_at", "2026-11-26T10:00:00+08:00"), ("submitted_at", "2026-11-25T02:00:01.000Z"),
                        ("serial", "RD" + "B" * 20), ("kind", "loan")):
        assert dataclasses.replace(receipt, **{name: value}).code(SECRET) != code, name


def test_verify_is_rate_limited_per_client_ip(receipts_on, monkeypatch, as_alice, api, business_hours):
    from chalicelib import config
    monkeypatch.setenv("RATE_LIMITS", "receipt_verify=2/300")
    config.reload()
    assert _check(api, "RD" + "0" * 20, "0" * 20).status == 200
    assert _check(api, "RD" + "0" * 20, "1" * 20).status == 200
    refused = _check(api, "RD" + "0" * 20, "2" * 20)
    assert refused.status == 429 and int(refused.headers["retry-after"]) > 0


def test_without_a_key_receipts_are_unavailable_not_forgeable(monkeypatch, as_alice, api, business_hours):
    from chalicelib import config
    monkeypatch.delenv("RECEIPT_SECRET", raising=False)
    config.reload()
    repayment_id = _settled(as_alice, card("100.00"))
    refused = _receipt(as_alice, repayment_id)
    assert refused.status == 503 and refused.json["error"]["code"] == "receipts_unavailable"
    assert _check(api, "RD" + "0" * 20, "0" * 20).status == 503


def test_the_key_is_never_in_the_settings_repr(receipts_on):
    from chalicelib import config
    from chalicelib.repay import rules as context
    assert config.settings().receipt_secret == SECRET
    assert SECRET not in repr(config.settings()) and SECRET not in repr(context.rules())
    monkey = pytest.MonkeyPatch()
    monkey.setenv("RECEIPT_SECRET", "short")
    with pytest.raises(ValueError, match="RECEIPT_SECRET"):
        config.load()
    monkey.undo()
