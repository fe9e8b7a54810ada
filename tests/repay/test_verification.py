"""Step-up verification above the threshold: SMS code, hashed at rest, 5 minutes, 5 attempts."""
import datetime as dt
import re

from chalicelib.kernel import clock
from chalicelib.repay import store
from tests.repay.conftest import card, queued_messages, run_worker

LARGE = "6000.00"   # above STEP_UP_THRESHOLD_FEN (5,000.00 CNY)


def _code(sms_sent, phone="+8613800138001"):
    texts = [text for to, text in sms_sent() if to == phone]
    assert texts, "no SMS was sent"
    return re.search(r"验证码 (\d{6})", texts[-1]).group(1)


def _wrong(code):
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_large_repayment_needs_the_sms_code(as_alice, business_hours, sms_sent):
    assert as_alice.quote(card(LARGE)).json["verification_required"] is True
    created = as_alice.create(card(LARGE))
    assert created.status == 202
    assert created.json["status"] == "verification_required"
    assert created.json["verification"]["attempts_left"] == 5
    assert queued_messages() == []                        # nothing settles before verification
    code = _code(sms_sent)
    item = store.get_repayment(as_alice.user.user_id, created.json["id"])
    assert code not in repr(item) and len(item["verify_hash"]) == 64   # only an HMAC with a salt is stored

    verified = as_alice.verify(created.json["id"], code)
    assert verified.status == 200 and verified.json["status"] == "processing"
    assert verified.json["verification"] is None
    run_worker()
    done = as_alice.get(created.json["id"]).json
    assert done["status"] == "succeeded"
    assert [e["event"] for e in done["timeline"]] == ["created", "verified", "settled"]
    # a repeated tap on "confirm" is harmless
    assert as_alice.verify(created.json["id"], code).json["status"] == "succeeded"


def test_at_the_threshold_no_verification(as_alice, business_hours, sms_sent):
    assert as_alice.create(card("5000.00")).status == 201
    assert sms_sent() == []


def test_wrong_code_counts_down_then_cancels(as_alice, business_hours, sms_sent):
    repayment_id = as_alice.create(card(LARGE)).json["id"]
    wrong = _wrong(_code(sms_sent))
    for left in (4, 3, 2, 1):
        response = as_alice.verify(repayment_id, wrong)
        assert response.status == 422
        assert response.json["error"]["code"] == "invalid_code" and response.json["error"]["attempts_left"] == left
    last = as_alice.verify(repayment_id, wrong)
    assert last.status == 422 and last.json["error"]["code"] == "verification_attempts_exhausted"
    cancelled = as_alice.get(repayment_id).json
    assert cancelled["status"] == "cancelled"
    assert cancelled["notice"]["code"] == "verification_attempts_exhausted"
    # even the right code is too late now, and nothing was queued for settlement
    after = as_alice.verify(repayment_id, _code(sms_sent))
    assert after.status == 409
    assert queued_messages() == []
    # the cancelled amount no longer counts against the month's free allowance
    assert store.get_usage(as_alice.user.user_id, "2026-11", "credit_card") == 0


def test_code_expires_after_five_minutes(as_alice, business_hours, sms_sent):
    repayment_id = as_alice.create(card(LARGE)).json["id"]
    code = _code(sms_sent)
    clock.advance(dt.timedelta(minutes=5, seconds=1))
    response = as_alice.verify(repayment_id, code)
    assert response.status == 409 and response.json["error"]["code"] == "verification_expired"
    shown = as_alice.get(repayment_id).json
    assert shown["status"] == "cancelled" and shown["timeline"][-1]["event"] == "verification_expired"


def test_history_shows_a_lapsed_verification_as_cancelled(as_alice, business_hours, sms_sent):
    repayment_id = as_alice.create(card(LARGE)).json["id"]
    clock.advance(dt.timedelta(minutes=6))
    listed = as_alice.api.get("/repayments", token=as_alice.user.token).json["items"]
    assert [(i["id"], i["status"]) for i in listed] == [(repayment_id, "cancelled")]
    assert store.get_usage(as_alice.user.user_id, "2026-11", "credit_card") == 0


def test_code_just_inside_five_minutes_works(as_alice, business_hours, sms_sent):
    repayment_id = as_alice.create(card(LARGE)).json["id"]
    clock.advance(dt.timedelta(minutes=4, seconds=59))
    assert as_alice.verify(repayment_id, _code(sms_sent)).json["status"] == "processing"


def test_verify_input_and_ownership(as_alice, as_bob, business_hours, sms_sent):
    repayment_id = as_alice.create(card(LARGE)).json["id"]
    assert as_alice.verify(repayment_id, "12345").status == 400
    assert as_alice.api.post(f"/repayments/{repayment_id}/verify", json_body={"code": 123456},
                             token=as_alice.user.token).status == 400
    assert as_bob.verify(repayment_id, _code(sms_sent)).status == 404
    small = as_alice.create(card("10.00")).json["id"]
    assert as_alice.verify(small, "123456").status == 409
