"""``make serve``: the whole service on this machine, until Ctrl-C."""
from __future__ import annotations

import os
import signal
import sys
import time

from devtools.stack import ChildExited, LocalStack, PortInUse
from infra import local


def main() -> None:
    port = int(os.environ.get("PORT") or 8000)
    moto_port = int(os.environ.get("MOTO_PORT") or 5500)
    # The demo data's e-mails (seeded from this process) link to this stack's workspace too.
    os.environ.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{port}")
    stack = LocalStack(port=port, moto_port=moto_port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        stack.start()
        users = "\n".join(f"    {u.username:<6} {u.role or 'user':<15} make token USER={u.username}"
                          + (f" ROLE={u.role}" if u.role else "") for u in stack.users.values())
        print(f"""
RepayDesk is running (Ctrl-C stops everything started here)
  API           {stack.api_url}          (GET /health)
  Help centre   {stack.api_url}/help          (sign in: {stack.api_url}/help/login)
  Workspace     {stack.api_url}/agent         (agents sign in: {stack.api_url}/agent/login)
  moto (AWS)    {stack.moto_url}          (AWS_ENDPOINT_URL for aws-cli/boto3)
  User pool     {stack.pool.pool_id}  client {stack.pool.client_id}
  Clock         {f"started at {stack.clock_start} (CLOCK_START) and running on" if stack.clock_start else "this machine's"}
  Demo users (password {local.DEMO_PASSWORD}{' from DEMO_PASSWORD' if os.environ.get('DEMO_PASSWORD') else '; set DEMO_PASSWORD to change it'}):
{users}
""", flush=True)
        while (dead := stack.exited()) is None:
            time.sleep(0.5)
        time.sleep(0.2)  # its last lines
        print(f"make serve: {dead.describe_exit()}\nstopping the rest", file=sys.stderr, flush=True)
        sys.exit(1)
    except (PortInUse, ChildExited) as exc:
        print(f"make serve: {exc}", file=sys.stderr, flush=True)
        sys.exit(1)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
