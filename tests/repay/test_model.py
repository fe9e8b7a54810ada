"""The Repayment aggregate's money and state rules, without AWS (no moto, no store): in the fast tier."""
import datetime as dt

import pytest

from chalicelib.repay import model
from chalicelib.repay.fees import Fee, FeeLine
from chalicelib.repay.model import RuleViolation

pytestmark = pytest.mark.unit

NOW = dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(minutes=1)
ARRIVAL = model.Arrival(dt.datetime(2026, 11, 25, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=8))), "当日到账")


def _fee(amount_fen=600_000, fee_fen=400):
    return Fee(amount_fen=amount_fen, fee_fen=fee_fen, lines=(FeeLine("service", "服务费", fee_fen),),
               allowance_fen=200_000, used_before_fen=0, allowance_applied_fen=200_000, version="2026-01")


def _open(*, code: bool = False, amount_fen=10_000, due_date=None):
    verification = model.new_verification("rp_1", NOW, 300) if code else None
    repayment = model.open_repayment(
        repayment_id="rp_1", user_id="u1", username="alice", kind="credit_card",
        payee={"kind": "credit_card", "issuer": "招商银行", "card_last4": "4324"}, fee=_fee(amount_fen, 0),
        month="2026-11", arrival=ARRIVAL, due_date=due_date, now=NOW, verification=verification)
    return repayment, verification


def test_a_small_repayment_opens_processing_a_large_one_awaits_its_code():
    small, _ = _open()
    assert (small.status, small.attempt, small.version) == ("processing", 1, 1)
    assert [e["event"] for e in small.timeline] == ["created"] and small.verify_hash is None
    large, verification = _open(code=True, amount_fen=600_000)
    assert large.status == "verification_required" and large.verify_attempts == 0
    assert verification.code not in repr(large) and large.verify_hash == verification.hash
    assert large.total_fen == 600_000 and large.attempts_left(5) == 5


def test_a_due_date_before_the_arrival_warns():
    repayment, _ = _open(due_date=dt.date(2026, 11, 24))
    assert repayment.warning["code"] == "arrives_after_due_date"
    assert _open(due_date=dt.date(2026, 11, 25))[0].warning is None


def test_wrong_codes_count_down_then_cancel_and_give_the_allowance_back():
    repayment, verification = _open(code=True, amount_fen=600_000)
    wrong = f"{(int(verification.code) + 1) % 1_000_000:06d}"
    for used in range(1, 5):
        change = repayment.verify(wrong, LATER, max_attempts=5)
        assert change.event == "verification_failed" and change.release_fen == 0
        assert change.settle_attempt is None
        assert change.before is repayment and change.after.version == repayment.version + 1
        repayment = change.after
        assert repayment.verify_attempts == used and repayment.status == "verification_required"
    last = repayment.verify(wrong, LATER, max_attempts=5)
    assert last.event == "verification_attempts_exhausted" and last.after.status == "cancelled"
    assert last.release_fen == 600_000 and last.after.verify_attempts == 5 and last.after.verify_hash is None
    with pytest.raises(RuleViolation) as late:
        last.after.verify(verification.code, LATER, max_attempts=5)
    assert late.value.code == "verification_attempts_exhausted"


def test_the_right_code_starts_settlement_of_the_first_attempt():
    repayment, verification = _open(code=True, amount_fen=600_000)
    change = repayment.verify(verification.code, LATER, max_attempts=5)
    assert change.event == "verified" and change.after.status == "processing"
    assert change.settle_attempt == 1 and change.release_fen == 0
    assert change.after.verify_hash is None and change.after.verified_at == change.entry["at"]
    assert change.after.timeline[-1] == change.entry
    with pytest.raises(RuleViolation) as again:
        change.after.verify(verification.code, LATER, max_attempts=5)
    assert again.value.code == "not_awaiting_verification"


def test_once_its_code_is_cleared_no_code_matches():
    """Salt and hash are cleared when a code is used or the repayment (or schedule) is cancelled: from then
    on every code is simply wrong, the right one included."""
    _, verification = _open(code=True, amount_fen=600_000)
    stored = dict(salt=verification.salt, repayment_id="rp_1", expected_hash=verification.hash)
    assert model.code_matches(verification.code, **stored)
    assert not model.code_matches(verification.code, **{**stored, "salt": None})
    assert not model.code_matches(verification.code, **{**stored, "expected_hash": None})


def test_a_code_expires_after_its_time_only():
    repayment, _ = _open(code=True, amount_fen=600_000)
    assert repayment.expire(NOW + dt.timedelta(seconds=299)) is None
    expired = repayment.expire(NOW + dt.timedelta(seconds=300))
    assert expired.event == "verification_expired" and expired.after.cancel_reason == "verification_expired"
    assert expired.release_fen == 600_000
    assert _open()[0].expire(NOW + dt.timedelta(days=1)) is None


def test_settle_and_fail_only_while_processing():
    repayment, _ = _open()
    settled = repayment.settle(LATER, ARRIVAL.expected_at)
    assert settled.after.status == "succeeded" and settled.after.actual_arrival_at.startswith("2026-11-25T23:59:59")
    with pytest.raises(RuleViolation):
        settled.after.fail(LATER, "insufficient_funds")
    with pytest.raises(RuleViolation):
        settled.after.settle(LATER, ARRIVAL.expected_at)


def test_a_retryable_failure_keeps_the_allowance_a_final_one_gives_it_back():
    repayment, _ = _open()
    retryable = repayment.fail(LATER, "insufficient_funds")
    assert retryable.after.status == "failed" and retryable.release_fen == 0
    assert retryable.after.failure.retryable is True
    final = repayment.fail(LATER, "invalid_account")
    assert final.release_fen == repayment.amount_fen and final.after.failure.code == "invalid_account"


def test_retry_starts_the_next_attempt_only_after_a_retryable_failure():
    repayment, _ = _open()
    with pytest.raises(RuleViolation) as processing:
        repayment.retry(LATER, ARRIVAL)
    assert processing.value.code == "not_retryable"
    failed = repayment.fail(LATER, "network_error").after
    retried = failed.retry(LATER, ARRIVAL)
    assert retried.after.status == "processing" and retried.after.attempt == 2 and retried.settle_attempt == 2
    assert retried.after.failure_reason is None and retried.after.retried
    assert retried.entry["message"] == "已重新提交（第 2 次尝试）。"
    with pytest.raises(RuleViolation) as final:
        repayment.fail(LATER, "invalid_account").after.retry(LATER, ARRIVAL)
    assert final.value.code == "not_retryable"


def test_a_delay_is_said_once_per_attempt():
    repayment, _ = _open()
    delayed = repayment.delay(LATER, ARRIVAL.expected_at)
    assert delayed.after.delayed and delayed.after.status == "processing"
    assert delayed.after.delayed_attempt == 1
    assert delayed.after.expected_arrival_note == "银行处理延迟，预计到账时间已更新"
    assert delayed.after.delay(LATER, ARRIVAL.expected_at) is None
    assert delayed.after.awaits_settlement(1) and not delayed.after.awaits_settlement(2)


def test_every_move_follows_the_transitions():
    for source, targets in model.TRANSITIONS.items():
        for target in model.STATUSES:
            assert model.can_move(source, target) == (target in targets)
    cancelled = _open(code=True, amount_fen=600_000)[0].expire(NOW + dt.timedelta(hours=1)).after
    for move in (lambda r: r.settle(LATER, ARRIVAL.expected_at), lambda r: r.fail(LATER, "network_error"),
                 lambda r: r.retry(LATER, ARRIVAL)):
        with pytest.raises(RuleViolation):
            move(cancelled)


def test_the_store_maps_a_repayment_and_writes_a_change_over_the_state_it_was_made_from():
    from chalicelib.repay import store
    repayment, verification = _open(code=True, amount_fen=600_000)
    assert store.from_item(store.to_item(repayment)) == repayment
    update = store.update(repayment.verify(verification.code, LATER, max_attempts=5))["Update"]
    assert update["ConditionExpression"] == "#status = :expect_status AND #version = :expect_version"
    values = update["ExpressionAttributeValues"]
    assert values[":expect_status"] == {"S": "verification_required"} and values[":expect_version"] == {"N": "1"}
    assert values[":new_status"] == {"S": "processing"}
    removed = update["UpdateExpression"].partition(" REMOVE ")[2].split(", ")
    # what is gone, and the sparse expiry-sweep index keys (no longer awaiting a code: out of by_verify_expiry)
    assert sorted(update["ExpressionAttributeNames"].get(r, r) for r in removed) == \
        ["gsi3pk", "gsi3sk", "verify_hash", "verify_salt"]
    assert update["UpdateExpression"].index("#status = :new_status") > update["UpdateExpression"].index("gsi1pk")
