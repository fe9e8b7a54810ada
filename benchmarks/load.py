"""The local stack under a small team's load: N clients for D seconds, a wallet's mix (#21 finding 11).

    .venv/bin/python benchmarks/load.py                               # 20 clients, 60 s, on a stack it starts
    .venv/bin/python benchmarks/load.py --clients 5 --duration 10     # a quick look
    .venv/bin/python benchmarks/load.py --url http://127.0.0.1:8000 --moto-port 5500   # a running make serve
    .venv/bin/python benchmarks/load.py --compare /tmp/before --rounds 2   # alternate with another checkout
    .venv/bin/python benchmarks/load.py --rounds 3 --one-stack --moto-stats  # memory over 3 runs; moto's busy time

Without ``--url`` it starts the stack as ``make serve`` does (``python -m devtools.serve`` in the
checkout, demo data seeded, the stage's default settings) on free ports of 127.0.0.1, and stops it
afterwards. ``--compare DIR`` does the same with the checkout in DIR (e.g. an older commit unpacked
with ``git archive <rev> | tar -x -C DIR``, its search index copied in) and alternates the two,
``--rounds`` times each, so both see the same machine; the machine's load average is printed with
every run.

Each client is a thread that signs in as wallet users of its own (``--users-per-client``, created
through the stack's Cognito in moto, as ``make token`` does) and sends requests back to back
(``--think`` seconds between them), picked at random by weight:

    quote 25 · pay (POST /repayments, a new Idempotency-Key) 8 · the same payment again (replay) 2 ·
    repayment list 12 · one repayment 10 · open a 工单 (Idempotency-Key) 3 · 工单 list 8 · one 工单 10 ·
    help search page (/help/search) 12 · KB search API (/kb/search) 7 · help home page 3

A user is used for at most 25 payments and 8 工单 (the hourly limits are 30 and 10), then the
client moves to its next user, so the limits are not what is measured; 429s are counted apart.
Reported: requests, throughput, p50/p90/p99 and max latency, per kind; the share of 503s, 429s,
other 4xx/5xx and connection errors; the RSS of moto, ``chalice local`` and the event runner at
the start and the end of the run and their CPU seconds in it; the SQS messages left at the end
(settlement: repayments not settled yet); for a stack it started, how long Ctrl-C took to stop
everything and free both ports. ``--one-stack`` runs every round of a checkout on one stack (how
memory and speed change as data accumulates); ``--moto-stats`` has moto report, per operation
and table, the time it held its one-request lock (``devtools/moto_server.py --stats``).
The load generator runs on the same machine and competes for the same cores.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MIX = {"quote": 25, "pay": 8, "pay_replay": 2, "repayment_list": 12, "repayment_get": 10, "case_open": 3,
       "case_list": 8, "case_get": 10, "help_search": 12, "kb_search": 7, "help_home": 3}
QUERIES = ["还款没到账", "信用卡还款多久到账", "手续费怎么算", "还款失败怎么办", "客服电话", "花呗还款",
           "验证码收不到", "账户被冻结", "退款", "水电费缴费", "提前还款", "逾期"]
PAYEES = [
    {"kind": "credit_card", "issuer": "招商银行", "card_number": "6225880137654324"},
    {"kind": "loan", "platform": "微粒贷", "contract_number": "WLD-2026-0001"},
    {"kind": "utility", "utility": "electricity", "biller": "国网上海市电力公司", "account_number": "3100123456",
     "city": "上海"},
]
PAYMENTS_PER_USER, CASES_PER_USER = 25, 8
MAX_CLIENTS, MAX_DURATION = 200, 1800


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listener_pid(port: int) -> int | None:
    from devtools.stack import port_owner
    owner = port_owner(port)
    return int(owner.split()[1]) if owner else None


def proc_status(pid: int | None) -> dict:
    """RSS (MB) and CPU seconds (user + system) of a process, from /proc."""
    if pid is None:
        return {}
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return {}
    rss_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    fields = stat[stat.rindex(")") + 2:].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return {"rss_mb": rss_kb / 1024, "cpu_s": (int(fields[11]) + int(fields[12])) / ticks}


class Stack:
    """``python -m devtools.serve`` in ``root`` (as ``make serve``) on free ports; stopped on ``close``."""

    def __init__(self, root: Path, log_dir: Path, moto_stats: bool = False):
        self.root = root
        self.port, self.moto_port = free_port(), free_port()
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"load-serve-{self.port}.log"
        self.stats_path = log_dir / f"load-moto-stats-{self.moto_port}.json" if moto_stats else None
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHONPATH", "MOTO_LOCK_STATS"))}
        env.update(PORT=str(self.port), MOTO_PORT=str(self.moto_port), PYTHONUNBUFFERED="1")
        if self.stats_path:
            env["MOTO_LOCK_STATS"] = str(self.stats_path)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "devtools.serve"], cwd=root, env=env,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 300
        while "RepayDesk is running" not in self.log_path.read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"the stack in {root} did not start; see {self.log_path}")
            time.sleep(0.5)
        time.sleep(2)  # the event runner's first look at its queues

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> float:
        """Stop the stack as a terminal's Ctrl-C would (SIGINT to serve); the seconds until serve has exited
        and both ports are free (what an older checkout leaves behind after 30 s is killed)."""
        started = time.monotonic()
        pids = [listener_pid(self.port), listener_pid(self.moto_port)]
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
        while time.monotonic() - started < 30 and (self.proc.poll() is None or any(
                pid is not None and _alive(pid) for pid in pids)):
            time.sleep(0.05)
        took = time.monotonic() - started
        for pid in [self.proc.pid] + pids:
            if pid is not None and _alive(pid):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait()
        return took


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def tokens_for(moto_port: int, names: list[str]) -> dict[str, str]:
    """ID tokens for wallet users ``names`` (created if needed) from the stack's Cognito, as ``make token``."""
    from devtools import stack as devstack
    devstack.use_env({**devstack.stage_env("dev"), **devstack.aws_env(moto_port)})
    from chalicelib.config import settings
    from infra import local
    pool = local.find_user_pool(settings())
    return {name: local.ensure_user(pool, name, phone=f"+86139{i:08d}") for i, name in enumerate(names)}


@dataclasses.dataclass
class Result:
    kind: str
    status: int          # 0: no answer (connection error, timeout)
    seconds: float


class Client:
    def __init__(self, index: int, base: str, tokens: list[str], rng: random.Random, think: float):
        self.index, self.base, self.tokens, self.rng, self.think = index, base, tokens, rng, think
        self.http = requests.Session()
        self.user = 0
        self.payments = self.cases = 0
        self.repayments: list[str] = []
        self.case_ids: list[str] = []
        self.last_payment: tuple[str, dict] | None = None

    def _auth(self) -> dict:
        return {"Authorization": f"Bearer {self.tokens[self.user]}"}

    def _next_user(self) -> None:
        self.user = (self.user + 1) % len(self.tokens)
        self.payments = self.cases = 0
        self.repayments, self.case_ids, self.last_payment = [], [], None

    def request(self, kind: str) -> tuple[str, str, str, dict]:
        """(kind, method, path, keyword arguments) for one request of ``kind`` (or of the kind it needs first:
        a replay needs a payment, reading one repayment or 工单 needs a list)."""
        rng = self.rng
        if kind == "pay_replay" and self.last_payment is None:
            kind = "pay"
        if kind == "repayment_get" and not self.repayments:
            kind = "repayment_list"
        if kind == "case_get" and not self.case_ids:
            kind = "case_list"
        if kind in ("pay", "case_open") and (self.payments >= PAYMENTS_PER_USER or self.cases >= CASES_PER_USER):
            self._next_user()
        auth = self._auth()
        if kind == "quote":
            body = {"amount": f"{rng.randint(10, 4000)}.00", "payee": rng.choice(PAYEES)}
            return kind, "POST", "/repayments/quote", {"json": body, "headers": auth}
        if kind == "pay":
            self.payments += 1
            body = {"amount": f"{rng.randint(10, 4000)}.{rng.choice(['00', '10', '50'])}", "payee": rng.choice(PAYEES)}
            key = f"load-{uuid.uuid4().hex}"
            self.last_payment = (key, body)
            return kind, "POST", "/repayments", {"json": body, "headers": {**auth, "Idempotency-Key": key}}
        if kind == "pay_replay":
            key, body = self.last_payment
            return kind, "POST", "/repayments", {"json": body, "headers": {**auth, "Idempotency-Key": key}}
        if kind == "repayment_list":
            return kind, "GET", "/repayments?limit=20", {"headers": auth}
        if kind == "repayment_get":
            return kind, "GET", f"/repayments/{rng.choice(self.repayments)}", {"headers": auth}
        if kind == "case_open":
            self.cases += 1
            body = {"category": rng.choice(["repayment_delay", "fees", "other"]),
                    "description": f"还款两天了还没到账，请帮忙查一下（{rng.randint(1, 999)}）"}
            headers = {**auth, "Idempotency-Key": uuid.uuid4().hex}
            return kind, "POST", "/support/cases", {"json": body, "headers": headers}
        if kind == "case_list":
            return kind, "GET", "/support/cases", {"headers": auth}
        if kind == "case_get":
            return kind, "GET", f"/support/cases/{rng.choice(self.case_ids)}", {"headers": auth}
        if kind == "help_search":
            return kind, "GET", "/help/search", {"params": {"q": rng.choice(QUERIES)}}
        if kind == "kb_search":
            return kind, "GET", "/kb/search", {"params": {"q": rng.choice(QUERIES)}}
        return kind, "GET", "/help", {}

    def run(self, deadline: float, results: list[Result]) -> None:
        kinds, weights = list(MIX), list(MIX.values())
        while time.monotonic() < deadline:
            kind = self.rng.choices(kinds, weights)[0]
            kind, method, path, kwargs = self.request(kind)
            started = time.monotonic()
            try:
                response = self.http.request(method, self.base + path, timeout=30, **kwargs)
                status = response.status_code
            except requests.RequestException:
                response, status = None, 0
            results.append(Result(kind, status, time.monotonic() - started))
            if response is not None and status in (200, 201, 202):
                self._remember(kind, response)
            elif status == 429 and kind in ("pay", "case_open"):
                self._next_user()
            if self.think:
                time.sleep(self.think)

    def _remember(self, kind: str, response) -> None:
        try:
            body = response.json()
        except ValueError:
            return
        if kind == "pay" and "id" in body:
            self.repayments.append(body["id"])
        elif kind == "case_open" and "case_id" in body:
            self.case_ids.append(body["case_id"])
        elif kind == "case_list" and not self.case_ids:
            self.case_ids = [c["case_id"] for c in body.get("items", [])[:5] if "case_id" in c]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def queue_depths(moto_port: int) -> dict[str, int]:
    """Messages waiting or in flight per SQS queue that has any (the event runner's backlog: settlement)."""
    import boto3
    sqs = boto3.client("sqs", endpoint_url=f"http://127.0.0.1:{moto_port}", region_name="ap-southeast-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    depths = {}
    for url in sqs.list_queues().get("QueueUrls", []):
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        count = sum(int(v) for v in attributes.values())
        if count:
            depths[url.rsplit("/", 1)[1]] = count
    return depths


def read_stats(path: Path | None) -> dict:
    try:
        return json.loads(path.read_text()) if path else {}
    except (OSError, ValueError):
        return {}


def run_load(base: str, moto_port: int, clients: int, duration: float, users_per_client: int, think: float,
             seed: int, label: str, stats_path: Path | None = None) -> dict:
    run_id = uuid.uuid4().hex[:6]
    names = [f"load{run_id}c{c}u{u}" for c in range(clients) for u in range(users_per_client)]
    tokens = tokens_for(moto_port, names)
    check = requests.get(f"{base}/me", headers={"Authorization": f"Bearer {tokens[names[0]]}"}, timeout=30)
    if check.status_code != 200:   # figures from a stack that refuses every user would mean nothing
        raise RuntimeError(f"GET /me with a fresh token answered {check.status_code}: {check.text[:300]}")
    if stats_path:
        time.sleep(2.5)   # moto's figures include the sign-ups above (it writes them every 2 s)
    api_pid, moto_pid = listener_pid(urlparse(base).port), listener_pid(moto_port)
    events_pid = _sibling(api_pid, "devtools.events")
    before = {"moto": proc_status(moto_pid), "api": proc_status(api_pid), "events": proc_status(events_pid)}
    load_before = os.getloadavg()
    stats_before = read_stats(stats_path)
    results: list[Result] = []
    rng = random.Random(seed)
    workers = [Client(i, base, [tokens[f"load{run_id}c{i}u{u}"] for u in range(users_per_client)],
                      random.Random(rng.random()), think) for i in range(clients)]
    started = time.monotonic()
    deadline = started + duration
    threads = [threading.Thread(target=w.run, args=(deadline, results), daemon=True) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration + 60)
    elapsed = time.monotonic() - started
    after = {"moto": proc_status(moto_pid), "api": proc_status(api_pid), "events": proc_status(events_pid)}
    summary = summarise(label, results, elapsed, before, after, (load_before, os.getloadavg()), clients, duration)
    summary["queues_at_end"] = queue_depths(moto_port)
    if stats_path:
        time.sleep(2.5)   # moto writes its figures every 2 s
        summary["moto_operations"] = {
            op: [calls - stats_before.get(op, [0, 0, 0])[0], held - stats_before.get(op, [0, 0, 0])[1],
                 waited - stats_before.get(op, [0, 0, 0])[2]]
            for op, (calls, held, waited) in read_stats(stats_path).items()}
    return summary


def _sibling(pid: int | None, module: str) -> int | None:
    """The process running ``module`` with the same parent as ``pid`` (the event runner beside chalice local)."""
    if pid is None:
        return None
    try:
        parent = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
    except OSError:
        return None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] == parent \
                    and module in (entry / "cmdline").read_bytes().decode(errors="replace"):
                return int(entry.name)
        except OSError:
            continue
    return None


def summarise(label, results, elapsed, before, after, loads, clients, duration) -> dict:
    seconds = [r.seconds for r in results]
    total = len(results)

    def share(pred) -> float:
        return (sum(1 for r in results if pred(r.status)) / total) if total else 0.0

    kinds = {}
    for kind in MIX:
        mine = [r for r in results if r.kind == kind]
        if mine:
            times = [r.seconds for r in mine]
            kinds[kind] = {"n": len(mine), "p50_ms": percentile(times, 0.5) * 1000,
                           "p99_ms": percentile(times, 0.99) * 1000,
                           "503": sum(1 for r in mine if r.status == 503),
                           "statuses": dict(sorted(_count(r.status for r in mine).items()))}
    return {
        "label": label, "clients": clients, "duration_s": duration, "elapsed_s": elapsed, "requests": total,
        "throughput_rps": total / elapsed if elapsed else 0.0,
        "p50_ms": percentile(seconds, 0.5) * 1000, "p90_ms": percentile(seconds, 0.9) * 1000,
        "p99_ms": percentile(seconds, 0.99) * 1000, "max_ms": max(seconds, default=0.0) * 1000,
        "share_503": share(lambda s: s == 503), "share_429": share(lambda s: s == 429),
        "share_other_5xx": share(lambda s: s >= 500 and s != 503),
        "share_other_4xx": share(lambda s: 400 <= s < 500 and s != 429),
        "share_no_answer": share(lambda s: s == 0),
        "statuses": dict(sorted(_count(r.status for r in results).items())),
        "processes": {name: {"rss_mb_start": before[name].get("rss_mb"), "rss_mb_end": after[name].get("rss_mb"),
                             "cpu_s": (after[name].get("cpu_s", 0) - before[name].get("cpu_s", 0))
                             if before[name] and after[name] else None} for name in before},
        "loadavg_start": loads[0][0], "loadavg_end": loads[1][0], "kinds": kinds,
    }


def _count(values) -> dict:
    counts: dict = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return counts


def show(summary: dict) -> None:
    p = summary["processes"]

    def fmt(v) -> str:
        return "?" if v is None else f"{v:.0f}"

    print(f"\n== {summary['label']}: {summary['clients']} clients, {summary['elapsed_s']:.0f} s, "
          f"load average {summary['loadavg_start']:.2f} → {summary['loadavg_end']:.2f} (this machine: "
          f"{os.cpu_count()} cores)")
    print(f"   {summary['requests']} requests, {summary['throughput_rps']:.1f}/s; p50 {summary['p50_ms']:.0f} ms, "
          f"p90 {summary['p90_ms']:.0f} ms, p99 {summary['p99_ms']:.0f} ms, max {summary['max_ms']:.0f} ms")
    print(f"   503 {summary['share_503']:.1%}, 429 {summary['share_429']:.1%}, other 5xx "
          f"{summary['share_other_5xx']:.1%}, other 4xx {summary['share_other_4xx']:.1%}, no answer "
          f"{summary['share_no_answer']:.1%}   statuses {summary['statuses']}")
    if "stop_s" in summary:
        print(f"   Ctrl-C (SIGINT) to everything stopped and both ports free: {summary['stop_s']:.1f} s")
    for name in ("moto", "api", "events"):
        print(f"   {name:<6} RSS {fmt(p[name]['rss_mb_start'])} → {fmt(p[name]['rss_mb_end'])} MB, "
              f"CPU {fmt(p[name]['cpu_s'])} s in the run")
    print(f"   SQS messages waiting or in flight at the end: {summary['queues_at_end'] or 'none'} "
          "(settlement: repayments not settled yet; team queues: read by people, not here)")
    operations = summary.get("moto_operations")
    if operations:
        held = sum(v[1] for v in operations.values())
        print(f"   moto held its one-request lock {held:.1f} s of the {summary['elapsed_s']:.0f} s "
              f"({held / summary['elapsed_s']:.0%}); the operations that held it longest:")
        for op, (calls, seconds, waited) in sorted(operations.items(), key=lambda kv: -kv[1][1])[:12]:
            if calls:
                print(f"     {seconds:6.1f} s {seconds / held:4.0%} {calls:6d} calls "
                      f"{seconds / calls * 1000:6.1f} ms/call (waited {waited / calls * 1000:5.0f} ms)  {op}")
    print(f"   {'kind':<15}{'n':>6}{'p50 ms':>9}{'p99 ms':>9}{'503':>6}  statuses")
    for kind, k in summary["kinds"].items():
        print(f"   {kind:<15}{k['n']:>6}{k['p50_ms']:>9.0f}{k['p99_ms']:>9.0f}{k['503']:>6}  {k['statuses']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load per run")
    parser.add_argument("--think", type=float, default=0.0, help="seconds a client waits between requests")
    parser.add_argument("--users-per-client", type=int, default=3)
    parser.add_argument("--url", help="a running stack's API (127.0.0.1 only); needs --moto-port")
    parser.add_argument("--moto-port", type=int)
    parser.add_argument("--compare", type=Path, help="another checkout: alternate runs on its stack and ours")
    parser.add_argument("--rounds", type=int, default=1, help="runs per checkout (with --compare: alternated)")
    parser.add_argument("--one-stack", action="store_true",
                        help="every round of a checkout on one stack (how its memory grows); runs not alternated")
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--json", type=Path, help="write every run's summary here")
    parser.add_argument("--moto-stats", action="store_true",
                        help="moto reports each operation's time under its lock (a stack started here, this checkout)")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= MAX_CLIENTS or not 0 < args.duration <= MAX_DURATION:
        parser.error(f"--clients 1–{MAX_CLIENTS}, --duration up to {MAX_DURATION} s")
    if args.url:
        host = urlparse(args.url).hostname
        if host not in ("127.0.0.1", "localhost") or args.moto_port is None:
            parser.error("--url must be http://127.0.0.1:<port> (this machine only), with --moto-port")
    summaries = []
    plan = [("this checkout", ROOT)] + ([("compared", args.compare.resolve())] if args.compare else [])
    if args.url:
        plan = [("the stack at", None)]
        for round_ in range(args.rounds):
            summary = run_load(args.url.rstrip("/"), args.moto_port, args.clients, args.duration,
                               args.users_per_client, args.think, args.seed + round_, "the stack at " + args.url)
            show(summary)
            summaries.append(summary)
    elif args.one_stack:
        for label, root in plan:
            stack = Stack(root, ROOT / ".local", moto_stats=args.moto_stats)
            mine = []
            try:
                for round_ in range(args.rounds):
                    summary = run_load(stack.url, stack.moto_port, args.clients, args.duration, args.users_per_client,
                                       args.think, args.seed + round_,
                                       f"{label} ({root}), run {round_ + 1} on one stack", stack.stats_path)
                    show(summary)
                    mine.append(summary)
            finally:
                stopped = stack.close()
            mine[-1]["stop_s"] = stopped
            print(f"   Ctrl-C (SIGINT) to everything stopped and both ports free: {stopped:.1f} s")
            summaries += mine
    else:
        for round_ in range(args.rounds):
            for label, root in plan:
                stack = Stack(root, ROOT / ".local", moto_stats=args.moto_stats)
                try:
                    summary = run_load(stack.url, stack.moto_port, args.clients, args.duration,
                                       args.users_per_client, args.think, args.seed + round_, f"{label} ({root})",
                                       stack.stats_path)
                finally:
                    stopped = stack.close()
                summary["stop_s"] = stopped
                show(summary)
                summaries.append(summary)
    if args.json:
        args.json.write_text(json.dumps(summaries, ensure_ascii=False, indent=1))
    if len(summaries) > 1:
        print("\nmedians per checkout: throughput, p50, p99, 503 share, moto RSS at the end, stop")
        for label, _ in plan:
            mine = [s for s in summaries if s["label"].startswith(label)]
            if not mine:
                continue
            def med(key, mine=mine):   # this checkout's summaries
                return statistics.median(s[key] for s in mine)
            rss = statistics.median(s["processes"]["moto"]["rss_mb_end"] or 0 for s in mine)
            stops = [s["stop_s"] for s in mine if "stop_s" in s]
            stop = statistics.median(stops) if stops else float("nan")
            print(f"   {label:<14} {med('throughput_rps'):.1f}/s  {med('p50_ms'):.0f} ms  {med('p99_ms'):.0f} ms  "
                  f"{med('share_503'):.1%}  {rss:.0f} MB  {stop:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
