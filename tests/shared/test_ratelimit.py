import datetime as dt

import pytest

from chalicelib.adapters import ratelimit
from chalicelib.edge import errors
from chalicelib.kernel import clock


def test_limit_allows_up_to_count_then_429_until_the_window_ends(aws, monkeypatch):
    monkeypatch.setenv("RATE_LIMITS", "kb_feedback=3/60")
    from chalicelib import config
    config.reload()
    clock.freeze(dt.datetime(2026, 11, 24, 8, 0, 10, tzinfo=dt.UTC))
    for _ in range(3):
        ratelimit.hit("kb_feedback", "u1")
    with pytest.raises(errors.TooManyRequests) as refused:
        ratelimit.hit("kb_feedback", "u1")
    assert refused.value.status == 429
    assert refused.value.headers["Retry-After"] == "50"
    ratelimit.hit("kb_feedback", "u2")  # other users are not affected
    clock.advance(dt.timedelta(seconds=50))
    ratelimit.hit("kb_feedback", "u1")  # next window


def test_unknown_action_is_not_limited(aws):
    for _ in range(100):
        ratelimit.hit("not-configured", "u1")
