"""A hung AWS dependency costs a request one read timeout, never a resend (chalicelib/adapters/deadline.py, #11 bug 2).

The dependency is a socket that accepts connections and never answers — what a hung DynamoDB
looks like to botocore; timeouts are shortened through the settings so the tests stay quick.
"""
import socket
import threading
import time

import pytest

from chalicelib.adapters import deadline


@pytest.fixture
def black_hole():
    """A TCP endpoint that accepts every connection and never answers; counts the requests it swallowed."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.2)
    state = {"requests": 0, "stop": False, "held": []}

    def accept():
        while not state["stop"]:
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            conn.settimeout(0.5)
            try:
                if conn.recv(65536):
                    state["requests"] += 1
            except OSError:
                pass
            state["held"].append(conn)
    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}", state
    state["stop"] = True
    thread.join(timeout=5)
    for conn in state["held"]:
        conn.close()
    server.close()


@pytest.fixture
def hung_aws(black_hole, monkeypatch):
    """Every AWS client of ``chalicelib.adapters.aws`` talks to the black hole, with 0.3 s read timeouts."""
    from chalicelib import config
    from chalicelib.adapters import aws
    url, state = black_hole
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    monkeypatch.setenv("AWS_READ_TIMEOUT_SECONDS", "0.3")
    monkeypatch.setenv("AWS_CONNECT_TIMEOUT_SECONDS", "0.3")
    config.reload()
    aws.reset()
    yield state
    monkeypatch.undo()
    config.reload()
    aws.reset()


def _get(table="t"):
    from chalicelib.adapters import aws
    return aws.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": "x"}})


def test_inside_a_request_a_timed_out_service_is_neither_retried_nor_called_again(hung_aws):
    from botocore.exceptions import ReadTimeoutError

    from chalicelib.adapters import aws
    aws.client("dynamodb")   # created once per container, before any request
    started = time.monotonic()
    with deadline.request_budget():
        with pytest.raises(ReadTimeoutError):   # not retried
            _get()
        with pytest.raises(deadline.DependencyTimeout):   # the next call fails at once
            _get()
    assert time.monotonic() - started < 1.5   # one read timeout (0.3 s), not 3 attempts × 2 calls
    time.sleep(0.6)
    assert hung_aws["requests"] == 1          # sent once: a write is never applied twice when it recovers


def test_outside_a_request_botocore_retries_as_configured(hung_aws):
    """The SQS worker and schedules keep botocore's retries (they have no caller waiting)."""
    from botocore.exceptions import ReadTimeoutError
    with pytest.raises(ReadTimeoutError):
        _get()
    time.sleep(0.6)
    assert hung_aws["requests"] == 3          # AWS_MAX_ATTEMPTS


def test_no_call_starts_once_the_budget_is_spent(hung_aws, monkeypatch):
    from chalicelib import config
    monkeypatch.setenv("REQUEST_BUDGET_SECONDS", "0.7")   # 0.1 s left to start a call (0.3 + 0.3 per call)
    config.reload()
    with deadline.request_budget():
        time.sleep(0.2)
        with pytest.raises(deadline.DependencyTimeout, match="budget"):
            _get()
    time.sleep(0.6)
    assert hung_aws["requests"] == 0


def test_lambda_remaining_time_shortens_the_budget(hung_aws):
    with deadline.request_budget(remaining_ms=1000):   # less than connect + read + 0.5 s margin left
        with pytest.raises(deadline.DependencyTimeout, match="budget"):
            _get()
    assert hung_aws["requests"] == 0


def test_the_rate_limiter_fails_closed_at_once(hung_aws, monkeypatch):
    """A counter store that hangs refuses the limited action (503 + Retry-After) after one timeout;
    the action's own DynamoDB call is then not attempted in the same request."""
    from chalicelib.adapters import aws, ratelimit
    from chalicelib.config import settings
    from chalicelib.edge import errors
    aws.table(settings().limits_table), aws.client("dynamodb")
    started = time.monotonic()
    with deadline.request_budget():
        with pytest.raises(errors.ServiceUnavailable) as refused:
            ratelimit.hit("repayment_create", "u1")
        with pytest.raises(deadline.DependencyTimeout):
            _get("repayments")
    assert refused.value.status == 503 and refused.value.headers["Retry-After"].isdigit()
    assert time.monotonic() - started < 1.5
