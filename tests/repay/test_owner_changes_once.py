"""Verify, resend-code and cancel accept an optional Idempotency-Key (#11): a repeated request with the
same key replays the first answer instead of acting again; without a key they act as before."""
import datetime as dt
import re

from tests.repay.conftest import card

LARGE = "6000.00"   # above the step-up threshold: waits for its SMS code


def _codes(sms_sent, phone="+8613800138001"):
    return [re.search(r"验证码 (\d{6})", text).group(1) for to, text in sms_sent() if to == phone]


def _post(as_alice, repayment_id, action, key, body=None):
    return as_alice.api.post(f"/repayments/{repayment_id}/{action}", json_body=body, token=as_alice.user.token,
                             headers={"Idempotency-Key": key})


def test_a_repeated_resend_with_one_key_texts_one_new_code(as_alice, business_hours, sms_sent):
    created = as_alice.create(card(LARGE)).json
    business_hours.advance(dt.timedelta(minutes=2))   # past the one-a-minute resend interval
    first = _post(as_alice, created["id"], "resend-code", "resend-1")
    again = _post(as_alice, created["id"], "resend-code", "resend-1")
    assert first.status == again.status == 200
    assert again.headers.get("idempotent-replayed") == "true" and "idempotent-replayed" not in first.headers
    assert len(_codes(sms_sent)) == 2          # the creation's code and one resend, not two
    new_code = _codes(sms_sent)[-1]
    assert as_alice.verify(created["id"], new_code).json["status"] == "processing"


def test_a_repeated_verify_with_one_key_replays_the_answer(as_alice, business_hours, sms_sent):
    created = as_alice.create(card(LARGE)).json
    code = _codes(sms_sent)[-1]
    first = _post(as_alice, created["id"], "verify", "verify-1", {"code": code})
    again = _post(as_alice, created["id"], "verify", "verify-1", {"code": code})
    assert first.status == again.status == 200 and again.json == first.json
    assert again.headers.get("idempotent-replayed") == "true"
    other = _post(as_alice, created["id"], "verify", "verify-1", {"code": "000000" if code != "000000" else "111111"})
    assert other.status == 422 and other.json["error"]["code"] == "idempotency_key_reused"


def test_a_repeated_cancel_with_one_key_replays_and_a_bad_key_is_refused(as_alice, business_hours, sms_sent):
    created = as_alice.create(card(LARGE)).json
    refused = _post(as_alice, created["id"], "cancel", "k" * 256)
    assert refused.status == 400 and refused.json["error"]["code"] == "idempotency_key_invalid"
    assert as_alice.get(created["id"]).json["status"] == "verification_required"   # nothing changed
    first = _post(as_alice, created["id"], "cancel", "cancel-1")
    again = _post(as_alice, created["id"], "cancel", "cancel-1")
    assert first.status == again.status == 200 and first.json["status"] == "cancelled"
    assert again.headers.get("idempotent-replayed") == "true"
    events = [e["event"] for e in as_alice.get(created["id"]).json["timeline"]]
    assert events.count(events[-1]) == 1 and events[-1].startswith("cancel")


def test_the_three_routes_document_the_optional_header(api):
    paths = api.get("/openapi.json").json["paths"]
    for action in ("verify", "resend-code", "cancel"):
        parameters = paths[f"/repayments/{{repayment_id}}/{action}"]["post"]["parameters"]
        header = [p for p in parameters if p["in"] == "header"]
        assert [(p["name"], p["required"]) for p in header] == [("Idempotency-Key", False)], action
