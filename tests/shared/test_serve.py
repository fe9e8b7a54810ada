"""``make serve`` says what went wrong: which port is taken, or which process died and its last lines (#11)."""
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from devtools.stack import LocalStack, free_port, port_owner

ROOT = Path(__file__).resolve().parents[2]


def _serve(port: int, moto_port: int, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PORT": str(port), "MOTO_PORT": str(moto_port), "PYTHONUNBUFFERED": "1"}
    env.pop("AWS_ENDPOINT_URL", None)
    return subprocess.Popen([sys.executable, "-m", "devtools.serve"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


@pytest.fixture
def taken_port():
    """A port this test process listens on."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.mark.parametrize("which", ["PORT", "MOTO_PORT"])
def test_a_taken_port_is_named_with_the_process_holding_it(taken_port, which):
    ports = {"PORT": free_port(), "MOTO_PORT": free_port(), which: taken_port}
    serve = _serve(ports["PORT"], ports["MOTO_PORT"])
    out, err = serve.communicate(timeout=120)
    assert serve.returncode == 1
    assert f"port {taken_port} (" in err and f"{which}) is already in use" in err, err
    assert f"by pid {os.getpid()} (" in err, err   # the process holding it, from /proc
    assert "make serve PORT=" in err               # and what to do instead
    assert "RepayDesk is running" not in out


def test_port_owner_names_the_listening_process(taken_port):
    assert port_owner(taken_port).startswith(f"pid {os.getpid()} (")
    assert port_owner(free_port()) is None


@pytest.mark.parametrize("quiet", [True, False], ids=["log file", "terminal"])
def test_a_dead_child_is_named_with_its_exit_code_and_last_lines(quiet, capfd):
    stack = LocalStack(port=free_port(), moto_port=free_port(), quiet=quiet)
    script = "import sys\nfor i in range(30): print(f'line {i}')\nprint('OSError: boom', file=sys.stderr)\nsys.exit(3)"
    child = None
    try:
        child = stack._spawn("event runner", [sys.executable, "-c", script], {**os.environ, "PYTHONUNBUFFERED": "1"},
                             log="events.log")
        child.proc.wait(timeout=30)
        time.sleep(0.3)   # the tee thread's last lines
        assert stack.exited() is child
        message = child.describe_exit()
    finally:
        stack.stop()
        if child is not None and child.log_path:
            child.log_path.unlink(missing_ok=True)
    assert message.startswith(f"event runner (pid {child.proc.pid}) exited with code 3; its last lines")
    assert message.rstrip().endswith("OSError: boom") and "line 29" in message and "line 10" not in message
    if not quiet:
        assert "line 0" in capfd.readouterr().out   # the child's output still reaches the terminal


@pytest.mark.e2e
def test_make_serve_names_the_process_that_died(tmp_path):
    port, moto_port = free_port(), free_port()
    serve = _serve(port, moto_port, start_new_session=True)
    lines, running = [], threading.Event()

    def read_stdout():
        for line in serve.stdout:
            lines.append(line)
            if "RepayDesk is running" in line:
                running.set()
    threading.Thread(target=read_stdout, daemon=True).start()
    try:
        assert running.wait(timeout=180), "".join(lines[-30:])
        moto_pid = int(re.match(r"pid (\d+)", port_owner(moto_port)).group(1))
        os.kill(moto_pid, signal.SIGKILL)
        err = serve.stderr.read()   # until serve exits (it stops the rest and closes its stderr)
        assert serve.wait(timeout=60) == 1
    finally:
        if serve.poll() is None:
            serve.send_signal(signal.SIGTERM)   # serve stops what it started
            serve.wait(timeout=60)
    assert f"make serve: moto (pid {moto_pid}) was killed by signal 9" in err, err
    assert "stopping the rest" in err
    assert port_owner(port) is None and port_owner(moto_port) is None   # nothing left behind
