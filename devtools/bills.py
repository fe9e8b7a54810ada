"""Watch reminders and scheduled repayments locally (against ``make serve``'s moto).

    .venv/bin/python -m devtools.bills sms                             # every text moto captured
    .venv/bin/python -m devtools.bills sweep                           # run the bills sweep once, now
    .venv/bin/python -m devtools.bills sweep --at "2026-12-07 08:00"   # … as if it were then (Asia/Shanghai)
    .venv/bin/python -m devtools.bills outbox --at "2026-12-08 08:00"  # send texts held back by the quiet hours

``sms`` lists reminders, notices and codes alike. ``make serve`` already runs the sweep every minute
(``LOCAL_SCHEDULE_SECONDS`` to go faster); ``--at`` moves only this process's clock, so you can see the
3-day, 1-day and on-the-day reminders, the quiet hours and a scheduled repayment starting without waiting
for them. ``MOTO_PORT`` if not 5500.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from zoneinfo import ZoneInfo


def use_stack(moto_port: str) -> str:
    """Point this process at the local stack's moto (settings, AWS clients, the Cognito pool for phones)."""
    from chalicelib.adapters import aws
    from devtools.stack import aws_env, stage_env, use_env
    url = f"http://127.0.0.1:{moto_port}"
    use_env({**stage_env("dev"), **aws_env(int(moto_port))})
    pools = [p for p in aws.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]
             if p["Name"] == "repaydesk-dev-users"]
    if pools:
        use_env({"USER_POOL_ID": pools[0]["Id"]})
    return url


def texts(moto_url: str) -> list[dict]:
    """SMS moto captured: ``[{"phone_number", "message"}]``, oldest first."""
    from devtools.stack import sent_by_moto
    return sent_by_moto(moto_url)["sms"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("sms", "sweep", "outbox"))
    parser.add_argument("--at", help='"YYYY-MM-DD HH:MM" in Asia/Shanghai (default: now)')
    args = parser.parse_args()
    moto_url = use_stack(os.environ.get("MOTO_PORT", "5500"))
    from chalicelib.adapters import outbox
    from chalicelib.bills import service
    from chalicelib.kernel import clock
    if args.at:
        clock.freeze(dt.datetime.fromisoformat(args.at).replace(tzinfo=ZoneInfo("Asia/Shanghai")))
    if args.command == "sms":
        for text in texts(moto_url):
            print(json.dumps(text, ensure_ascii=False))
    elif args.command == "sweep":
        print(json.dumps(service.sweep(service.current()), ensure_ascii=False))
    else:
        print(json.dumps({"sent": outbox.drain()}))


if __name__ == "__main__":
    main()
