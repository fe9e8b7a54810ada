"""The 智能客服 page (/help/assistant) in process: the help-door session, plain form posts (no script) with
CSRF and a once-only key, the transcript, 转人工 always there, bad input shown on the page, ownership."""
from __future__ import annotations

import re

import pytest

from tests.web.conftest import Browser

KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
CONVERSATION = re.compile(r'name="conversation_id" value="([^"]*)"')


@pytest.fixture
def alice_in(api, alice, demo_password):
    b = Browser(api)
    assert b.sign_in("help", "alice", demo_password).status == 303
    return b


@pytest.fixture
def demo_password():
    from infra import local
    return local.DEMO_PASSWORD


def send(b, page, **fields):
    return b.post("/help/assistant", {"csrf_token": b.csrf(page), "idempotency_key": KEY.search(page.text).group(1),
                                      "conversation_id": CONVERSATION.search(page.text).group(1), **fields})


def test_the_page_needs_the_help_session(api):
    answer = Browser(api).get("/help/assistant")
    assert answer.status == 303 and answer.headers["location"].startswith("/help/login")


def test_a_plain_form_post_adds_both_turns_to_the_transcript(alice_in):
    page = alice_in.get("/help/assistant")
    assert page.status == 200 and 'data-testid="handover"' in page.text
    answer = send(alice_in, page, text="还款又失败了咋回事")
    assert answer.status == 303 and answer.headers["location"].startswith("/help/assistant?c=")
    shown = alice_in.get(answer.headers["location"].split("#")[0])
    assert "还款又失败了咋回事" in shown.text and "余额不足" in shown.text
    assert 'href="/help/articles/repayment-failed"' in shown.text
    assert 'value="resolved"' in shown.text and 'data-testid="handover"' in shown.text


def test_a_resent_form_acts_once(alice_in):
    page = alice_in.get("/help/assistant")
    first = send(alice_in, page, text="收不到验证码")
    again = send(alice_in, page, text="收不到验证码")          # the same rendered form, submitted twice
    assert first.headers["location"] == again.headers["location"]
    shown = alice_in.get(first.headers["location"].split("#")[0])
    assert shown.text.count('data-testid="turn-user"') == 1


def test_a_clarifying_button_is_a_form_post_too(alice_in):
    page = alice_in.get("/help/assistant")
    asked = alice_in.get(send(alice_in, page, text="🙏🙏").headers["location"].split("#")[0])
    assert "没太看懂" in asked.text and 'value="clarify:verification_code"' in asked.text
    answered = alice_in.get(send(alice_in, asked, action="clarify:verification_code").headers["location"]
                            .split("#")[0])
    assert "60 秒后可以重新获取" in answered.text and "验证码问题" in answered.text


def test_bad_input_is_shown_on_the_page_with_what_was_typed(alice_in):
    page = alice_in.get("/help/assistant")
    empty = send(alice_in, page, text="  ")
    assert empty.status == 400 and "请输入您的问题" in empty.text
    long = send(alice_in, alice_in.get("/help/assistant"), text="a" * 10_240)     # 10 kB
    assert long.status == 400 and "一次最多输入" in long.text
    huge = send(alice_in, alice_in.get("/help/assistant"), text="还" * 10_240)    # 92 kB encoded: over the form limit
    assert huge.status == 413 and "回到智能客服" in huge.text
    no_csrf = alice_in.post("/help/assistant", {"text": "你好"})
    assert no_csrf.status == 403


def test_another_users_conversation_is_a_404_page(alice_in, api, bob, demo_password):
    page = alice_in.get("/help/assistant")
    mine = send(alice_in, page, text="手续费").headers["location"].split("#")[0]
    b = Browser(api)
    assert b.sign_in("help", "bob", demo_password).status == 303
    other = b.get(mine)
    assert other.status == 404 and "手续费" not in other.text
    hijack = send(b, b.get("/help/assistant"), text="你好", conversation_id=mine.rsplit("=", 1)[1])
    assert hijack.status == 404


def test_the_script_door_answers_json_with_the_next_key(alice_in):
    page = alice_in.get("/help/assistant")
    answer = alice_in.post("/help/assistant/turns", {"csrf_token": alice_in.csrf(page), "text": "kefu dianhua",
                                                     "idempotency_key": KEY.search(page.text).group(1)})
    assert answer.status == 200
    body = answer.json
    assert body["conversation_id"] and body["next_key"] and body["handover"] is True
    assert any(a["slug"] == "find-hotline" for a in body["articles"])
    bad = alice_in.post("/help/assistant/turns", {"csrf_token": alice_in.csrf(page), "text": ""})
    assert bad.status == 400 and bad.json["error"]["code"] == "empty_text"


def test_the_help_header_and_my_cases_link_to_the_assistant(alice_in):
    assert 'href="/help/assistant"' in alice_in.get("/help/cases").text
    assert 'href="/help/assistant"' in alice_in.get("/help").text


def test_an_article_opens_the_chat_with_its_context(alice_in):
    page = alice_in.get("/help/assistant?article=repayment-failed")
    assert page.status == 200 and "您刚看过《还款失败的原因和处理办法》" in page.text
    assert "您刚看过" not in alice_in.get("/help/assistant?article=no-such-article").text
