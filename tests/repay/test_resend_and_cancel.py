"""While the SMS code is awaited: a new code (limited, the old one dies) and the owner cancelling."""
import datetime as dt
import re

from chalicelib.kernel import clock
from chalicelib.kernel.actor import Actor
from chalicelib.repay import model, service, store, verification
from tests.repay.conftest import card, queued_messages, run_worker

LARGE = "6000.00"
ALICE_PHONE = "+8613800138001"


def _codes(sms_sent):
    return [re.search(r"验证码 (\d{6})", text).group(1) for to, text in sms_sent() if to == ALICE_PHONE]


def _resend(as_user, repayment_id):
    return as_user.api.post(f"/repayments/{repayment_id}/resend-code", token=as_user.user.token)


def _cancel(as_user, repayment_id):
    return as_user.api.post(f"/repayments/{repayment_id}/cancel", token=as_user.user.token)


# ---------------------------------------------------------------- resend
def test_a_new_code_replaces_the_old_one(as_alice, business_hours, sms_sent):
    repayment_id = as_alice.create(card(LARGE)).json["id"]
    clock.advance(dt.timedelta(minutes=4))
    resent = _resend(as_alice, repayment_id)
    assert resent.status == 200 and resent.json["status"] == "verification_required"
    assert resent.json["timeline"][-1]["event"] == "code_resent"
    # the new code has its own 5 minutes
    assert resent.json["verification"]["expires_at"] == clock.isoformat(clock.now() + dt.timedelta(minutes=5))
    old, new = _codes(sms_sent)
    if old != new:   # one in a million they coincide; the hash still changed (new salt)
        wrong = as_alice.verify(repayment_id, old)
        assert wrong.status == 422 and wrong.json["error"]["code"] == "invalid_code"
    clock.advance(dt.timedelta(minutes=3))              # past the first code's expiry, inside the new one's
    assert as_alice.verify(repayment_id, new).json["status"] == "processing"
    run_worker()
    assert as_alice.get(repayment_id).json["status"] == "succeeded"


def test_resends_wait_a_minute_apart_and_stop_after_three(as_alice, business_hours, sms_sent):
    repayment_id = as_alice.create(card(LARGE)).json["id"]
    clock.advance(dt.timedelta(seconds=20))
    too_soon = _resend(as_alice, repayment_id)
    assert too_soon.status == 429 and too_soon.json["error"]["code"] == "resend_too_soon"
    assert too_soon.headers["retry-after"] == "40" and "40 秒" in too_soon.json["error"]["message"]
    for _ in range(3):
        clock.advance(dt.timedelta(seconds=60))
        assert _resend(as_alice, repayment_id).status == 200
        assert _resend(as_alice, repayment_id).status == 429          # at once again: too soon
    clock.advance(dt.timedelta(minutes=2))
    spent = _resend(as_alice, repayment_id)
    assert spent.status == 429 and spent.json["error"]["code"] == "resend_limit_reached"
    assert "retry-after" not in spent.headers                        # waiting will not help
    assert len(_codes(sms_sent)) == 4                                # the first + 3 resends, no more
    assert as_alice.verify(repayment_id, _codes(sms_sent)[-1]).json["status"] == "processing"


def test_attempts_used_stay_used_after_a_resend(as_alice, business_hours, sms_sent):
    repayment_id = as_alice.create(card(LARGE)).json["id"]
    first = _codes(sms_sent)[0]
    as_alice.verify(repayment_id, f"{(int(first) + 1) % 1_000_000:06d}")
    clock.advance(dt.timedelta(minutes=1))
    assert _resend(as_alice, repayment_id).json["verification"]["attempts_left"] == 4


def test_resend_only_while_awaiting_and_only_for_the_owner(as_alice, as_bob, business_hours, sms_sent):
    repayment_id = as_alice.create(card(LARGE)).json["id"]
    clock.advance(dt.timedelta(minutes=1))
    assert _resend(as_bob, repayment_id).status == 404
    small = as_alice.create(card("10.00")).json["id"]
    refused = _resend(as_alice, small)
    assert refused.status == 409 and refused.json["error"]["code"] == "not_awaiting_verification"
    clock.advance(dt.timedelta(minutes=5))
    lapsed = _resend(as_alice, repayment_id)
    assert lapsed.status == 409 and lapsed.json["error"]["code"] == "verification_expired"
    assert len(_codes(sms_sent)) == 1


def test_parallel_resends_give_one_valid_code(alice, as_alice, business_hours, sms_sent, monkeypatch):
    """Resend A has read the repayment when resend B commits: A's write fails its condition, A is decided
    again on B's state (too soon) — one new code, one SMS."""
    caller = Actor(user_id=alice.user_id, username=alice.username)
    repayment_id = as_alice.create(card(LARGE)).json["id"]
    clock.advance(dt.timedelta(minutes=1))
    real, interleaved = model.new_verification, []

    def then_b(*args, **kwargs):
        made = real(*args, **kwargs)
        if not interleaved:
            interleaved.append("B")
            interleaved.append(service.resend_code(caller, repayment_id, service.current()))
        return made

    monkeypatch.setattr(verification.model, "new_verification", then_b)
    try:
        service.resend_code(caller, repayment_id, service.current())
    except Exception as exc:  # noqa: BLE001
        assert exc.code == "resend_too_soon"
    else:
        raise AssertionError("both resends were written")
    monkeypatch.undo()
    assert interleaved[1]["status"] == "verification_required"      # B was written
    stored = store.get(alice.user_id, repayment_id)
    assert stored.verify_resends == 1 and [e["event"] for e in stored.timeline].count("code_resent") == 1
    codes = _codes(sms_sent)
    assert len(codes) == 2
    assert as_alice.verify(repayment_id, codes[-1]).json["status"] == "processing"


# ---------------------------------------------------------------- cancel
def test_the_owner_cancels_a_repayment_waiting_for_its_code(as_alice, business_hours, sms_sent):
    repayment_id = as_alice.create(card(LARGE)).json["id"]
    assert store.get_usage(as_alice.user.user_id, "2026-11", "credit_card") == 6000_00
    cancelled = _cancel(as_alice, repayment_id)
    assert cancelled.status == 200 and cancelled.json["status"] == "cancelled"
    assert cancelled.json["notice"]["code"] == "cancelled_by_user"
    assert [e["event"] for e in cancelled.json["timeline"]] == ["created", "cancelled_by_user"]
    assert store.get_usage(as_alice.user.user_id, "2026-11", "credit_card") == 0   # allowance given back
    # the code no longer confirms it, nothing was queued, and cancelling again changes nothing
    assert as_alice.verify(repayment_id, _codes(sms_sent)[0]).status == 409
    assert queued_messages() == []
    again = _cancel(as_alice, repayment_id)
    assert again.status == 200 and again.json["timeline"] == cancelled.json["timeline"]
    assert store.get_usage(as_alice.user.user_id, "2026-11", "credit_card") == 0


def test_cancel_refuses_others_and_repayments_under_way(as_alice, as_bob, business_hours):
    waiting = as_alice.create(card(LARGE)).json["id"]
    assert _cancel(as_bob, waiting).status == 404
    assert _cancel(as_alice, "rp_000").status == 404
    processing = as_alice.create(card("10.00")).json["id"]
    refused = _cancel(as_alice, processing)
    assert refused.status == 409 and refused.json["error"]["code"] == "not_cancellable"
    run_worker()
    assert _cancel(as_alice, processing).status == 409
    assert as_alice.get(processing).json["status"] == "succeeded"
    assert as_alice.get(waiting).json["status"] == "verification_required"   # bob's try changed nothing


def test_a_verify_committed_while_cancelling_wins_and_the_cancel_is_refused(alice, as_alice, business_hours,
                                                                            sms_sent, monkeypatch):
    """The cancel has read the repayment (awaiting its code) when the right code commits: the cancel's
    write fails its condition, it is decided again on what the verify wrote (processing → 409)."""
    repayment_id = as_alice.create(card(LARGE)).json["id"]
    code = _codes(sms_sent)[0]
    real, interleaved = model.Repayment.cancel_by_owner, []

    def verify_first(self, now):
        if not interleaved:
            interleaved.append(as_alice.verify(repayment_id, code).json["status"])
        return real(self, now)

    monkeypatch.setattr(model.Repayment, "cancel_by_owner", verify_first)
    refused = _cancel(as_alice, repayment_id)
    monkeypatch.undo()
    assert interleaved == ["processing"]
    assert refused.status == 409 and refused.json["error"]["code"] == "not_cancellable"
    final = store.get(alice.user_id, repayment_id)
    assert final.status == "processing" and "cancelled_by_user" not in [e["event"] for e in final.timeline]
    assert store.get_usage(alice.user_id, "2026-11", "credit_card") == 6000_00   # nothing given back
    assert len(queued_messages()) == 1                                           # it settles once
