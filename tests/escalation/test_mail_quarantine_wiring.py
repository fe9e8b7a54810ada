"""The leads' quarantine, wired (moto, HTTP): a mail from an address the user never verified is quarantined (the
record in the cases table's quarantine partition, the mail in the attachments bucket); senior support reads it
over ``GET /support/mail/quarantine`` and on ``/agent/mail`` (frontline agents: 403), releases it from the page
(CSRF checked) into its 工单, once."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from string import Template

import pytest

from tests.web.conftest import Browser

MAIL = Path(__file__).resolve().parent / "mail"
SECRET = "test-mail-reply-key-quarantine-0123456789ab"


@pytest.fixture
def signed_in(api):
    from infra import local

    def make(username: str):
        b = Browser(api)
        assert b.sign_in("agent", username, local.DEMO_PASSWORD).status == 303
        return b
    return make


def test_a_lead_releases_a_quarantined_mail_from_the_page_into_its_case(aws, api, alice, agent, lead, clock,
                                                                         open_case, signed_in, monkeypatch):
    from chalicelib import config
    from chalicelib.escalation import inbound, replymail
    from chalicelib.kernel.context import Context

    monkeypatch.setenv("MAIL_REPLY_SECRET", SECRET)
    config.reload()
    case_id = open_case(alice)["case_id"]   # alice has no verified address at all: any sender is unknown
    raw = Template((MAIL / "other_address.eml").read_text(encoding="utf-8")).substitute(
        reply_address=replymail.reply_address(case_id, alice.user_id, config.settings()), case_id=case_id,
        case_lower=case_id.lower()).encode()
    assert inbound.on_mail(raw, Context.current()).reason == "unknown_sender"

    assert api.get("/support/mail/quarantine", token=agent.token).status == 403
    listed = api.get("/support/mail/quarantine?limit=5", token=lead.token)
    assert listed.status == 200, listed.text
    [item] = listed.json["items"]
    assert (item["case_id"], item["sender"], item["releasable"]) == (case_id, "a***@work.example.com", True)
    assert api.get("/support/mail/quarantine?cursor=%25%25", token=lead.token).status == 400

    assert signed_in(agent.username).get("/agent/mail").status == 403
    b = signed_in(lead.username)
    page = b.get("/agent/mail")
    assert page.status == 200 and "发件人：a***@work.example.com" in page.text and "alice.wang" not in page.text
    assert 'data-testid="release-mail"' in page.text and case_id in page.text
    assert b.post(f"/agent/mail/{item['id']}/release", {}).status == 403           # no CSRF token
    released = b.post(f"/agent/mail/{item['id']}/release", {"csrf_token": b.csrf(page)})
    assert released.status == 303 and released.headers["location"].endswith("/agent/mail?done=released")
    after = b.get("/agent/mail?done=released").text
    assert "邮件已放行到工单" in after and "已放行" in after and 'data-testid="release-mail"' not in after

    seen = api.get(f"/support/cases/{case_id}", token=agent.token).json
    assert [m["text"] for m in seen["conversation"]].count(
        "（通过邮件回复）\n我是 alice，用公司邮箱回复：扣款短信显示 11 月 21 日 09:12 已扣款。") == 1
    assert any(e["event"] == "mail_released" and e["by_name"] == lead.username for e in seen["timeline"])
    again = api.post(f"/support/mail/quarantine/{item['id']}/release", token=lead.token)
    assert again.status == 409 and again.json["error"]["code"] == "already_decided"


def test_a_lead_pages_the_quarantine_and_discards_a_forged_mail_once(aws, api, alice, lead, clock, open_case,
                                                                     monkeypatch):
    from chalicelib import config
    from chalicelib.escalation import inbound
    from chalicelib.kernel.context import Context

    monkeypatch.setenv("MAIL_REPLY_SECRET", SECRET)
    config.reload()
    case_id = open_case(alice)["case_id"]
    for name in ("forged_token.eml", "auto_reply.eml"):
        raw = Template((MAIL / name).read_text(encoding="utf-8")).substitute(
            reply_address="service@repaydesk.example.com", case_id=case_id, case_lower=case_id.lower()).encode()
        assert inbound.on_mail(raw, Context.current()).outcome == "quarantined"
        clock.advance(dt.timedelta(minutes=1))
    first = api.get("/support/mail/quarantine?limit=1", token=lead.token).json
    assert [m["reason"] for m in first["items"]] == ["auto_reply"] and first["next_cursor"]
    second = api.get(f"/support/mail/quarantine?limit=1&cursor={first['next_cursor']}", token=lead.token).json
    [forged] = second["items"]
    assert forged["reason"] == "forged_token" and not forged["releasable"]
    assert api.post(f"/support/mail/quarantine/{forged['id']}/release", token=lead.token).status == 409
    discarded = api.post(f"/support/mail/quarantine/{forged['id']}/discard", token=lead.token)
    assert discarded.status == 200 and discarded.json["status"] == "discarded"
    assert discarded.json["decided_by"] == lead.username
    again = api.post(f"/support/mail/quarantine/{forged['id']}/discard", token=lead.token)
    assert again.status == 409 and again.json["error"]["code"] == "already_decided"
    assert api.post("/support/mail/quarantine/q20261124100000-000000000000/discard", token=lead.token).status == 404
