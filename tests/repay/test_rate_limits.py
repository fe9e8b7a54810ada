"""Per-user limits on creating repayments and on verification attempts: 429 + Retry-After, nothing created."""
import pytest

from tests.repay.conftest import card


@pytest.fixture
def tight_limits(monkeypatch, aws):
    from chalicelib import config
    monkeypatch.setenv("RATE_LIMITS", "repayment_create=3/3600,repayment_verify=2/300")
    config.reload()


def test_creating_beyond_the_limit_is_429_and_creates_nothing(tight_limits, as_alice, as_bob, business_hours):
    for _ in range(3):
        assert as_alice.create(card("10.00")).status == 201
    refused = as_alice.create(card("10.00"))
    assert refused.status == 429
    assert int(refused.headers["retry-after"]) > 0
    assert refused.json["error"]["code"] == "rate_limited"
    assert len(as_alice.api.get("/repayments", token=as_alice.user.token).json["items"]) == 3
    assert as_bob.create(card("10.00")).status == 201      # limits are per user


def test_verification_attempts_are_limited(tight_limits, as_alice, business_hours):
    created = as_alice.create(card("6000.00"))
    assert created.status == 202
    assert as_alice.verify(created.json["id"], "000000").status in (400, 422)
    assert as_alice.verify(created.json["id"], "000001").status in (400, 422)
    refused = as_alice.verify(created.json["id"], "000002")
    assert refused.status == 429 and "retry-after" in refused.headers
    assert as_alice.get(created.json["id"]).json["verification"]["attempts_left"] == 3  # the 429 didn't count
