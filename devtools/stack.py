"""The local stack: moto server + ``chalice local`` + the event runner, on 127.0.0.1.

Used by ``make serve`` (blocking, Ctrl-C stops all) and by the end-to-end tests
(on free ports, torn down after the session).
"""
from __future__ import annotations

import collections
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
REGION = "ap-southeast-1"
BIN = Path(sys.executable).parent
STOP_GRACE_SECONDS = 3.0   # SIGTERM → SIGKILL


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stage_env(stage: str = "dev") -> dict[str, str]:
    """The environment variables ``.chalice/config.json`` gives a stage (as chalice local sets them)."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = dict(config.get("environment_variables", {}))
    env.update(config.get("stages", {}).get(stage, {}).get("environment_variables", {}))
    return env


def aws_env(moto_port: int) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
    }


def use_env(env: dict[str, str]) -> None:
    """Point this process's settings, AWS clients and clock (``CLOCK_START``) at ``env``."""
    from chalicelib import config
    from chalicelib.adapters import aws
    from chalicelib.edge.auth import keys
    from chalicelib.kernel import clock
    os.environ.update(env)
    config.reload()
    aws.reset()
    keys.clear()
    clock.reset(base=True)


def clock_env(start: str | None) -> dict[str, str]:
    """The settings that start every process of a stack on the same running clock: it reads ``start`` (an
    ISO instant, e.g. ``2026-12-09T02:30:00Z``) now, in every process, and runs on (``chalicelib/kernel/clock.py``)."""
    if not start:
        return {}
    return {"CLOCK_START": start, "CLOCK_START_REAL": f"{time.time():.6f}"}


class PortInUse(RuntimeError):
    """A port the stack needs is already taken (the message names it and, if it can, the process)."""


class ChildExited(RuntimeError):
    """A process of the stack exited (the message names it, its exit code and its last log lines)."""


def sent_by_moto(moto_url: str) -> dict[str, list[dict]]:
    """What the local stack "sent": ``{"sms": [{"phone_number", "message"}…], "email": [{"destinations",
    "subject", "body"}…]}``, oldest first — from the local moto server's narrow ``/_local/sent.json``
    (``devtools.moto_server.sent_messages``), not moto's dump of every model."""
    from devtools.moto_server import SENT_PATH
    return requests.get(f"{moto_url}{SENT_PATH}", timeout=30).json()


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind: TIME_WAIT is no conflict
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def port_owner(port: int) -> str | None:
    """``"pid 123 (python -m http.server 8000)"`` for the process listening on ``port``, if Linux's /proc tells."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    if not inodes:
        return None
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            if any(os.readlink(fd) in inodes for fd in fd_dir.iterdir()):
                pid = fd_dir.parent.name
                cmdline = (fd_dir.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                return f"pid {pid} ({cmdline[:120]})"
        except OSError:
            continue
    return None


def ensure_free(port: int, what: str) -> None:
    if port_in_use(port):
        owner = port_owner(port)
        raise PortInUse(f"port {port} ({what}) is already in use" + (f" by {owner}" if owner else "")
                        + "; stop that process or choose other ports, e.g. make serve PORT=8001 MOTO_PORT=5501")


class Child:
    """One process of the stack, with where its output goes and its last lines."""

    def __init__(self, name: str, proc: subprocess.Popen, log_path: Path | None):
        self.name, self.proc, self.log_path = name, proc, log_path
        self.recent: collections.deque[str] = collections.deque(maxlen=40)

    def tee(self, stream) -> None:
        """Copy the child's output to ours line by line, remembering the last lines. Once our output is
        gone (the terminal hung up), keep reading, so the child never blocks on a full pipe."""
        echo = True
        for raw in iter(stream.readline, b""):
            if echo:
                try:
                    sys.stdout.buffer.write(raw)
                    sys.stdout.buffer.flush()
                except (OSError, ValueError):
                    echo = False
            self.recent.append(raw.decode(errors="replace").rstrip())

    def exit_code(self) -> int | None:
        """The child's exit code (negative: the signal that killed it), or None while it runs. Does not reap
        it: until ``reap()``, its pid, and so its process group's id, cannot be given to another process,
        so signalling the group stays safe after the child has exited."""
        if self.proc.returncode is not None:
            return self.proc.returncode
        try:
            info = os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:   # reaped elsewhere
            return self.proc.poll()
        if info is None:
            return None
        return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status

    def signal_group(self, sig: int) -> None:
        """``sig`` to the child's process group (the child and anything it started), while it is not reaped."""
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, sig)

    def reap(self) -> None:
        with contextlib.suppress(ChildProcessError, subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)

    def last_lines(self, count: int = 15) -> list[str]:
        if self.log_path is not None:
            try:
                with open(self.log_path, "rb") as log:
                    log.seek(0, os.SEEK_END)
                    log.seek(max(0, log.tell() - 16384))
                    return log.read().decode(errors="replace").splitlines()[-count:]
            except OSError:
                return []
        return list(self.recent)[-count:]

    def describe_exit(self) -> str:
        code = self.exit_code()
        how = f"was killed by signal {-code}" if code is not None and code < 0 else f"exited with code {code}"
        where = f" ({self.log_path})" if self.log_path else ""
        lines = self.last_lines()
        text = f"{self.name} (pid {self.proc.pid}) {how}"
        return text + (f"; its last lines{where}:\n" + "\n".join("    " + line for line in lines) if lines else "")


def wait_for(url: str, timeout: float = 30.0, child: Child | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child is not None and child.exit_code() is not None:
            time.sleep(0.2)  # let the tee thread catch the last lines
            message = child.describe_exit()
            raise (PortInUse if "Address already in use" in message else ChildExited)(message)
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


class LocalStack:
    """Start moto, create resources and demo data, start the API and the event runner."""

    def __init__(self, *, port: int = 8000, moto_port: int = 5500, extra_env: dict[str, str] | None = None,
                 seed: bool = True, quiet: bool = False, clock_start: str | None = None):
        """``clock_start``: an ISO instant the application's clock reads when the stack starts, then runs on
        from (the demo data, the API and the event runner alike); default ``CLOCK_START`` from the
        environment, else the machine's clock."""
        self.port, self.moto_port = port, moto_port
        self.clock_start = clock_start or os.environ.get("CLOCK_START") or None
        # The children's links in team e-mails, and whether cookies need https: http://127.0.0.1:<port>.
        self.extra_env = {"PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", **(extra_env or {})}
        self.seed, self.quiet = seed, quiet
        self.children: list[Child] = []
        self.env: dict[str, str] = {}
        self.pool = None
        self.users: dict = {}

    @property
    def processes(self) -> list[subprocess.Popen]:
        return [child.proc for child in self.children]

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def moto_url(self) -> str:
        return f"http://127.0.0.1:{self.moto_port}"

    def _spawn(self, name: str, args: list[str], env: dict[str, str], log: str, chatty: bool = False) -> Child:
        log_path = None
        if self.quiet:  # tests: every child's output kept as an artifact, for the traceback behind a 500
            log_path = ROOT / "test-artifacts" / f"stack-{self.port}-{log}"
        elif chatty:  # moto logs every call: to .local/<name>.log instead of the terminal
            log_path = ROOT / ".local" / log
        if log_path is not None:
            log_path.parent.mkdir(exist_ok=True)
            with open(log_path, "ab") as out:
                proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True)
            child = Child(name, proc, log_path)
        else:
            proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    start_new_session=True)
            child = Child(name, proc, None)
            threading.Thread(target=child.tee, args=(proc.stdout,), daemon=True).start()
        self.children.append(child)
        return child

    def start(self) -> LocalStack:
        from infra import local
        ensure_free(self.moto_port, "moto, MOTO_PORT")
        ensure_free(self.port, "API, PORT")
        try:
            moto = self._spawn("moto", [sys.executable, "-m", "devtools.moto_server", "-H", "127.0.0.1",
                                        "-p", str(self.moto_port)], {**os.environ}, log="moto.log", chatty=True)
            wait_for(f"{self.moto_url}/moto-api/", child=moto)
            # The clock is the whole stack's, this process's too (demo data, tests reading the stack's dates).
            self.env = {**stage_env("dev"), **aws_env(self.moto_port), **clock_env(self.clock_start),
                        **self.extra_env}
            # This process talks to moto server too (bootstrap, tests reading queues), but the
            # stack's extra settings (short time limits…) are for the children only.
            own_env = {k: v for k, v in self.env.items() if k not in self.extra_env}
            use_env(own_env)
            from chalicelib.config import settings
            self.pool = local.create_all(settings())
            pool_env = {"USER_POOL_ID": self.pool.pool_id, "USER_POOL_CLIENT_ID": self.pool.client_id}
            self.env.update(pool_env)
            use_env({**own_env, **pool_env})
            if self.seed:
                from devtools import seed
                self.users = seed.seed_all(self.pool)
            child_env = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
            api = self._spawn("chalice local (API)", [sys.executable, "-m", "devtools.chalice_local",
                                                      "--host", "127.0.0.1", "--port", str(self.port),
                                                      "--stage", "dev"], child_env, log="api.log")
            wait_for(f"{self.api_url}/health", timeout=60, child=api)
            self._spawn("event runner", [sys.executable, "-m", "devtools.events"], child_env, log="events.log")
        except BaseException:
            self.stop()
            raise
        return self

    def exited(self) -> Child | None:
        """The first child that is no longer running, if any."""
        return next((child for child in self.children if child.exit_code() is not None), None)

    @contextlib.contextmanager
    def frozen_aws(self):
        """moto stopped (SIGSTOP) for the block: connections are accepted by the kernel and never answered,
        as a hung DynamoDB/SNS would; SIGCONT afterwards, whatever happens."""
        moto = next(child.proc for child in self.children if child.name == "moto")
        os.kill(moto.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(moto.pid, signal.SIGCONT)

    def token(self, username: str, role: str | None = None, phone: str = "+8613800138000") -> str:
        """A Cognito ID token from the stack's pool (creating the user if needed)."""
        from infra import local
        use_env({k: v for k, v in self.env.items() if k not in self.extra_env})
        return local.ensure_user(self.pool, username, role=role, phone=phone)

    def client(self, service: str, config=None):
        """A boto3 client for the stack's moto server (read queues, e-mails, texts); ``config``: botocore's."""
        import boto3
        return boto3.client(service, endpoint_url=self.moto_url, region_name=REGION,
                            aws_access_key_id="testing", aws_secret_access_key="testing", config=config)

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Stop every process of the stack and whatever they started, within about ``grace`` seconds.

        Each child leads a process group of its own: the group gets SIGCONT (a frozen moto must be able
        to act) and SIGTERM; after ``grace`` seconds, or as soon as every child has exited, each group
        gets SIGKILL — a child that ignored SIGTERM (moto once took 16 s) and anything a child started
        and left behind. Children are reaped only then, so their group ids cannot have been reused.
        Safe to call again (it does nothing the second time)."""
        children = list(self.children)
        for child in reversed(children):
            child.signal_group(signal.SIGCONT)
            child.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while any(child.exit_code() is None for child in children) and time.monotonic() < deadline:
            time.sleep(0.05)
        for child in children:
            child.signal_group(signal.SIGKILL)
        for child in children:
            child.reap()
        self.children.clear()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
