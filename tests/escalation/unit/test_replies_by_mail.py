"""Replies by e-mail (#25 item 4), the fast tier: the fixture mails in ``tests/escalation/mail/`` fed through
``inbound.on_mail`` against the in-memory store, attachments bucket and Cognito twin, at a fixed moment; plus the
reply token and the stripping of quoted history."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from string import Template

import pytest

from chalicelib.adapters import mailbox
from chalicelib.escalation import attachments, inbound, replymail, service
from chalicelib.escalation.attachment_memory import MemoryAttachments
from tests.escalation.unit.conftest import AGENT, ALICE, BOB

pytestmark = pytest.mark.unit

MAIL = Path(__file__).resolve().parent.parent / "mail"
SECRET = "test-mail-reply-key-0123456789abcdef0123"


@pytest.fixture
def ctx(at):
    base = at.ctx()
    return base.__class__(now=base.now, settings=dataclasses.replace(
        base.settings, mail_reply_secret=SECRET, mail_reply_key_version="1", mail_domain="repaydesk.example.com",
        sender_email="no-reply@repaydesk.example.com", inbound_mail_max_bytes=10 * 1024 * 1024))


@pytest.fixture
def world(cases, ctx):
    bucket = MemoryAttachments()
    previous = attachments.use(bucket), mailbox.use(mailbox.InMemoryMailbox({"alice": "alice@example.com",
                                                                             "bob": "bob@example.com"}))
    case_id = service.open_case(ALICE, ctx, category="repayment_delay", description="还款三天了还没到账",
                                repayment_id=None).body["case_id"]
    yield cases, bucket, case_id
    attachments.use(previous[0])
    mailbox.use(previous[1])


def mail(name: str, case_id: str, ctx, user_id: str = ALICE.user_id) -> bytes:
    text = (MAIL / name).read_text(encoding="utf-8")
    address = replymail.reply_address(case_id, user_id, ctx.settings)
    return Template(text).substitute(reply_address=address, case_id=case_id,
                                     case_lower=case_id.lower()).encode("utf-8")


def said(cases, case_id: str) -> list[str]:
    return [entry["text"] for entry in cases.conversation(case_id, "MSG") if entry["author"] == "user"]


def quarantined(bucket: MemoryAttachments) -> list[dict]:
    return [json.loads(body) for key, body in bucket.bodies.items()
            if key.startswith(inbound.QUARANTINE_PREFIX) and key.endswith(".json")]


# ---------------------------------------------------------------- the token
def test_the_reply_address_verifies_only_for_its_own_case_owner_and_key(ctx):
    address = replymail.reply_address("RD-20261124-AB3K", ALICE.user_id, ctx.settings)
    assert address.startswith("reply+1.rd-20261124-ab3k.") and address.endswith("@repaydesk.example.com")
    token = replymail.parse(address.upper(), ctx.settings)           # a mail system may fold the case
    assert token is not None and token.case_id == "RD-20261124-AB3K"
    assert replymail.verifies(token, ALICE.user_id, ctx.settings)
    assert not replymail.verifies(token, BOB.user_id, ctx.settings)
    other_key = dataclasses.replace(ctx.settings, mail_reply_secret="another-key-0123456789abcdef0123456789")
    assert not replymail.verifies(token, ALICE.user_id, other_key)
    retired = dataclasses.replace(ctx.settings, mail_reply_key_version="2")
    assert not replymail.verifies(token, ALICE.user_id, retired)
    moved = replymail.parse(address.replace("ab3k", "ab3m"), ctx.settings)
    assert moved is not None and not replymail.verifies(moved, ALICE.user_id, ctx.settings)
    assert replymail.parse("service@repaydesk.example.com", ctx.settings) is None
    assert replymail.parse(address.replace("repaydesk.example.com", "evil.example"), ctx.settings) is None


def test_no_key_no_reply_address_and_nothing_verifies(ctx):
    unset = dataclasses.replace(ctx.settings, mail_reply_secret=None)
    assert replymail.reply_address("RD-20261124-AB3K", ALICE.user_id, unset) is None
    token = replymail.parse(replymail.reply_address("RD-20261124-AB3K", ALICE.user_id, ctx.settings), unset)
    assert token is not None and not replymail.verifies(token, ALICE.user_id, unset)


def test_outgoing_headers_carry_the_reply_address_and_thread(ctx):
    found = replymail.headers("RD-20261124-AB3K", ALICE.user_id, 3, ctx.settings)
    assert found["Reply-To"] == replymail.reply_address("RD-20261124-AB3K", ALICE.user_id, ctx.settings)
    assert found["Message-ID"] == "<rd-20261124-ab3k.v3@repaydesk.example.com>"
    assert found["References"] == found["In-Reply-To"] == "<rd-20261124-ab3k@repaydesk.example.com>"


# ---------------------------------------------------------------- stripping
@pytest.mark.parametrize("text, kept", [
    ("到账了吗？\n\n在 2026年11月24日 10:05，RepayDesk 写道：\n> 请补充流水", "到账了吗？"),
    ("Not yet.\n\nOn Tue, 24 Nov 2026 at 10:05, RepayDesk <no-reply@x> wrote:\n> please", "Not yet."),
    ("还没有\r\n-----Original Message-----\r\nFrom: RepayDesk\r\n请补充", "还没有"),
    ("第一行\n> 引用\n第二行", "第一行\n第二行"),
    ("> 全是引用\n> 没有新内容", ""),
])
def test_quoted_history_is_stripped(text, kept):
    assert replymail.strip_quoted(text) == kept


def test_html_becomes_plain_text_without_markup_scripts_or_quoted_history():
    html = ("<html><head><style>p{color:red}</style></head><body><p>还没到账&amp;请查</p>"
            "<script>alert(1)</script><img src=x onerror=alert(2)><blockquote>客服：请补充</blockquote></body></html>")
    assert replymail.html_to_text(html) == "还没到账&请查"


# ---------------------------------------------------------------- the mail test set
def test_a_genuine_reply_is_added_with_its_picture_and_without_the_quoted_history(world, ctx):
    cases, bucket, case_id = world
    result = inbound.on_mail(mail("genuine_reply.eml", case_id, ctx), ctx, envelope_from="alice@example.com")
    assert result.outcome == "added" and result.case_id == case_id
    text = said(cases, case_id)[-1]
    assert "银行流水截图在附件里，扣款时间是 11 月 21 日 09:12。" in text
    assert "请补充银行流水" not in text and "写道" not in text
    assert "流水.png" in text and "not-really.pdf" in text   # the refused file is named, with why
    stored = attachments.list_case(case_id)
    assert [(s.filename, s.content_type) for s in stored] == [("流水.png", "image/png")]
    view = service.get_case(AGENT, ctx, case_id)               # the agent sees it in the 工单's conversation
    assert any("银行流水截图" in m.text for m in view.conversation)


def test_a_redelivered_mail_adds_nothing(world, ctx):
    cases, bucket, case_id = world
    raw = mail("genuine_reply.eml", case_id, ctx)
    assert inbound.on_mail(raw, ctx).outcome == "added"
    again = inbound.on_mail(raw, ctx)
    assert again.outcome == "duplicate"
    assert len(said(cases, case_id)) == 1 and len(attachments.list_case(case_id)) == 1


def test_an_outlook_reply_keeps_only_the_new_words(world, ctx):
    cases, _, case_id = world
    assert inbound.on_mail(mail("outlook_reply.eml", case_id, ctx), ctx).outcome == "added"
    assert said(cases, case_id) == ["（通过邮件回复）\nStill not arrived, please check again."]


@pytest.mark.parametrize("name, reason", [
    ("forged_token.eml", "forged_token"),
    ("unknown_sender.eml", "unknown_sender"),
    ("auto_reply.eml", "auto_reply"),
])
def test_refused_mails_are_quarantined_with_their_reason_and_never_added(world, ctx, name, reason):
    cases, bucket, case_id = world
    raw = mail(name, case_id, ctx)
    result = inbound.on_mail(raw, ctx)
    assert (result.outcome, result.reason) == ("quarantined", reason)
    assert said(cases, case_id) == []
    [record] = quarantined(bucket)
    assert record["reason"] == reason and bucket.bodies[record["mail"]] == raw   # the raw mail kept for a lead


def test_a_token_for_alices_case_sent_by_bob_is_an_unknown_sender(world, ctx):
    cases, bucket, case_id = world
    raw = mail("closed_case.eml", case_id, ctx).replace(b"alice@example.com", b"bob@example.com")
    assert inbound.on_mail(raw, ctx).reason == "unknown_sender"
    raw = mail("closed_case.eml", case_id, ctx)
    assert inbound.on_mail(raw, ctx, envelope_from="<mallory@example.net>").reason == "unknown_sender"
    assert said(cases, case_id) == []


def test_our_own_mail_coming_back_is_a_loop(world, ctx):
    cases, _, case_id = world
    raw = mail("closed_case.eml", case_id, ctx).replace(b"Alice <alice@example.com>",
                                                         b"RepayDesk <no-reply@repaydesk.example.com>")
    assert inbound.on_mail(raw, ctx).reason == "loop"
    assert said(cases, case_id) == []


def test_a_30_mb_mail_is_refused_on_its_size_before_its_body_is_read(world, ctx, monkeypatch):
    cases, bucket, case_id = world
    raw = mail("genuine_reply.eml", case_id, ctx) + b"A" * (30 * 1024 * 1024)

    def never(*args, **kwargs):
        raise AssertionError("the body of a mail over the limit was parsed")
    monkeypatch.setattr(inbound.email, "message_from_bytes", never)
    result = inbound.on_mail(raw, ctx)
    assert (result.outcome, result.reason) == ("quarantined", "too_large")
    assert said(cases, case_id) == []
    [record] = quarantined(bucket)
    assert record["size"] == len(raw) and len(bucket.bodies[record["mail"]]) == inbound.KEPT_BYTES


def test_a_reply_to_a_closed_case_is_not_added_and_says_open_a_new_one(world, ctx):
    cases, bucket, case_id = world
    service.resolve(AGENT, ctx, case_id, "款项已于今日到账")
    service.confirm(ALICE, ctx, case_id, rating=5)
    before = len(cases.conversation(case_id, "MSG"))
    result = inbound.on_mail(mail("closed_case.eml", case_id, ctx), ctx)
    assert (result.outcome, result.reason) == ("quarantined", "case_closed")
    assert "新建工单" in result.note
    assert len(cases.conversation(case_id, "MSG")) == before
    assert quarantined(bucket)[0]["note"] == result.note
