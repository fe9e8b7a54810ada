"""Finding a 工单 over many: seed N 工单 (default 10,000) in moto in-process, then time searches by reference,
by user name and by a word, and count the DynamoDB reads each makes.

    .venv/bin/python benchmarks/case_search.py [--cases 10000] [--searches 200] [--json out.json]

- Seeding goes through ``search_store.put_many`` (BatchWriteItem, the case items with their GSI keys and their
  term items from ``terms.indexed``), 2,000 users with 5 工单 each, descriptions drawn from a fixed list of
  phrases (seed 25), every fifth 工单 naming a repayment.
- Each search is ``escalation.service.search`` as the route calls it (a senior-support actor, limit 20),
  wall time per call; p50 / p99 over ``--searches`` calls of each kind.
- Reads are counted through botocore's public event hooks on the app's session: the number of Query /
  GetItem / BatchGetItem calls per search, and their RCU computed from the items read by DynamoDB's rules
  (eventually consistent Query: ⌈Σ item sizes / 4 KB⌉ × 0.5; BatchGetItem ⌈size / 4 KB⌉ × 0.5 each; a
  consistent GetItem ⌈size / 4 KB⌉). moto's own ConsumedCapacity is a constant, so it is not used.
- Yardstick, same run: the frontline queue's first page (``escalation.service.queue``, limit 20) timed the same way.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PHRASES = ["还款三天了还没到账", "银行卡扣款成功但是账单没有销账", "手续费比说好的多收了", "信用卡还款失败",
           "想申请退款", "验证码一直收不到", "花呗还款显示处理中", "账户被冻结了无法还款", "转账到对方银行卡被退回",
           "自动还款没有执行", "贷款提前还款怎么操作", "还款金额填错了", "房贷扣款失败", "客服电话打不通",
           "账单日和还款日不对", "收款人姓名填错"]
CATEGORIES = ["repayment_delay", "repayment_failed", "fees", "other"]


def size(value) -> int:
    """A low-level attribute value's size in bytes by DynamoDB's rules (numbers: 1 byte per 2 digits + 1)."""
    (kind, inner), = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return math.ceil(len(inner.strip("-").replace(".", "")) / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(size(v) + 1 for v in inner)
    if kind == "M":
        return 3 + sum(len(k.encode()) + size(v) + 1 for k, v in inner.items())
    return len(str(inner))


def item_size(item: dict) -> int:
    return sum(len(k.encode()) + size(v) for k, v in item.items())


class Reads:
    def __init__(self):
        self.calls = 0
        self.rcu = 0.0

    def install(self, session) -> None:
        session.events.register("after-call.dynamodb", self._after)

    def _after(self, http_response=None, parsed=None, model=None, **kwargs):
        name = model.name if model else ""
        if name == "Query":
            self.calls += 1
            self.rcu += max(1, math.ceil(sum(item_size(i) for i in parsed.get("Items", [])) / 4096)) * 0.5
        elif name == "BatchGetItem":
            self.calls += 1
            for items in (parsed.get("Responses") or {}).values():
                self.rcu += sum(max(1, math.ceil(item_size(i) / 4096)) * 0.5 for i in items)
        elif name == "GetItem":
            self.calls += 1
            item = parsed.get("Item")
            self.rcu += max(1, math.ceil(item_size(item) / 4096)) if item else 1


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def run(cases: int, searches: int) -> dict:
    os.environ.update(AWS_DEFAULT_REGION="ap-southeast-1", AWS_REGION="ap-southeast-1", AWS_ACCESS_KEY_ID="testing",
                      AWS_SECRET_ACCESS_KEY="testing", AWS_SESSION_TOKEN="testing", LOG_LEVEL="ERROR")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from moto import mock_aws
    with mock_aws():
        import infra
        from chalicelib import config
        from chalicelib.adapters import aws
        from chalicelib.escalation import hours, model, search_store, service, terms
        from chalicelib.escalation.schemas import CaseSearchQuery
        from chalicelib.kernel.actor import SENIOR_SUPPORT, SUPPORT, Actor
        from chalicelib.kernel.context import Context
        from infra import local

        cfg = config.reload()
        aws.reset()
        reads = Reads()
        reads.install(aws._session())   # before any client is made: clients copy the session's event hooks
        local.create_tables(cfg)
        rng = random.Random(25)
        clocks = hours.clocks(cfg)
        start = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)
        seeded, refs, started = [], [], time.perf_counter()
        for n in range(cases):
            user = n % 2000
            text = "，".join(rng.sample(PHRASES, 2)) + f"，第{n}号"
            now = start + dt.timedelta(minutes=3 * n)
            code = "".join(model.REFERENCE_ALPHABET[(n * 7919 // 32 ** i) % 32] for i in range(4))
            case = model.open_case(case_id=f"RD-{now:%Y%m%d}-{code}",
                                   user_id=f"user-{user}", username=f"user{user}", category=rng.choice(CATEGORIES),
                                   description=text, repayment_id=f"r{n:06d}" if n % 5 == 0 else None,
                                   now=now, clocks=clocks)
            seeded.append((case, terms.for_write(case, new=True, conversation=(), room=100)))
            refs.append(case.case_id)
            if len(seeded) == 500:
                search_store.put_many(seeded)
                seeded = []
        search_store.put_many(seeded)
        seed_seconds = time.perf_counter() - started
        lead = Actor("u-lead", "lead", frozenset({SUPPORT, SENIOR_SUPPORT}))
        ctx = Context(now=start + dt.timedelta(days=30), settings=config.settings())
        kinds = {
            "reference": lambda: CaseSearchQuery(ref=rng.choice(refs).lower()),
            "user": lambda: CaseSearchQuery(user=f"USER{rng.randrange(2000)}"),
            "word (about 1 in 8)": lambda: CaseSearchQuery(q=rng.choice(["销账", "退款", "冻结", "验证码"])),
            "two words": lambda: CaseSearchQuery(q="还款 失败"),
        }
        from chalicelib.repay import memory_store
        from chalicelib.repay import store as repay_store
        os.environ["LOG_LEVEL"] = "ERROR"
        repay_store.use(memory_store.InMemoryRepayStore())   # access records of user searches: not measured here
        results = {}
        for name, make in kinds.items():
            times, calls, rcu, found = [], [], [], []
            for _ in range(searches):
                query = make()
                reads.calls, reads.rcu = 0, 0.0
                t = time.perf_counter()
                page = service.search(lead, ctx, query)
                times.append((time.perf_counter() - t) * 1000)
                calls.append(reads.calls)
                rcu.append(reads.rcu)
                found.append(len(page.items))
            results[name] = {"p50_ms": round(percentile(times, 0.5), 1), "p99_ms": round(percentile(times, 0.99), 1),
                             "reads": round(statistics.mean(calls), 1), "rcu": round(statistics.mean(rcu), 1),
                             "results": round(statistics.mean(found), 1)}
        times = []
        for _ in range(searches):
            reads.calls, reads.rcu = 0, 0.0
            t = time.perf_counter()
            service.queue(lead, "frontline", limit=20, cursor=None)
            times.append((time.perf_counter() - t) * 1000)
        results["yardstick: queue page"] = {"p50_ms": round(percentile(times, 0.5), 1),
                                            "p99_ms": round(percentile(times, 0.99), 1), "reads": reads.calls,
                                            "rcu": round(reads.rcu, 1), "results": 20}
        return {"cases": cases, "searches": searches, "seed_seconds": round(seed_seconds, 1),
                "tables": [t["TableName"] for t in infra.tables(cfg)], "results": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10000)
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--json")
    args = parser.parse_args()
    out = run(args.cases, args.searches)
    print(f"{out['cases']} 工单 seeded in {out['seed_seconds']} s; {out['searches']} searches of each kind")
    print(f"{'search':24} {'p50 ms':>8} {'p99 ms':>8} {'reads':>6} {'RCU':>6} {'results':>8}")
    for name, r in out["results"].items():
        print(f"{name:24} {r['p50_ms']:>8} {r['p99_ms']:>8} {r['reads']:>6} {r['rcu']:>6} {r['results']:>8}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
