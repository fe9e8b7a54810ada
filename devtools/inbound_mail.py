"""``make mail FILE=reply.eml``: feed one raw mail through the inbound mail function, as SES → S3 → the queue
would, against the running local stack (``make serve``); prints the outcome (added, duplicate, or quarantined
with its reason).

    .venv/bin/python -m devtools.inbound_mail reply.eml                  # store under inbound/, then handle it
    .venv/bin/python -m devtools.inbound_mail --address alice RD-20261124-AB3K   # the reply address to write to
    .venv/bin/python -m devtools.inbound_mail --sample alice RD-20261124-AB3K > reply.eml   # a reply to try

The file is put into the inbound bucket under ``inbound/`` and handed to ``receive_mail``'s own code path
(``escalation.inbound.receive_object``), so the size check, the parse and the quarantine are the deployed ones.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os

from devtools import stack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", help="a raw .eml file")
    parser.add_argument("--address", nargs=2, metavar=("USER", "REF"), help="print the reply address of a 工单")
    parser.add_argument("--sample", nargs=2, metavar=("USER", "REF"),
                        help="print a reply to the 工单's e-mail, from USER's verified address, quoting our mail")
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("MOTO_PORT") or 5500))
    args = parser.parse_args()
    stack.use_env({**stack.stage_env("dev"), **stack.aws_env(args.moto_port)})
    from chalicelib.adapters import aws, mailbox
    from chalicelib.config import settings
    from chalicelib.escalation import inbound, replymail, repository
    from chalicelib.kernel.context import Context
    from infra import local
    stack.use_env({"USER_POOL_ID": local.find_user_pool(settings()).pool_id})   # verified addresses live there
    cfg = settings()
    if args.address or args.sample:
        username, ref = args.address or args.sample
        case = repository.store().get(ref.upper())
        if case is None or case.username != username:
            raise SystemExit("no such 工单 of that user")
        address = replymail.reply_address(case.case_id, case.user_id, cfg)
        print(sample_reply(mailbox.verified_email(username) or f"{username}@example.com", address, case.case_id,
                           cfg.mail_domain) if args.sample else address)
        return
    if not args.file:
        parser.error("give a .eml file (or --address USER REF)")
    with open(args.file, "rb") as handle:
        raw = handle.read()
    key = f"inbound/{hashlib.sha256(raw).hexdigest()}"
    aws.client("s3").put_object(Bucket=cfg.inbound_mail_bucket, Key=key, Body=raw)
    result = inbound.receive_object(cfg.inbound_mail_bucket, key, Context.current())
    print(json.dumps(result.__dict__, ensure_ascii=False))


def sample_reply(sender: str, address: str | None, case_id: str, domain: str) -> str:
    """A plain reply as a mail client writes it: to the reply address, threaded, our mail quoted below."""
    return (f"From: {sender}\nTo: {address}\nSubject: Re: 您的工单 {case_id}\n"
            f"Message-ID: <sample-{os.urandom(6).hex()}@example.com>\n"
            f"In-Reply-To: <{case_id.lower()}.v1@{domain}>\nMIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
            "扣款短信显示 11 月 21 日 09:12 已扣款，请再帮忙查一下。\n\n"
            "在 2026年11月24日 10:05，RepayDesk 写道：\n> 直接回复本邮件即可补充说明\n")


if __name__ == "__main__":
    main()
