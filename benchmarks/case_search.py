"""Finding a 工单 over many: seed N 工单 (default 10,000) in moto in-process, then run each kind of search
(reference, user name, phone last four + day, repayment id, one word, two words, a word with a filter) and
count the DynamoDB reads each makes.

    .venv/bin/python benchmarks/case_search.py [--cases 10000] [--searches 20] [--only WORD…] [--json out.json]

- Seeding writes straight into moto's backend (its ``put_item``: no HTTP round trip per item) the items exactly
  as ``store.save`` lays them out: ``items.to_item`` (the case with its GSI keys, ``phone4`` included) and one
  term item per word of ``terms.for_write``. 2,000 users with 5 工单 each, one every 3 minutes, descriptions
  drawn from a fixed list of phrases (seed 25), every fifth 工单 naming a repayment.
- Each search is ``escalation.service.search`` as the route calls it (a senior-support actor, limit 20).
- Per search, through botocore's public event hooks on the app's session: the Query / GetItem / BatchGetItem
  calls, their RCU computed from the items returned by DynamoDB's rules (eventually consistent Query:
  ⌈Σ item sizes / 4 KB⌉ × 0.5; BatchGetItem ⌈size / 4 KB⌉ × 0.5 each; a consistent GetItem ⌈size / 4 KB⌉),
  moto's own ConsumedCapacity (printed, not used: 1 per Query whatever it read, consistent units for batch
  reads), and the time inside the calls (``before-call`` → ``after-call``).
- Times: wall p50 / p99 (moto's: its Query walks the whole table, so only the yardstick of the same run
  compares), and the service's own time = wall less the time inside the DynamoDB calls.
- Yardstick, same run: the frontline queue's first page (``escalation.service.queue``, limit 20).
- ``--only filter yardstick`` runs only the kinds whose name holds one of the words (the same queries as a
  full run's); with ``--json``, what is measured so far is kept in ``<json>.partial`` after each kind.
"""
from __future__ import annotations

import argparse
import dataclasses
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
    """Per search: DynamoDB calls by operation, RCU computed from the items read, the ConsumedCapacity moto
    reports, and the seconds spent inside the calls (botocore ``before-call`` → ``after-call``: moto's work
    plus parsing), so that the service's own time is the wall time less that."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.ops: dict[str, int] = {}
        self.rcu = 0.0
        self.moto_rcu = 0.0
        self.inside = 0.0
        self._started = 0.0

    @property
    def calls(self) -> int:
        return sum(self.ops.values())

    def install(self, session) -> None:
        session.events.register("before-call.dynamodb", self._before)
        session.events.register("after-call.dynamodb", self._after)

    def _before(self, **kwargs):
        self._started = time.perf_counter()

    def _after(self, http_response=None, parsed=None, model=None, **kwargs):
        self.inside += time.perf_counter() - self._started
        name = model.name if model else ""
        if name not in ("Query", "BatchGetItem", "GetItem"):
            return
        self.ops[name] = self.ops.get(name, 0) + 1
        consumed = parsed.get("ConsumedCapacity")
        for c in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
            self.moto_rcu += float(c.get("CapacityUnits") or 0)
        if name == "Query":
            self.rcu += max(1, math.ceil(sum(item_size(i) for i in parsed.get("Items", [])) / 4096)) * 0.5
        elif name == "BatchGetItem":
            for items in (parsed.get("Responses") or {}).values():
                self.rcu += sum(max(1, math.ceil(item_size(i) / 4096)) * 0.5 for i in items)
        else:
            item = parsed.get("Item")
            self.rcu += max(1, math.ceil(item_size(item) / 4096)) if item else 1


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def phone4_of(user: int) -> str:
    """A seeded user's phone's last four digits (2,000 users over 10,000 endings: a few share one)."""
    return f"{(user * 7919 + 1234) % 10000:04d}"


def make_cases(count: int, rng: random.Random, clocks, start: dt.datetime) -> list:
    """``count`` new 工单: user n % 2000, two phrases + a serial, every 3 minutes, every fifth naming a repayment."""
    from chalicelib.escalation import model
    made = []
    for n in range(count):
        user = n % 2000
        text = "，".join(rng.sample(PHRASES, 2)) + f"，第{n}号"
        now = start + dt.timedelta(minutes=3 * n)
        code = "".join(model.REFERENCE_ALPHABET[(n * 7919 // 32 ** i) % 32] for i in range(4))
        case = model.open_case(case_id=f"RD-{now:%Y%m%d}-{code}",
                               user_id=f"user-{user}", username=f"user{user}", category=rng.choice(CATEGORIES),
                               description=text, repayment_id=f"r{n:06d}" if n % 5 == 0 else None,
                               now=now, clocks=clocks)
        made.append(dataclasses.replace(case, phone4=phone4_of(user)))
    return made


def seed_backend(cfg, cases: list) -> int:
    """Write the case items and their term items straight into moto's backend (its ``put_item``, the items
    exactly as ``store.save`` writes them: ``items.to_item`` + ``terms.for_write``), skipping the HTTP
    round trip per BatchWriteItem that made seeding slow; how many items were written."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from chalicelib.adapters import aws
    from chalicelib.escalation import terms
    from chalicelib.escalation.items import _to_dynamo, to_item
    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]]
    written = 0
    for case in cases:
        backend.put_item(cfg.cases_table, aws.attributes(_to_dynamo(to_item(case))))
        for word in terms.for_write(case, new=True, conversation=(), room=100):
            backend.put_item(cfg.cases_table, aws.attributes({"pk": f"TERM#{word}", "sk": terms.sort_key(case),
                                                              "case_id": case.case_id}))
            written += 1
        written += 1
    return written


def kinds_of(cases: list, rng: random.Random, tz_name: str) -> dict:
    from chalicelib.escalation.schemas import CaseSearchQuery
    from chalicelib.kernel import clock
    refs = [c.case_id for c in cases]
    repayments = [c.repayment_id for c in cases if c.repayment_id]

    def by_phone():
        case = rng.choice(cases)
        day = clock.parse(case.created_at).astimezone(clock.zone(tz_name)).date()
        return CaseSearchQuery(phone_last4=case.phone4, date=day)
    return {
        "reference": lambda: CaseSearchQuery(ref=rng.choice(refs).lower()),
        "user name": lambda: CaseSearchQuery(user=f"USER{rng.randrange(min(2000, len(cases)))}"),
        "phone last four + date": by_phone,
        "repayment id": lambda: CaseSearchQuery(repayment_id=rng.choice(repayments)),
        "one word (~1 in 8)": lambda: CaseSearchQuery(q=rng.choice(["销账", "退款", "冻结", "验证码"])),
        "two words": lambda: CaseSearchQuery(q="还款 失败"),
        "word + filter (1 in 4)": lambda: CaseSearchQuery(q="还款", category="fees"),
    }


def run(cases: int, searches: int, partial: Path | None = None, only: list[str] | None = None) -> dict:
    os.environ.update(AWS_DEFAULT_REGION="ap-southeast-1", AWS_REGION="ap-southeast-1", AWS_ACCESS_KEY_ID="testing",
                      AWS_SECRET_ACCESS_KEY="testing", AWS_SESSION_TOKEN="testing", LOG_LEVEL="ERROR")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from moto import mock_aws
    with mock_aws():
        import infra
        from chalicelib import config
        from chalicelib.adapters import aws
        from chalicelib.escalation import hours, service
        from chalicelib.kernel.actor import SENIOR_SUPPORT, SUPPORT, Actor
        from chalicelib.kernel.context import Context
        from infra import local

        cfg = config.reload()
        aws.reset()
        reads = Reads()
        reads.install(aws._session())   # before any client is made: clients copy the session's event hooks
        local.create_tables(cfg)
        rng = random.Random(25)
        start = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)
        started = time.perf_counter()
        made = make_cases(cases, rng, hours.clocks(cfg), start)
        items = seed_backend(cfg, made)
        seed_seconds = time.perf_counter() - started
        lead = Actor("u-lead", "lead", frozenset({SUPPORT, SENIOR_SUPPORT}))
        ctx = Context(now=start + dt.timedelta(days=30), settings=config.settings())
        from chalicelib.repay import memory_store
        from chalicelib.repay import store as repay_store
        repay_store.use(memory_store.InMemoryRepayStore())   # access records of user searches: not measured here
        results = {}
        kinds = kinds_of(made, rng, cfg.time_zone)
        searches_of = {name: [make() for _ in range(searches)] for name, make in kinds.items()}
        searches_of["yardstick: queue page"] = [None] * searches
        if only:   # some kinds only (each kind's queries are drawn all the same, so the others stay as in a full run)
            searches_of = {name: queries for name, queries in searches_of.items() if any(w in name for w in only)}
        for name, queries in searches_of.items():
            times, own, calls, rcu, moto_rcu, found, ops = [], [], [], [], [], [], {}
            for query in queries:
                reads.reset()
                t = time.perf_counter()
                if query is None:
                    page_items = service.queue(lead, "frontline", limit=20, cursor=None).items
                else:
                    page_items = service.search(lead, ctx, query).items
                wall = time.perf_counter() - t
                times.append(wall * 1000)
                own.append((wall - reads.inside) * 1000)
                calls.append(reads.calls)
                rcu.append(reads.rcu)
                moto_rcu.append(reads.moto_rcu)
                found.append(len(page_items))
                for op, n in reads.ops.items():
                    ops[op] = ops.get(op, 0) + n
            results[name] = {"p50_ms": round(percentile(times, 0.5), 1), "p99_ms": round(percentile(times, 0.99), 1),
                             "own_p50_ms": round(percentile(own, 0.5), 1),
                             "own_p99_ms": round(percentile(own, 0.99), 1),
                             "reads": round(statistics.mean(calls), 1), "reads_max": max(calls),
                             "ops": {op: round(n / len(queries), 1) for op, n in sorted(ops.items())},
                             "rcu": round(statistics.mean(rcu), 1), "rcu_max": round(max(rcu), 1),
                             "moto_rcu": round(statistics.mean(moto_rcu), 1),
                             "results": round(statistics.mean(found), 1)}
            print(f"  {name}: done at {time.strftime('%H:%M:%S')}", file=sys.stderr, flush=True)
            if partial:   # what is measured so far, in case the run has to be stopped
                partial.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
        return {"cases": cases, "items": items, "searches": searches, "seed_seconds": round(seed_seconds, 1),
                "tables": [t["TableName"] for t in infra.tables(cfg)], "results": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10000)
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--json")
    parser.add_argument("--only", nargs="*", help="run only the kinds whose name contains one of these words")
    args = parser.parse_args()
    out = run(args.cases, args.searches, Path(args.json + ".partial") if args.json else None, args.only)
    print(f"{out['cases']} 工单 ({out['items']} items) seeded in {out['seed_seconds']} s; "
          f"{out['searches']} searches of each kind")
    print(f"{'search':24} {'p50 ms':>8} {'p99 ms':>8} {'own p50':>8} {'own p99':>8} {'reads':>6} {'max':>4} "
          f"{'RCU':>6} {'max':>6} {'moto RCU':>8} {'results':>8}  calls per search")
    for name, r in out["results"].items():
        print(f"{name:24} {r['p50_ms']:>8} {r['p99_ms']:>8} {r['own_p50_ms']:>8} {r['own_p99_ms']:>8} "
              f"{r['reads']:>6} {r['reads_max']:>4} {r['rcu']:>6} {r['rcu_max']:>6} {r['moto_rcu']:>8} "
              f"{r['results']:>8}  {r['ops']}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
