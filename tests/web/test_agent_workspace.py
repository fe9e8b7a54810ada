"""The agent workspace over the escalation services: queues, the 工单 page, actions with CSRF, step roles,
and the staff read of a user's repayments with its access record (page and JSON API)."""
from __future__ import annotations

import json
import re

import pytest

from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context
from tests.web.staff import signed_in

CARD = "6225880137654324"


def _actor(user, role=None) -> Actor:
    return Actor(user_id=user.user_id, username=user.username, roles=frozenset({role} if role else ()))


def _open_case(user, category="repayment_failed", description="还款失败了，钱却扣了", repayment_id=None) -> str:
    from chalicelib.escalation import service
    return service.open_case(_actor(user), Context.current(), category=category, description=description,
                             repayment_id=repayment_id).body["case_id"]


def _failed_repayment(api, user) -> str:
    """A loan repayment that fails (amount ending .51: insufficient funds), settled by the worker."""
    created = api.post("/repayments", token=user.token, headers={"Idempotency-Key": "ws-failed-1"}, json_body={
        "amount": "800.51", "payee": {"kind": "loan", "platform": "微粒贷", "contract_number": "WLD-2026-0001"}})
    assert created.status == 201, created.text
    from chalicelib.repay import service as repay
    from chalicelib.repay import store
    repayment = store.get(user.user_id, created.json["id"])
    repay.settle(f'{{"user_id": "{user.user_id}", "repayment_id": "{repayment.id}", "attempt": 1}}', repay.current())
    assert store.get(user.user_id, repayment.id).status == "failed"
    return created.json["id"]


def test_queue_lists_the_agents_steps_nearest_deadline_first(signed_in, agent, lead, alice, bob):
    first = _open_case(alice, description="最早的工单：还款失败")
    second = _open_case(bob, category="fees", description="手续费多收了")
    page = signed_in(agent).get("/agent")
    assert page.status == 200
    assert '<html lang="zh-CN">' in page.text
    order = re.findall(r'data-case="(RD-[^"]+)"', page.text)
    assert order[:2] == [first, second]
    assert "高级客服" not in re.search(r'data-testid="step-tabs">(.*?)</nav>', page.text, re.S).group(1)
    assert 'class="countdown" data-deadline="' in page.text
    lead_page = signed_in(lead).get("/agent")
    assert "高级客服" in lead_page.text and "法律与监管指引" in lead_page.text
    only_fees = signed_in(agent).get("/agent?priority=P3")
    assert re.findall(r'data-case="(RD-[^"]+)"', only_fees.text) == [second]


def test_cases_due_at_the_same_moment_are_listed_oldest_first(signed_in, agent):
    """Before opening (Wednesday 07:30 in Shanghai) P2 and P3 工单 opened a minute apart are all due at 13:00: the
    queue lists them in the order they were opened, as agents expect — not by their (random) references."""
    import datetime as dt
    from types import SimpleNamespace

    from chalicelib.kernel import clock
    clock.freeze(dt.datetime(2026, 12, 9, 7, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    opened = []
    for i in range(6):
        opened.append(_open_case(SimpleNamespace(user_id=f"early-{i}", username=f"early{i}"),
                                 category="fees" if i % 2 else "repayment_failed", description=f"一早的工单 {i}"))
        clock.advance(dt.timedelta(minutes=1))
    page = signed_in(agent).get("/agent")
    assert page.status == 200
    assert re.findall(r'data-case="(RD-[^"]+)"', page.text) == opened
    assert page.text.count("13:00") >= len(opened)  # each row shows its deadline, local time


def test_a_filter_reads_past_a_page_without_matches(signed_in, agent):
    """21 P2 工单 with earlier deadlines fill the first queue page; the one P3 工单 is still found."""
    from types import SimpleNamespace
    for i in range(21):
        _open_case(SimpleNamespace(user_id=f"filler-{i}", username=f"filler{i}"), description=f"还款失败 {i}")
    fees = _open_case(SimpleNamespace(user_id="fees-user", username="feesuser"), category="fees",
                      description="手续费多收了")
    unfiltered = signed_in(agent).get("/agent")
    assert fees not in unfiltered.text and "/agent?step=frontline&amp;cursor=" in unfiltered.text
    only_p3 = signed_in(agent).get("/agent?priority=P3")
    assert re.findall(r'data-case="(RD-[^"]+)"', only_p3.text) == [fees]


def test_frontline_agent_cannot_open_the_senior_queue_or_a_senior_case(signed_in, agent, lead, alice):
    from chalicelib.escalation import service
    case_id = _open_case(alice, category="account_security", description="账户被盗了，有陌生人还款")  # starts at senior
    b = signed_in(agent)
    assert b.get("/agent?step=senior").status == 403
    page = b.get(f"/agent/cases/{case_id}")
    assert page.status == 403 and "高级客服" in page.text
    # …and cannot act on it: 403 and nothing changed
    assert b.post(f"/agent/cases/{case_id}/notes", {"csrf_token": _csrf_of(b), "text": "我来看看"}).status == 403
    staff = service.get_case(_actor(lead, "senior-support"), Context.current(), case_id)
    assert staff.notes == [] and signed_in(lead).get(f"/agent/cases/{case_id}").status == 200


def _csrf_of(b) -> str:
    page = b.get("/agent")
    return b.csrf(page)


def test_case_page_shows_the_users_failed_repayment_and_leaves_an_access_record(api, signed_in, agent, alice):
    from chalicelib.repay import service as repay
    repayment_id = _failed_repayment(api, alice)
    case_id = _open_case(alice, repayment_id=repayment_id)
    assert repay.access_log(alice.user_id) == []
    page = signed_in(agent).get(f"/agent/cases/{case_id}")
    assert page.status == 200
    assert 'data-status="failed"' in page.text and "本工单关联" in page.text
    assert "余额不足" in page.text or "insufficient" in page.text or 'data-testid="failure"' in page.text
    records = repay.access_log(alice.user_id)
    assert len(records) == 1
    record = records[0]
    assert (record["staff_id"], record["staff_username"], record["case_id"]) == (agent.user_id, "agent", case_id)
    assert record["repayment_ids"][0] == repayment_id and record["at"]


def test_staff_repayment_api_records_each_read_and_shows_card_last4_only(api, agent, lead, alice):
    from chalicelib.repay import service as repay
    created = api.post("/repayments", token=alice.token, headers={"Idempotency-Key": "ws-card-1"}, json_body={
        "amount": "1234.50", "payee": {"kind": "credit_card", "issuer": "招商银行", "card_number": CARD}})
    assert created.status == 201
    case_id = _open_case(alice, category="repayment_delay", description="信用卡还款还没到账",
                         repayment_id=created.json["id"])
    answer = api.get(f"/support/cases/{case_id}/repayments", token=agent.token)
    assert answer.status == 200, answer.text
    body = answer.json
    assert body["linked_repayment_id"] == created.json["id"]
    assert body["items"][0]["payee"] == {"kind": "credit_card", "issuer": "招商银行", "card_last4": "4324"}
    assert CARD not in answer.text and CARD[:12] not in answer.text
    api.get(f"/support/cases/{case_id}/repayments", token=lead.token)
    records = repay.access_log(alice.user_id)
    assert [r["staff_username"] for r in records] == ["lead", "agent"]          # newest first, one per read
    assert body["access_record"] == [r for r in records if r["staff_username"] == "agent"][0]["sk"]


def test_staff_repayment_api_refuses_non_staff_and_writes_nothing(api, alice, bob):
    from chalicelib.repay import service as repay
    case_id = _open_case(alice)
    for caller in (alice, bob):   # the owner is not staff either: this is a staff read
        answer = api.get(f"/support/cases/{case_id}/repayments", token=caller.token)
        assert answer.status in (403, 404), answer.text
        assert answer.json["error"]["code"] in ("forbidden_role", "case_not_found")
    assert api.get(f"/support/cases/{case_id}/repayments").status == 401
    assert repay.access_log(alice.user_id) == []


def test_frontline_agent_cannot_read_repayments_of_a_senior_case(api, agent, alice):
    from chalicelib.repay import service as repay
    case_id = _open_case(alice, category="account_security", description="账户被盗了，有陌生人还款")
    answer = api.get(f"/support/cases/{case_id}/repayments", token=agent.token)
    assert answer.status == 403
    assert repay.access_log(alice.user_id) == []


def test_repayment_read_is_not_shown_if_the_access_record_cannot_be_written(api, agent, alice, monkeypatch):
    from chalicelib.adapters import aws as aws_clients
    from chalicelib.repay import store
    case_id = _open_case(alice)

    def refused(*args, **kwargs):
        raise aws_clients.ClientError({"Error": {"Code": "ConditionalCheckFailedException", "Message": "x"}},
                                      "PutItem")
    monkeypatch.setattr(store, "put_access_record", refused)
    answer = api.get(f"/support/cases/{case_id}/repayments", token=agent.token)
    assert answer.status >= 400 and "items" not in answer.text


def test_reply_with_a_macro_and_csrf(signed_in, agent, alice, sms_sent):
    from chalicelib.escalation import service
    case_id = _open_case(alice)
    b = signed_in(agent)
    page = b.get(f"/agent/cases/{case_id}?macro=ask_evidence")
    assert page.status == 200
    text = re.search(r'data-testid="reply-text">(.*?)</textarea>', page.text, re.S).group(1)
    assert case_id in text and "截图" in text
    # Without the CSRF token: refused, nothing sent, nothing changed.
    before = service.get_case(_actor(agent, "support"), Context.current(), case_id)
    refused = b.post(f"/agent/cases/{case_id}/reply", {"message": "不带令牌的回复", "await_user": "1"})
    assert refused.status == 403
    after = service.get_case(_actor(agent, "support"), Context.current(), case_id)
    assert after.version == before.version and after.conversation == []
    sent = b.post(f"/agent/cases/{case_id}/reply", {"csrf_token": b.csrf(page), "message": text.strip() + " 谢谢",
                                                    "await_user": "1"})
    assert sent.status == 303 and sent.headers["location"].startswith(f"/agent/cases/{case_id}?done=replied")
    view = service.get_case(_actor(alice), Context.current(), case_id)
    assert view.status == "waiting_user" and view.conversation[-1].text.endswith("谢谢")
    assert any("客服已回复" in message for _, message in sms_sent())


def test_claim_note_escalate_resolve_through_the_services(signed_in, agent, lead, alice):
    from chalicelib.escalation import service
    case_id = _open_case(alice)
    b = signed_in(agent)
    csrf = b.csrf(b.get(f"/agent/cases/{case_id}"))
    assert b.post(f"/agent/cases/{case_id}/assign", {"csrf_token": csrf}).status == 303
    assert b.post(f"/agent/cases/{case_id}/notes", {"csrf_token": csrf, "text": "已联系银行"}).status == 303
    staff = service.get_case(_actor(agent, "support"), Context.current(), case_id)
    assert staff.assignee == "agent" and staff.notes[0].text == "已联系银行"
    mine = b.get("/agent?mine=1")
    assert case_id in mine.text
    blank = b.post(f"/agent/cases/{case_id}/escalate", {"csrf_token": csrf, "reason": " ", "idempotency_key": "k1"})
    assert blank.status in (400, 422)
    key = {"csrf_token": csrf, "reason": "需要高级客服核实扣款", "idempotency_key": "form-key-1"}
    assert b.post(f"/agent/cases/{case_id}/escalate", key).status == 303
    assert b.post(f"/agent/cases/{case_id}/escalate", key).status in (303, 403)   # the same form again: moves once
    assert service.get_case(_actor(lead, "senior-support"), Context.current(), case_id).step == "senior"
    # now at senior: the frontline agent may no longer act, the lead may
    assert b.post(f"/agent/cases/{case_id}/resolve", {"csrf_token": csrf, "summary": "已处理"}).status == 403
    lb = signed_in(lead)
    lcsrf = lb.csrf(lb.get(f"/agent/cases/{case_id}"))
    assert lb.post(f"/agent/cases/{case_id}/resolve", {"csrf_token": lcsrf, "summary": "银行已退回扣款"}).status == 303
    assert service.get_case(_actor(alice), Context.current(), case_id).status == "resolved"


def test_unfreeze_needs_senior_and_a_confirmation(signed_in, lead, agent, alice):
    from chalicelib.repay import service as repay
    case_id = _open_case(alice, category="account_security", description="账户被盗了，有陌生人还款")
    assert repay.is_frozen(alice.user_id)
    lb = signed_in(lead)
    page = lb.get(f"/agent/cases/{case_id}")
    assert 'data-testid="unfreeze"' in page.text
    csrf = lb.csrf(page)
    unconfirmed = lb.post(f"/agent/cases/{case_id}/unfreeze", {"csrf_token": csrf})
    assert unconfirmed.status == 303 and unconfirmed.headers["location"] == f"/agent/cases/{case_id}/unfreeze"
    assert repay.is_frozen(alice.user_id)
    confirm = lb.get(f"/agent/cases/{case_id}/unfreeze")
    assert confirm.status == 200 and "确认解除冻结" in confirm.text
    assert lb.post(f"/agent/cases/{case_id}/unfreeze", {"csrf_token": csrf, "confirm": "yes"}).status == 303
    assert not repay.is_frozen(alice.user_id)


def test_wallet_user_and_no_session_on_agent_pages(browser_for, alice, demo_password, api):
    case_id = _open_case(alice)
    anonymous = api.get(f"/agent/cases/{case_id}")
    assert anonymous.status == 303 and anonymous.headers["location"] == f"/agent/login?next=/agent/cases/{case_id}"
    user = browser_for()
    user.sign_in("help", "alice", demo_password)
    for path in ("/agent", f"/agent/cases/{case_id}", f"/agent/cases/{case_id}/unfreeze"):
        page = user.get(path)
        assert page.status == 403, path
        assert "description" not in page.text and "还款失败了" not in page.text
    assert user.get(f"/agent/cases/{case_id}/updates").status == 403


def test_updates_json_returns_new_messages(signed_in, api, agent, alice):
    case_id = _open_case(alice)
    b = signed_in(agent)
    empty = b.get(f"/agent/cases/{case_id}/updates")
    assert empty.status == 200 and empty.json["messages"] == []
    api.post(f"/support/cases/{case_id}/messages", token=alice.token, json_body={"message": "补充：扣款短信已截图"})
    fresh = b.get(f"/agent/cases/{case_id}/updates?since=")
    assert [m["text"] for m in fresh.json["messages"]] == ["补充：扣款短信已截图"]
    later = b.get(f"/agent/cases/{case_id}/updates?since={fresh.json['messages'][0]['at']}")
    assert later.json["messages"] == [] and later.json["version"] == fresh.json["version"]


def test_team_email_and_queue_message_carry_the_workspace_link(aws, alice, monkeypatch):
    from chalicelib import config
    from chalicelib.escalation import notifications, service
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://support.example.com")
    config.reload()
    case_id = _open_case(alice)
    case = service.store.get(case_id)
    sns, email = notifications.team_messages(case, "arrived", config.settings())
    link = f"https://support.example.com/agent/cases/{case_id}"
    assert link in email.body and "GET /support" not in email.body and "工单" in email.body
    assert json.loads(sns.body)["url"] == link


# ---------------------------------------------------------------- one vocabulary per audience (#20)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
STAFF_REASON = "内部：疑似银行代扣通道故障，需高级客服核实"
USER_WORDS = ("等待您回复", "待您确认", "答复您", "您的问题")


def _visible(html: str) -> str:
    """The page's text as a reader sees it (scripts, styles and tags left out)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_staff_pages_use_staff_wording_and_names_never_ids(signed_in, api, agent, alice, business_morning):
    case_id = _open_case(alice, description="信用卡还款三天没到账，银行说没有收到这笔钱")
    b = signed_in(agent)
    queue = b.get("/agent")
    row = re.search(rf'data-case="{case_id}">(.*?)</li>', queue.text, re.S).group(1)
    assert "alice" in row and "信用卡还款三天没到账" in row          # who and what, recognisable
    assert not UUID.search(queue.text) and alice.user_id not in queue.text
    page = b.get(f"/agent/cases/{case_id}")
    csrf = b.csrf(page)
    assert b.post(f"/agent/cases/{case_id}/reply", {"csrf_token": csrf, "message": "请提供扣款短信截图",
                                                     "await_user": "1"}).status == 303
    waiting = b.get(f"/agent/cases/{case_id}")
    text = _visible(waiting.text)
    assert re.search(r'data-testid="case-status">等待用户回复<', waiting.text)
    assert 'data-testid="user-name">alice<' in waiting.text
    assert "agent" in re.search(r'data-testid="timeline">(.*?)</ul>', waiting.text, re.S).group(1)   # who replied
    assert not UUID.search(text) and alice.user_id not in waiting.text and agent.user_id not in waiting.text
    assert not [w for w in USER_WORDS if w in text]
    assert b.post(f"/agent/cases/{case_id}/resolve", {"csrf_token": csrf, "summary": "银行已退回扣款"}).status == 303
    resolved = b.get(f"/agent/cases/{case_id}")
    assert re.search(r'data-testid="case-status">已解决，待用户确认<', resolved.text)
    assert "解决说明" in resolved.text and not [w for w in USER_WORDS if w in _visible(resolved.text)]


def test_escalating_returns_the_agent_to_the_queue_with_a_confirmation(signed_in, agent, lead, alice,
                                                                       business_morning):
    case_id = _open_case(alice)
    b = signed_in(agent)
    csrf = b.csrf(b.get(f"/agent/cases/{case_id}"))
    form = {"csrf_token": csrf, "reason": STAFF_REASON, "idempotency_key": "escalate-to-queue"}
    moved = b.post(f"/agent/cases/{case_id}/escalate", form)
    assert moved.status == 303
    location = moved.headers["location"]
    assert location.startswith("/agent?step=frontline&done=escalated")
    queue = b.get(location)
    assert queue.status == 200                                   # not the 403 of the senior 工单 page
    notice = re.search(r'data-testid="done">(.*?)</p>', queue.text, re.S).group(1)
    assert case_id in notice and "高级客服" in notice
    assert f'href="/agent/cases/{case_id}"' not in notice        # a frontline agent cannot open it any more
    assert f'data-case="{case_id}"' not in queue.text             # it left this queue
    assert b.post(f"/agent/cases/{case_id}/escalate", form).headers["location"] == location   # a double submit
    # senior support escalating further also lands on the queue it left, with a link it may follow
    lb = signed_in(lead)
    lcsrf = lb.csrf(lb.get(f"/agent/cases/{case_id}"))
    up = lb.post(f"/agent/cases/{case_id}/escalate", {"csrf_token": lcsrf, "reason": "需要公开渠道团队跟进",
                                                       "idempotency_key": "lead-up"})
    assert up.headers["location"].startswith("/agent?step=senior&done=escalated")
    assert f'href="/agent/cases/{case_id}"' in lb.get(up.headers["location"]).text
    # a made-up confirmation is not shown
    forged = b.get("/agent?done=escalated&case=%3Cscript%3E&to=senior")
    assert 'data-testid="done"' not in forged.text


def test_reply_without_a_clock_choice_comes_back_with_a_clear_message(signed_in, agent, alice, sms_sent,
                                                                      business_morning):
    from chalicelib.escalation import service
    case_id = _open_case(alice)
    b = signed_in(agent)
    page = b.get(f"/agent/cases/{case_id}")
    radios = re.findall(r'<input type="radio" name="await_user"[^>]*>', page.text)
    assert len(radios) == 2 and not [r for r in radios if "checked" in r]      # nothing chosen for the agent
    before = service.get_case(_actor(agent, "support"), Context.current(), case_id)
    refused = b.post(f"/agent/cases/{case_id}/reply", {"csrf_token": b.csrf(page), "message": "我们正在核查扣款"})
    assert refused.status == 400
    error = re.search(r'data-testid="reply-error">(.*?)</p>', refused.text, re.S).group(1)
    assert "等待用户回复" in error and "处理中答复" in error and "尚未发送" in error
    assert re.search(r'data-testid="reply-text">我们正在核查扣款</textarea>', refused.text)   # nothing typed is lost
    after = service.get_case(_actor(agent, "support"), Context.current(), case_id)
    assert (after.version, after.status, after.conversation) == (before.version, "open", [])
    assert sms_sent() == [] or not any("客服已回复" in m for _, m in sms_sent())
    holding = b.post(f"/agent/cases/{case_id}/reply", {"csrf_token": b.csrf(refused), "message": "我们正在核查扣款",
                                                        "await_user": "0"})
    assert holding.status == 303
    assert service.get_case(_actor(agent, "support"), Context.current(), case_id).status == "open"   # clock runs


def test_users_case_page_shows_plain_words_and_ends_with_the_resolution(browser_for, demo_password, signed_in,
                                                                        agent, lead, alice, business_morning):
    import datetime as dt

    from chalicelib.kernel import clock
    case_id = _open_case(alice)
    b = signed_in(agent)
    csrf = b.csrf(b.get(f"/agent/cases/{case_id}"))
    b.post(f"/agent/cases/{case_id}/assign", {"csrf_token": csrf})
    clock.advance(dt.timedelta(minutes=3))
    b.post(f"/agent/cases/{case_id}/reply",
           {"csrf_token": csrf, "message": "核查结果会在这里回复您", "await_user": "0"})
    clock.advance(dt.timedelta(minutes=3))
    b.post(f"/agent/cases/{case_id}/escalate", {"csrf_token": csrf, "reason": STAFF_REASON, "idempotency_key": "u1"})
    clock.advance(dt.timedelta(minutes=3))
    lb = signed_in(lead)
    lb.post(f"/agent/cases/{case_id}/resolve", {"csrf_token": lb.csrf(lb.get(f"/agent/cases/{case_id}")),
                                                "summary": "银行已退回扣款，请查收"})
    user = browser_for()
    user.sign_in("help", "alice", demo_password)
    page = user.get(f"/help/cases/{case_id}")
    assert page.status == 200
    text = _visible(page.text)
    for hidden in (STAFF_REASON, "分配给", "agent", "lead", agent.user_id, lead.user_id):
        assert hidden not in text, hidden
    assert not UUID.search(text)
    timeline = re.findall(r'<li data-event="[^"]+">(.*?)</li>', page.text, re.S)
    lines = [" ".join(_visible(t).split()) for t in timeline]
    assert len(lines) == 4 and "工单已转至「高级客服」处理" in lines[2]     # created, replied, escalated, resolved
    assert "等待用户回复" not in text and "计时暂停）" not in text
    messages = re.findall(r'data-testid="message">(.*?)</li>', page.text, re.S)
    assert "客服（处理结果）" in messages[-1] and "银行已退回扣款，请查收" in messages[-1]   # the answer comes last
    assert "核查结果会在这里回复您" in messages[-2]
