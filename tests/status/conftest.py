"""Service-notice test helpers: a notice body, and the browser-like client of the page tests."""
from __future__ import annotations

import pytest

from tests.web.conftest import Browser

CMB = "招商银行信用卡还款通道维护中，预计 14:00 恢复"


def notice(**fields) -> dict:
    """A notice in force at TEST_CLOCK_START (Wednesday 2026-12-09 10:30 Shanghai) until 14:00."""
    return {"text": CMB, "scope": "issuer:招商银行", "ends_at": "2026-12-09T14:00:00+08:00", **fields}


@pytest.fixture
def browser_for(api):
    return lambda: Browser(api)


@pytest.fixture
def signed_in(browser_for):
    from infra import local

    def make(username: str, door: str = "agent"):
        b = browser_for()
        assert b.sign_in(door, username, local.DEMO_PASSWORD).status == 303
        return b
    return make
