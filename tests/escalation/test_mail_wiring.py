"""Replies by e-mail, wired (moto): a mail SES stored in the inbound bucket, announced by S3 on the queue, goes
through the ``receive_mail`` Lambda handler into the 工单 the user and the agent read over HTTP; the same mail
delivered twice adds one message; the sender's address is the verified one Cognito holds."""
from __future__ import annotations

import json
from pathlib import Path
from string import Template

MAIL = Path(__file__).resolve().parent / "mail"
SECRET = "test-mail-reply-key-wired-0123456789abcdef"


def test_a_stored_mail_reaches_the_case_once_through_the_queue_handler(aws, api, alice, agent, clock,
                                                                        open_case, monkeypatch):
    from chalicelib import config
    from chalicelib.adapters import aws as aws_adapter
    from chalicelib.escalation import replymail
    from chalicelib.routes import mail

    monkeypatch.setenv("MAIL_REPLY_SECRET", SECRET)
    config.reload()
    cfg = config.settings()
    aws_adapter.client("cognito-idp").admin_update_user_attributes(
        UserPoolId=aws.pool_id, Username="alice",
        UserAttributes=[{"Name": "email", "Value": "alice@example.com"}, {"Name": "email_verified", "Value": "true"}])
    case_id = open_case(alice)["case_id"]
    raw = Template((MAIL / "outlook_reply.eml").read_text(encoding="utf-8")).substitute(
        reply_address=replymail.reply_address(case_id, alice.user_id, cfg), case_id=case_id,
        case_lower=case_id.lower()).encode()
    s3 = aws_adapter.client("s3")
    s3.put_object(Bucket=cfg.inbound_mail_bucket, Key="inbound/mail+1", Body=raw)
    s3.put_object(Bucket=cfg.inbound_mail_bucket, Key="inbound/mail+1-again", Body=raw)   # SES redelivered
    for key in ("inbound/mail%2B1", "inbound/mail%2B1-again"):
        body = json.dumps({"Records": [{"s3": {"bucket": {"name": cfg.inbound_mail_bucket}, "object": {"key": key}}}]})
        mail.receive_mail({"Records": [{"body": body, "receiptHandle": "r", "messageId": key,
                                        "eventSourceARN": "arn:aws:sqs:ap-southeast-1:123456789012:q"}]}, None)

    seen = api.get(f"/support/cases/{case_id}", token=agent.token).json
    texts = [m["text"] for m in seen["conversation"]]
    assert texts.count("（通过邮件回复）\nStill not arrived, please check again.") == 1
    assert not any("Original Message" in t for t in texts)
