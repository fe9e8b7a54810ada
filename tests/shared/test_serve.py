"""``make serve`` says what went wrong: which port is taken, or which process died and its last lines (#11)."""
import contextlib
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


def _watched(output) -> tuple[list[str], threading.Event]:
    """A child's output lines, collected in the background; the event is set once it says it is running."""
    lines: list[str] = []
    running = threading.Event()

    def read():
        for line in output:
            lines.append(line)
            if "RepayDesk is running" in line:
                running.set()
    threading.Thread(target=read, daemon=True).start()
    return lines, running


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
    lines, running = _watched(serve.stdout)
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


# --- `make serve` stops everything it started (#21 finding 10) ---------------------------------------------

def _proc_stat(pid: int) -> tuple[int, str, int] | None:
    """(parent pid, state, start time) of a live process, from /proc/<pid>/stat; None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()   # after "pid (comm) "
    return int(fields[1]), fields[0], int(fields[19])


def _descendants(root: int) -> dict[int, tuple[int, str]]:
    """Every live process under ``root``: {pid: (start time, command line)}."""
    parents, found = {}, {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _proc_stat(int(entry.name))) is not None:
            parents[int(entry.name)] = stat
    frontier = {root}
    while frontier:
        children = {pid for pid, (ppid, _, _) in parents.items() if ppid in frontier and pid not in found}
        for pid in children:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                cmdline = "?"
            found[pid] = (parents[pid][2], cmdline.strip())
        frontier = children
    return found


def _still_running(processes: dict[int, tuple[int, str]]) -> list[str]:
    """Those of ``processes`` still alive (same pid and start time, not a zombie awaiting its reaper)."""
    left = []
    for pid, (started, cmdline) in processes.items():
        stat = _proc_stat(pid)
        if stat is not None and stat[2] == started and stat[1] != "Z":
            left.append(f"{pid} {cmdline}")
    return left


@pytest.mark.e2e
@pytest.mark.parametrize("signals", [("SIGTERM", "SIGTERM"), ("SIGINT",), ("SIGHUP",)],
                         ids=["SIGTERM twice", "SIGINT", "SIGHUP"])
def test_make_serve_stops_everything_it_started(signals):
    """``make serve`` in a session of its own, as a terminal would run it; the signal goes to the whole
    process group (GNU make forwards SIGTERM to its child too, so serve gets it once more than sent).
    Within 10 s nothing it started is left and both ports are free."""
    port, moto_port = free_port(), free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("AWS_ENDPOINT_URL", None)
    env.pop("MAKEFLAGS", None)
    # -o: the environment and the search index are taken as they are (make test built them): nothing reinstalled
    make = subprocess.Popen(["make", "--no-print-directory", "-o", ".venv/.installed",
                             "-o", "chalicelib/search/index/.built", "serve", f"PORT={port}",
                             f"MOTO_PORT={moto_port}", f"PY={sys.executable}"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    lines, running = _watched(make.stdout)
    started: dict = {}
    try:
        assert running.wait(timeout=180), "".join(lines[-30:])
        started = _descendants(make.pid)
        commands = " ".join(cmdline for _, cmdline in started.values())
        for part in ("devtools.serve", "devtools.moto_server", "devtools.chalice_local", "devtools.events"):
            assert part in commands, commands
        for i, name in enumerate(signals):
            if i:
                time.sleep(0.05)
            os.killpg(make.pid, getattr(signal, name))
        sent = time.monotonic()
        while time.monotonic() - sent < 10 and (_still_running(started) or make.poll() is None
                                                or port_owner(port) or port_owner(moto_port)):
            time.sleep(0.1)
        left = _still_running(started)
        assert not left, f"still running {time.monotonic() - sent:.1f} s after {'+'.join(signals)}: {left}\n" \
                         + "".join(lines[-30:])
        assert make.poll() is not None
        assert port_owner(port) is None and port_owner(moto_port) is None
    finally:   # never leave a stack behind, whatever failed
        for pid in [int(p.split()[0]) for p in _still_running(started)] + [make.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        make.wait(timeout=30)


_STUBBORN = """
import os, signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN if {leader_ignores} else signal.SIG_DFL)
helper = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(600)"])
print(helper.pid, flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize("leader_ignores", [True, False], ids=["child ignores SIGTERM", "child leaves a helper"])
def test_stop_kills_what_ignores_sigterm_within_its_grace(leader_ignores, tmp_path):
    """A process of the stack that ignores SIGTERM (moto once did for 16 s), or that started a helper which
    does and then exited: both are gone within the grace period, without waiting on them."""
    stack = LocalStack(port=free_port(), moto_port=free_port())
    out = tmp_path / "out"
    with open(out, "w") as sink:
        proc = subprocess.Popen([sys.executable, "-c", _STUBBORN.format(leader_ignores=leader_ignores)],
                                stdout=sink, start_new_session=True)
    from devtools.stack import Child
    stack.children.append(Child("stubborn", proc, out))
    deadline = time.monotonic() + 30
    while "ready" not in out.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    helper = int(out.read_text().split()[0])
    started = time.monotonic()
    stack.stop(grace=1.0)
    took = time.monotonic() - started
    assert proc.returncode is not None and not stack.children
    assert took < 4, f"stop() took {took:.1f} s"
    deadline = time.monotonic() + 2   # SIGKILL is sent; the kernel finishes the helper (not our child) soon after
    while (stat := _proc_stat(helper)) is not None and stat[1] != "Z" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stat is None or stat[1] == "Z", "the helper outlived stop()"


def test_moto_server_exits_when_its_supervisor_is_killed(tmp_path):
    """SIGKILL leaves a supervisor no chance to stop anything: its moto server goes by itself (it used to
    be adopted by init and keep the port, so the next ``make serve`` found it taken)."""
    moto_port = free_port()
    parent = subprocess.Popen([sys.executable, "-c", (
        "import subprocess, sys, time\n"
        f"moto = subprocess.Popen([sys.executable, '-m', 'devtools.moto_server', '-p', '{moto_port}'],"
        " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "print(moto.pid, flush=True)\n"
        "time.sleep(600)\n")], cwd=ROOT, stdout=subprocess.PIPE, text=True, start_new_session=True)
    moto_pid = int(parent.stdout.readline())
    try:
        deadline = time.monotonic() + 60
        while port_owner(moto_port) is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert port_owner(moto_port).startswith(f"pid {moto_pid} ")
        parent.kill()
        parent.wait(timeout=10)
        deadline = time.monotonic() + 5
        while port_owner(moto_port) is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert port_owner(moto_port) is None, "moto outlived its supervisor"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(moto_pid, signal.SIGKILL)
        if parent.poll() is None:
            parent.kill()
            parent.wait()
