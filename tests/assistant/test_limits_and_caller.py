"""Both assistant routes are rate-limited (#24 item 5): 429 with the common error shape and ``Retry-After``,
per user (signed in) or per client (anonymous), the same limit for the page's form as for the API; and the
caller's name from the token reaches the handover 工单 (item 2) over HTTP."""
from __future__ import annotations

import re

import pytest

from tests.web.conftest import Browser

TURNS = "/assistant/turns"
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


@pytest.fixture
def tight(monkeypatch, aws):
    from chalicelib import config
    monkeypatch.setenv("RATE_LIMITS", "assistant_turn=2/600,assistant_public=2/600")
    config.reload()


def test_signed_in_turns_beyond_the_limit_are_429_per_user(tight, api, alice, bob):
    for _ in range(2):
        assert api.post(TURNS, json_body={"text": "收不到验证码"}, token=alice.token).status == 200
    refused = api.post(TURNS, json_body={"text": "收不到验证码"}, token=alice.token)
    assert refused.status == 429, refused.json
    assert refused.json["error"]["code"] == "rate_limited" and refused.json["error"]["message"]
    assert int(refused.headers["retry-after"]) > 0
    assert api.post(TURNS, json_body={"text": "收不到验证码"}, token=bob.token).status == 200   # bob's own count


def test_anonymous_turns_beyond_the_limit_are_429(tight, api):
    for _ in range(2):
        assert api.post("/assistant/public/turns", json_body={"text": "手续费怎么收"}).status == 200
    refused = api.post("/assistant/public/turns", json_body={"text": "手续费怎么收"})
    assert refused.status == 429 and refused.json["error"]["code"] == "rate_limited"


def test_the_page_shares_the_limit_and_says_so_on_a_page(tight, api, alice):
    from infra import local
    b = Browser(api)
    assert b.sign_in("help", "alice", local.DEMO_PASSWORD).status == 303
    for _ in range(2):
        assert api.post(TURNS, json_body={"text": "收不到验证码"}, token=alice.token).status == 200
    page = b.get("/help/assistant")
    refused = b.post("/help/assistant", {"csrf_token": b.csrf(page), "idempotency_key": KEY.search(page.text).group(1),
                                         "conversation_id": "", "text": "收不到验证码"})
    assert refused.status == 429
    assert "频繁" in refused.text and 'href="/help/assistant"' in refused.text   # a way back, not a 500


def test_the_handover_case_carries_the_name_from_the_token(api, alice):
    from chalicelib.escalation import repository
    first = api.post(TURNS, json_body={"text": "收不到验证码"}, token=alice.token).json
    handed = api.post(TURNS, json_body={"conversation_id": first["conversation_id"], "text": "转人工"},
                      token=alice.token).json
    case = repository.store().get(handed["handover"]["case_id"])
    assert case is not None and case.username == "alice"      # alice has no repayments here to guess it from
