"""``make serve``: the whole service on this machine, until Ctrl-C (or SIGTERM, or SIGHUP).

The supervisor of the stack's processes (each in a process group of its own, see ``LocalStack.stop``).
The first SIGINT, SIGTERM or SIGHUP stops everything; any later one is ignored, so a second signal
cannot cut the shutdown short. One arrives twice routinely: ``kill -TERM -- -<pgid>`` reaches
this process and GNU make, and make forwards SIGTERM to its child (this process) once more.
"""
from __future__ import annotations

import os
import signal
import sys
import time

from devtools.stack import ChildExited, LocalStack, PortInUse
from infra import local

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StopRequested(BaseException):
    """A stop signal arrived (raised once, from the signal handler, wherever the main thread is)."""


class _Signals:
    """Turns the first stop signal into ``StopRequested``; ignores the rest."""

    def __init__(self):
        self.received: int | None = None

    def install(self) -> None:
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._handle)

    def stopping(self) -> None:
        """From now on every stop signal is ignored (we are already stopping)."""
        if self.received is None:
            self.received = 0

    def _handle(self, signum, _frame) -> None:
        if self.received is not None:
            return
        self.received = signum
        raise StopRequested(signum)


def _say(text: str) -> None:
    """To stderr, if there still is one (after SIGHUP the terminal may be gone)."""
    try:
        print(text, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def main() -> None:
    port = int(os.environ.get("PORT") or 8000)
    moto_port = int(os.environ.get("MOTO_PORT") or 5500)
    # The demo data's e-mails (seeded from this process) link to this stack's workspace too.
    os.environ.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{port}")
    stack = LocalStack(port=port, moto_port=moto_port)
    signals = _Signals()
    signals.install()
    code = 1
    try:
        code = _run(stack, signals)
    except StopRequested as stop:
        code = 0
        _say(f"make serve: {signal.Signals(stop.args[0]).name}, stopping everything started here")
    finally:
        while True:   # a stop signal may still land here once (before ``stopping()``): then stop again
            try:
                signals.stopping()
                stack.stop()
                break
            except StopRequested:
                continue
    sys.exit(code)


def _run(stack: LocalStack, signals: _Signals) -> int:
    """Start the stack and watch it; 1 once a process of it has died (or could not start)."""
    try:
        stack.start()
    except (PortInUse, ChildExited) as exc:
        signals.stopping()
        _say(f"make serve: {exc}")
        return 1
    users = "\n".join(f"    {u.username:<6} {u.role or 'user':<15} make token USER={u.username}"
                      + (f" ROLE={u.role}" if u.role else "") for u in stack.users.values())
    clock_is = (f"started at {stack.clock_start} (CLOCK_START) and running on" if stack.clock_start
                else "this machine's")
    password_from = " from DEMO_PASSWORD" if os.environ.get("DEMO_PASSWORD") else "; set DEMO_PASSWORD to change it"
    print(f"""
RepayDesk is running (Ctrl-C stops everything started here)
  API           {stack.api_url}          (GET /health)
  Help centre   {stack.api_url}/help          (sign in: {stack.api_url}/help/login)
  Workspace     {stack.api_url}/agent         (agents sign in: {stack.api_url}/agent/login)
  moto (AWS)    {stack.moto_url}          (AWS_ENDPOINT_URL for aws-cli/boto3)
  User pool     {stack.pool.pool_id}  client {stack.pool.client_id}
  Clock         {clock_is}
  Demo users (password {local.DEMO_PASSWORD}{password_from}):
{users}
  Staff sign-in asks a two-factor code (docs/front-doors.md): the staff demo users have an authenticator with
  moto's one secret {local.MOTO_TOTP_SECRET.upper()} (add it to any authenticator app); local moto accepts any 6 digits.
""", flush=True)
    while (dead := stack.exited()) is None:
        time.sleep(0.5)
    signals.stopping()
    time.sleep(0.2)  # its last lines
    _say(f"make serve: {dead.describe_exit()}\nstopping the rest")
    return 1


if __name__ == "__main__":
    main()
