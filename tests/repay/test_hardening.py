"""Issue #11, the repay side: full-width card numbers, a wrong code on a frozen account, and what the
verification limit counts."""
import re

import pytest

from chalicelib.repay import service, store
from tests.repay.conftest import CARD, card

FULL_WIDTH = CARD.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def _code(sms_sent):
    return re.search(r"验证码 (\d{6})", [text for _, text in sms_sent()][-1]).group(1)


def _wrong(code):
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_full_width_card_number_is_kept_as_ascii_digits(as_alice, business_hours):
    spaced = f"{FULL_WIDTH[:4]}\u3000{FULL_WIDTH[4:8]}－{FULL_WIDTH[8:]}"   # as a Chinese IME types it
    for number in (FULL_WIDTH, spaced):
        created = as_alice.create({**card("10.00"), "payee": {**card()["payee"], "card_number": number}})
        assert created.status == 201, created.json
        assert created.json["payee"]["card_last4"] == "4324"
        stored = store.get_repayment(as_alice.user.user_id, created.json["id"])
        assert stored["payee"]["card_last4"] == "4324"


@pytest.mark.parametrize("number", [CARD[:-1] + "²", CARD[:-1] + "Ⅳ", "٦٢٢٥٨٨٠١٣٧٦٥٤٣٢٤x"])
def test_a_card_number_with_non_digits_is_refused_in_chinese(as_alice, business_hours, number):
    response = as_alice.quote({**card("10.00"), "payee": {**card()["payee"], "card_number": number}})
    assert response.status == 400
    error = response.json["error"]
    assert error["field"] == "payee.credit_card.card_number"
    assert error["message"] == "payee.credit_card.card_number：卡号应为 12–19 位数字"


def test_a_wrong_code_on_a_frozen_account_is_423_and_uses_no_attempt(as_alice, business_hours, sms_sent):
    repayment_id = as_alice.create(card("6000.00")).json["id"]
    wrong = _wrong(_code(sms_sent))
    service.freeze_account(as_alice.user.user_id, reason="stolen_funds", case_id="case-7")
    for _ in range(6):     # more than the 5 attempts: none is used while frozen
        response = as_alice.verify(repayment_id, wrong)
        assert response.status == 423 and response.json["error"]["code"] == "account_frozen"
    service.unfreeze_account(as_alice.user.user_id, actor="lead")
    shown = as_alice.get(repayment_id).json
    assert shown["status"] == "verification_required" and shown["verification"]["attempts_left"] == 5
    assert as_alice.verify(repayment_id, _code(sms_sent)).json["status"] == "processing"


@pytest.fixture
def verify_limit_of_3(monkeypatch, aws):
    from chalicelib import config
    monkeypatch.setenv("RATE_LIMITS", "repayment_verify=3/300")
    config.reload()


def test_taps_that_find_nothing_to_verify_do_not_count_against_the_limit(verify_limit_of_3, as_alice,
                                                                        business_hours, sms_sent):
    small = as_alice.create(card("10.00")).json["id"]
    for _ in range(4):
        assert as_alice.verify(small, "123456").status == 409     # not awaiting verification
    large = as_alice.create(card("6000.00")).json["id"]
    code = _code(sms_sent)
    assert as_alice.verify(large, _wrong(code)).status == 422
    assert as_alice.verify(large, code).json["status"] == "processing"


def test_a_tap_that_lost_a_race_is_decided_again_not_answered_409(verify_limit_of_3, as_alice, business_hours,
                                                                  sms_sent, monkeypatch):
    """Two taps with the right code at once: the one whose write loses sees the other's and answers the same."""
    repayment_id = as_alice.create(card("6000.00")).json["id"]
    code = _code(sms_sent)
    from chalicelib.adapters import unit_of_work
    real_commit, interleaved = unit_of_work.DynamoUnitOfWork.commit, []

    def other_tap_first(uow):
        if not interleaved:
            interleaved.append(None)
            interleaved[0] = as_alice.verify(repayment_id, code)   # the parallel tap commits in between
        return real_commit(uow)

    with monkeypatch.context() as patched:
        patched.setattr(unit_of_work.DynamoUnitOfWork, "commit", other_tap_first)
        first = as_alice.verify(repayment_id, code)
    assert interleaved[0].status == 200 and interleaved[0].json["status"] == "processing"
    assert first.status == 200 and first.json["status"] == "processing"
    assert as_alice.verify(repayment_id, code).status == 200       # the limit (3) counted 2 code checks
    timeline = [e["event"] for e in as_alice.get(repayment_id).json["timeline"]]
    assert timeline == ["created", "verified"]
