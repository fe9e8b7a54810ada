"""``make mail FILE=reply.eml``: feed one raw mail through the inbound mail function, as SES → S3 → the queue
would, against the running local stack (``make serve``); prints the outcome (added, duplicate, or quarantined
with its reason).

    .venv/bin/python -m devtools.inbound_mail reply.eml                  # store under inbound/, then handle it
    .venv/bin/python -m devtools.inbound_mail --address alice RD-20261124-AB3K   # the reply address to write to

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
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("MOTO_PORT") or 5500))
    args = parser.parse_args()
    stack.use_env({**stack.stage_env("dev"), **stack.aws_env(args.moto_port)})
    from chalicelib.adapters import aws
    from chalicelib.config import settings
    from chalicelib.escalation import inbound, replymail, repository
    from chalicelib.kernel.context import Context
    from infra import local
    stack.use_env({"USER_POOL_ID": local.find_user_pool(settings()).pool_id})   # verified addresses live there
    cfg = settings()
    if args.address:
        case = repository.store().get(args.address[1].upper())
        if case is None or case.username != args.address[0]:
            raise SystemExit("no such 工单 of that user")
        print(replymail.reply_address(case.case_id, case.user_id, cfg))
        return
    if not args.file:
        parser.error("give a .eml file (or --address USER REF)")
    with open(args.file, "rb") as handle:
        raw = handle.read()
    key = f"inbound/{hashlib.sha256(raw).hexdigest()}"
    aws.client("s3").put_object(Bucket=cfg.inbound_mail_bucket, Key=key, Body=raw)
    result = inbound.receive_object(cfg.inbound_mail_bucket, key, Context.current())
    print(json.dumps(result.__dict__, ensure_ascii=False))


if __name__ == "__main__":
    main()
