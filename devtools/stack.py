"""The local stack: moto server + ``chalice local`` + the event runner, on 127.0.0.1.

Used by ``make serve`` (blocking, Ctrl-C stops all) and by the end-to-end tests
(on free ports, torn down after the session).
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
REGION = "ap-southeast-1"
BIN = Path(sys.executable).parent


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
    """Point this process's settings and AWS clients at ``env``."""
    from chalicelib import aws, config
    from chalicelib.auth import keys
    os.environ.update(env)
    config.reload()
    aws.reset()
    keys.clear()


def wait_for(url: str, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {process.returncode}")
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
                 seed: bool = True, quiet: bool = False):
        self.port, self.moto_port = port, moto_port
        self.extra_env = extra_env or {}
        self.seed, self.quiet = seed, quiet
        self.processes: list[subprocess.Popen] = []
        self.env: dict[str, str] = {}
        self.pool = None
        self.users: dict = {}

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def moto_url(self) -> str:
        return f"http://127.0.0.1:{self.moto_port}"

    def _spawn(self, args: list[str], env: dict[str, str], log: str, chatty: bool = False) -> subprocess.Popen:
        out = None
        if self.quiet:  # tests: every child's output kept as an artifact, for the traceback behind a 500
            (ROOT / "test-artifacts").mkdir(exist_ok=True)
            out = open(ROOT / "test-artifacts" / f"stack-{self.port}-{log}", "ab")
        elif chatty:  # moto logs every call: to .local/<name>.log instead of the terminal
            (ROOT / ".local").mkdir(exist_ok=True)
            out = open(ROOT / ".local" / log, "ab")
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True)
        self.processes.append(proc)
        return proc

    def start(self) -> "LocalStack":
        from infra import local
        try:
            moto = self._spawn([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.moto_port)],
                               {**os.environ}, log="moto.log", chatty=True)
            wait_for(f"{self.moto_url}/moto-api/", process=moto)
            self.env = {**stage_env("dev"), **aws_env(self.moto_port), **self.extra_env}
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
            api = self._spawn([sys.executable, "-m", "devtools.chalice_local", "local", "--host", "127.0.0.1",
                               "--port", str(self.port),
                               "--no-autoreload", "--stage", "dev"], child_env, log="api.log")
            wait_for(f"{self.api_url}/health", timeout=60, process=api)
            self._spawn([sys.executable, "-m", "devtools.events"], child_env, log="events.log")
        except BaseException:
            self.stop()
            raise
        return self

    def token(self, username: str, role: str | None = None, phone: str = "+8613800138000") -> str:
        """A Cognito ID token from the stack's pool (creating the user if needed)."""
        from infra import local
        use_env({k: v for k, v in self.env.items() if k not in self.extra_env})
        return local.ensure_user(self.pool, username, role=role, phone=phone)

    def client(self, service: str):
        """A boto3 client for the stack's moto server (read queues, e-mails, texts)."""
        import boto3
        return boto3.client(service, endpoint_url=self.moto_url, region_name=REGION,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def stop(self) -> None:
        for proc in reversed(self.processes):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in self.processes:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        self.processes.clear()

    def __enter__(self) -> "LocalStack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
