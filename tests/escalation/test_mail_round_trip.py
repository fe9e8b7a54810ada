"""Replies by e-mail, the round trip (moto): the e-mail the user gets about a 工单 (SES SendRawEmail, captured by
moto) carries the 工单's signed reply address and the line inviting a reply; answering it — the user's mail
client writes to the Reply-To, quoting our mail — through ``make mail``'s path (the inbound bucket →
``inbound.receive_object``) lands in the same 工单 as the user's message. The team's e-mail carries neither."""
from __future__ import annotations

from email.message import EmailMessage

SECRET = "test-mail-reply-key-round-trip-0123456789ab"
INVITE = "直接回复本邮件即可补充说明"


def _verified(aws, username: str, address: str) -> None:
    from chalicelib.adapters import aws as aws_adapter
    aws_adapter.client("cognito-idp").admin_update_user_attributes(
        UserPoolId=aws.pool_id, Username=username,
        UserAttributes=[{"Name": "email", "Value": address}, {"Name": "email_verified", "Value": "true"}])


def _reply(to: EmailMessage, text: str) -> bytes:
    """What a mail client sends back: to the Reply-To, threaded under the mail, our words quoted below."""
    answer = EmailMessage()
    answer["From"] = "Alice <alice@example.com>"
    answer["To"] = str(to["Reply-To"])
    answer["Subject"] = "Re: " + str(to["Subject"])
    answer["Message-ID"] = "<round-trip-1@mail.example.com>"
    answer["In-Reply-To"] = str(to["Message-ID"])
    answer["References"] = f'{to["References"]} {to["Message-ID"]}'
    quoted = "\n".join("> " + line for line in to.get_body(preferencelist=("plain",)).get_content().splitlines())
    answer.set_content(f"{text}\n\n在 2026年11月24日 10:05，RepayDesk 写道：\n{quoted}\n")
    return answer.as_bytes()


def test_the_users_mail_carries_the_reply_address_and_a_reply_lands_in_the_same_case(
        aws, api, alice, agent, clock, open_case, user_mails, emails_sent, monkeypatch):
    from chalicelib import config
    from chalicelib.adapters import aws as aws_adapter
    from chalicelib.escalation import inbound, replymail
    from chalicelib.kernel.context import Context

    monkeypatch.setenv("MAIL_REPLY_SECRET", SECRET)
    config.reload()
    cfg = config.settings()
    _verified(aws, "alice", "alice@example.com")
    case_id = open_case(alice)["case_id"]

    [mail] = [m for m in user_mails() if m["To"] == "alice@example.com"]
    assert mail["Reply-To"] == replymail.reply_address(case_id, alice.user_id, cfg)
    assert case_id in str(mail["Subject"]) and mail["Auto-Submitted"] == "auto-generated"
    assert mail["Message-ID"] == f"<{case_id.lower()}.v1@{cfg.mail_domain}>"
    assert INVITE in mail.get_body(preferencelist=("plain",)).get_content()
    team = [body for to, _, body in emails_sent() if case_id in body]
    assert team and all(INVITE not in body and "reply+" not in body for body in team)   # staff: no reply address
    assert all(m["To"] == "alice@example.com" for m in user_mails())

    raw = _reply(mail, "扣款短信截图稍后补上，扣款时间 11 月 21 日 09:12。")
    key = "inbound/round-trip-1"
    aws_adapter.client("s3").put_object(Bucket=cfg.inbound_mail_bucket, Key=key, Body=raw)
    result = inbound.receive_object(cfg.inbound_mail_bucket, key, Context.current())
    assert (result.outcome, result.case_id) == ("added", case_id)

    seen = api.get(f"/support/cases/{case_id}", token=agent.token).json
    texts = [m["text"] for m in seen["conversation"]]
    assert "（通过邮件回复）\n扣款短信截图稍后补上，扣款时间 11 月 21 日 09:12。" in texts
    assert not any("RepayDesk 写道" in t or INVITE in t for t in texts)   # the quoted mail is not kept


def test_a_user_without_a_verified_address_gets_no_mail_and_the_case_opens(aws, api, bob, clock, open_case,
                                                                           user_mails, sms_sent):
    case_id = open_case(bob)["case_id"]
    assert user_mails() == []
    assert any(case_id in text for _, text in sms_sent())   # the text still goes
