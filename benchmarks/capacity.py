"""DynamoDB read/write capacity per request, by route family: a bounded load run in one process.

    .venv/bin/python benchmarks/capacity.py [--rounds 5] [--queue-depth 40] [--detail] [--json out.json]

It starts moto in-process (``mock_aws``), creates every declared resource (``infra.local``),
then drives each route family through the real app (``chalice.test.Client``, real Cognito
tokens) ``--rounds`` times, with a fresh wallet user per round: quote, create (and the
step-up create + verify), get, history list, the settlement worker, search (found / zero
results), article, feedback, kb-gaps, open case, get case, escalate, reply, queue page, the
sweep (idle, and per lapsed case), the outbox drain, the in-app inbox (page, mark read), the bills
sweep (an idle shard; per reminder sent). Every DynamoDB call the app makes is
metered through botocore's public event hooks on the app's own boto3 session; the table
prints the mean per request.

How each number is obtained (printed again under the table):

- Every call is sent with ``ReturnConsumedCapacity=INDEXES`` and moto's answer is kept
  (column ``moto``). moto 5.2 answers fixed numbers, not measurements: 1.0 per PutItem,
  DeleteItem and Query, 0.5 per GetItem and UpdateItem, whatever the size; an empty list for
  TransactWriteItems; a GSI Query's constant under ``LocalSecondaryIndexes``; nothing for
  index writes (the run prints every shape moto answered). So they are not used for the model.
- The ``RCU`` / ``WCU`` columns are computed from the item sizes by DynamoDB's documented
  rules, reading each written item just before and just after the call with a separate,
  unmetered client:
  item size = Σ attribute name bytes + value bytes (string: UTF-8 bytes; number: 1 byte per
  2 significant digits + 1; bool/null: 1; list/map: 3 + Σ (element + 1));
  GetItem ⌈size/4 KB⌉ (min 1), halved unless ``ConsistentRead``; Query ⌈Σ sizes of the items
  read (before any filter) / 4 KB⌉ (min 1), halved unless ``ConsistentRead`` (GSIs always);
  PutItem / UpdateItem ⌈max(before, after)/1 KB⌉, DeleteItem ⌈before/1 KB⌉, a failed
  condition ⌈existing/1 KB⌉ (min 1); TransactWriteItems 2 × that per element (ConditionCheck:
  2 × ⌈checked item/1 KB⌉ — an assumption, AWS prices every transaction element as a
  transactional write); GSI (all project ALL): entering ⌈new/1 KB⌉, leaving ⌈old/1 KB⌉, key
  moved ⌈old⌉ + ⌈new⌉, same key and changed max(⌈old⌉, ⌈new⌉), unchanged 0 — not doubled
  inside a transaction (assumption). The 100-byte per-item index overhead counts for storage,
  not throughput, and is left out.

What it leaves out: Cognito, SQS, SNS, SES calls (not DynamoDB); the Lambda's own work.
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import io
import json
import math
import os
import re
import sys
import uuid
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KB = 1024

# -------------------------------------------------------------------------- sizes and units
def _number_size(text: str) -> int:
    digits = re.sub(r"[^0-9]", "", text.split("e")[0].split("E")[0]).strip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def value_size(value: dict) -> int:
    """Size in bytes of one low-level attribute value (``{"S": ...}``), name excluded."""
    (kind, v), = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        return _number_size(v)
    if kind == "B":
        return len(v)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in v)
    if kind == "NS":
        return sum(_number_size(n) for n in v)
    if kind == "BS":
        return sum(len(b) for b in v)
    if kind == "L":
        return 3 + sum(value_size(e) + 1 for e in v)
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(e) + 1 for k, e in v.items())
    raise ValueError(kind)


def item_size(item: dict | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def read_units(size: int, *, consistent: bool) -> float:
    units = max(1, math.ceil(size / (4 * KB)))
    return units if consistent else units / 2


def write_units(size: int) -> int:
    return max(1, math.ceil(size / KB))


def index_write_units(before: dict | None, after: dict | None, hash_key: str, range_key: str) -> int:
    """Write units one GSI (projection ALL) takes for a change of its base item from ``before`` to ``after``."""
    def entry(item):
        if item and hash_key in item and range_key in item:
            return (json.dumps(item[hash_key], sort_keys=True), json.dumps(item[range_key], sort_keys=True)), item
        return None
    old, new = entry(before), entry(after)
    if old is None and new is None:
        return 0
    if old is None:
        return write_units(item_size(new[1]))
    if new is None:
        return write_units(item_size(old[1]))
    if old[0] != new[0]:
        return write_units(item_size(old[1])) + write_units(item_size(new[1]))
    if old[1] == new[1]:
        return 0
    return max(write_units(item_size(old[1])), write_units(item_size(new[1])))


# -------------------------------------------------------------------------- the meter
class Meter:
    """Meters every DynamoDB call made through one boto3 session, attributing it to the current route."""

    def __init__(self, tables: list[dict]):
        import boto3
        self.schema = {t["TableName"]: [(g["IndexName"], g["KeySchema"][0]["AttributeName"],
                                         g["KeySchema"][1]["AttributeName"])
                                        for g in t.get("GlobalSecondaryIndexes", [])]
                       for t in tables}
        self.keys = {t["TableName"]: [k["AttributeName"] for k in t["KeySchema"]] for t in tables}
        self.side = boto3.session.Session().client("dynamodb")  # unmetered: before/after images
        self.route: str | None = None
        self.calls: list[dict] = []
        self.moto_shapes: dict[str, set] = defaultdict(set)

    def install(self, session) -> None:
        # after boto3's own high-level transformations (so the parameters are low-level attribute values)
        session.events.register_last("before-parameter-build.dynamodb", self._before)
        # before boto3 turns the answer back into Python values
        session.events.register_first("after-call.dynamodb", self._after)

    # -- images
    def _get(self, table: str, key: dict) -> dict | None:
        return self.side.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

    def _key_of(self, table: str, item: dict) -> dict:
        return {k: item[k] for k in self.keys[table]}

    def _writes(self, op: str, params: dict) -> list[tuple[str, str, dict]]:
        """(kind, table, key) of each item a write call touches."""
        if op == "TransactWriteItems":
            out = []
            for element in params["TransactItems"]:
                (kind, body), = element.items()
                key = body.get("Key") or self._key_of(body["TableName"], body["Item"])
                out.append((kind, body["TableName"], key))
            return out
        table = params["TableName"]
        key = params.get("Key") or self._key_of(table, params["Item"])
        return [({"PutItem": "Put", "UpdateItem": "Update", "DeleteItem": "Delete"}[op], table, key)]

    def _before(self, params, model, context, **_):
        if self.route is None or model.name not in OPS:
            return
        params["ReturnConsumedCapacity"] = "INDEXES"
        context["capacity"] = {"params": json.loads(json.dumps(params, default=_jsonable)), "route": self.route}
        if model.name in WRITES:
            context["capacity"]["before"] = [self._get(t, k) for _, t, k in self._writes(model.name, params)]

    def _after(self, http_response, parsed, model, context, **_):
        info = context.get("capacity")
        if not info:
            return
        op, params = model.name, info["params"]
        failed = "Error" in parsed and bool(parsed["Error"].get("Code"))
        record = {"route": info["route"], "op": op, "table": params.get("TableName", "").rsplit("-", 1)[-1],
                  "index": params.get("IndexName"),
                  "rcu": 0.0, "wcu": 0.0, "gsi_wcu": 0.0, "gsi": defaultdict(float), "failed": failed,
                  "moto": _moto_units(parsed.get("ConsumedCapacity")), "partitions": []}
        shape = json.dumps(_shape(parsed.get("ConsumedCapacity")))
        self.moto_shapes[op].add(re.sub(r'"LocalSecondaryIndexes": \{"[\w-]+"', '"LocalSecondaryIndexes": {"<gsi>"',
                                        shape))
        units_at = record["units"] = defaultdict(lambda: [0.0, 0.0])  # partition label → [RCU, WCU]
        if op == "GetItem":
            consistent = bool(params.get("ConsistentRead"))
            record["rcu"] = read_units(item_size(parsed.get("Item") and self._get(params["TableName"], params["Key"])),
                                       consistent=consistent)
            record["partitions"].append(f"{params['TableName'].rsplit('-', 1)[-1]}:{_pk(params['Key'])}")
            units_at[record["partitions"][-1]][0] += record["rcu"]
        elif op == "Query":
            items = self._query_read(params, parsed)
            record["rcu"] = read_units(sum(item_size(i) for i in items), consistent=bool(params.get("ConsistentRead")))
            record["partitions"].append(_query_pk(params))
            units_at[record["partitions"][-1]][0] += record["rcu"]
        elif op in WRITES:
            transactional = op == "TransactWriteItems"
            # the before-images were read item by item from the same _writes list: one each
            for (kind, table, key), before in zip(self._writes(op, params), info["before"], strict=True):
                after = before if failed else (None if kind == "Delete" else self._get(table, key))
                if kind == "ConditionCheck":
                    units = write_units(item_size(before))
                elif kind == "Delete" or failed:
                    units = write_units(item_size(before))
                else:
                    units = write_units(max(item_size(before), item_size(after)))
                record["wcu"] += units * (2 if transactional else 1)
                record["partitions"].append(f"{table.rsplit('-', 1)[-1]}:{_pk(key)}")
                units_at[record["partitions"][-1]][1] += units * (2 if transactional else 1)
                if not failed and kind != "ConditionCheck":
                    for index, hash_key, range_key in self.schema.get(table, []):
                        gsi = index_write_units(before, after, hash_key, range_key)
                        if gsi:
                            record["gsi_wcu"] += gsi
                            record["gsi"][index] += gsi
                            labels = [f"{index}:{_shorten(image[hash_key]['S'])}"
                                      for image in (before, after) if image and hash_key in image]
                            record["partitions"].extend(labels)
                            for label in set(labels):  # a key move charges both partitions their share
                                units_at[label][1] += gsi / len(set(labels))
        self.calls.append(record)

    def _query_read(self, params: dict, parsed: dict) -> list[dict]:
        """The items a Query read (and paid for): those returned, or, when a filter or projection
        hid some, the same page read again without them by the unmetered client."""
        hidden = "FilterExpression" in params or "ProjectionExpression" in params or params.get("Select") == "COUNT"
        if not hidden:
            return parsed.get("Items", [])
        again = {k: v for k, v in params.items() if k in ("TableName", "IndexName", "KeyConditionExpression", "Limit",
                                                        "ExclusiveStartKey", "ScanIndexForward", "ConsistentRead")}
        used = params["KeyConditionExpression"]
        names = {k: v for k, v in (params.get("ExpressionAttributeNames") or {}).items() if k in used}
        values = {k: v for k, v in (params.get("ExpressionAttributeValues") or {}).items() if k in used}
        if names:
            again["ExpressionAttributeNames"] = names
        if values:
            again["ExpressionAttributeValues"] = values
        scanned = parsed.get("ScannedCount", len(parsed.get("Items", [])))
        return self.side.query(**again).get("Items", [])[:scanned]


OPS = {"GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "Scan",
       "BatchGetItem", "BatchWriteItem", "TransactGetItems"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"}


def _jsonable(value):
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(type(value))


def _moto_units(consumed) -> float:
    if not consumed:
        return 0.0
    entries = consumed if isinstance(consumed, list) else [consumed]
    return float(sum(e.get("CapacityUnits", 0) for e in entries))


def _shape(consumed):
    if consumed is None:
        return None
    if isinstance(consumed, list):
        return [_shape(c) for c in consumed]
    return {k: (_shape(v) if isinstance(v, dict) else v) for k, v in consumed.items() if k != "TableName"}


def _shorten(pk: str) -> str:
    """A partition key with its ids replaced, so calls of a kind group together (QUEUE#frontline#2 stays)."""
    pk = re.sub(r"RD-\d{8}-[0-9A-Z]{4}", "<ref>", pk)
    pk = re.sub(r"rp_[0-9a-f]{20}", "<id>", pk)
    pk = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uid>", pk)
    pk = re.sub(r"\d{4}-\d{2}-\d{2}", "<day>", pk)
    pk = re.sub(r"MSG#.*", "MSG#<message>", pk)
    pk = re.sub(r"(ARTICLE#)[\w-]+", r"\1<slug>", pk)
    return pk


def _pk(key: dict) -> str:
    return _shorten(next(iter(v for k, v in key.items() if k == "pk"), {"S": "?"}).get("S", "?"))


def _query_pk(params: dict) -> str:
    values = params.get("ExpressionAttributeValues") or {}
    condition = params["KeyConditionExpression"]
    first = re.search(r"(:[\w]+)", condition)
    value = values.get(first.group(1), {}).get("S", "?") if first else "?"
    return f"{params.get('IndexName') or params['TableName'].rsplit('-', 1)[-1]}:{_shorten(value)}"


# -------------------------------------------------------------------------- the run
CARD = {"kind": "credit_card", "issuer": "招商银行", "card_number": "6225880137654324"}
FOUND = ["还款失败怎么办", "客服电话多少", "花呗还款多久到账", "信用卡还款手续费"]
BILLERS = 20   # users with a bill whose reminder the measured bills sweep sends
NOT_FOUND = ["天气预报", "股票开户", "火星移民签证", "qzxv"]  # no article answers these (checked by the run)
ROUTES = ["repay: quote", "repay: create", "repay: get", "repay: settle worker (per message)", "repay: history list",
          "repay: create, step-up (202)", "repay: verify", "search: found", "search: zero results (counter)",
          "kb: article", "kb: feedback", "kb: kb-gaps (7 days)", "case: open", "case: get", "case: list mine",
          "case: escalate (user)", "case: reply (support)", "case: queue page (limit 20)", "sweep: idle",
          "sweep: per lapsed case", "outbox drain: idle", "notices: inbox page", "notices: mark read",
          "bills sweep: per reminder", "bills sweep: idle shard"]


def run(rounds: int, queue_depth: int) -> tuple[Meter, dict]:
    os.environ.update(AWS_DEFAULT_REGION="ap-southeast-1", AWS_REGION="ap-southeast-1", AWS_ACCESS_KEY_ID="testing",
                      AWS_SECRET_ACCESS_KEY="testing", AWS_SESSION_TOKEN="testing")
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "USER_POOL_ID", "USER_POOL_CLIENT_ID"):
        os.environ.pop(name, None)
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    from moto import mock_aws

    with mock_aws():
        from chalice.test import Client

        import infra
        from chalicelib import config
        from chalicelib.adapters import aws
        from chalicelib.kernel import clock
        from infra import local

        cfg = config.reload()
        aws.reset()
        meter = Meter(infra.tables(cfg))
        meter.install(aws._session())
        pool = local.create_all(cfg)
        os.environ.update(USER_POOL_ID=pool.pool_id, USER_POOL_CLIENT_ID=pool.client_id)
        config.reload()
        # Wednesday 2026-11-25 10:00 in Shanghai: business hours, before the settlement cut-off
        clock.freeze(dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC))

        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.sns import sns_backends

        from app import app
        from chalicelib.adapters import outbox
        from chalicelib.escalation import service as escalation
        from chalicelib.kernel.context import Context
        from chalicelib.routes.repayments import settle_repayments
        from chalicelib.search import service as kb

        def token(name, role=None):
            return local.ensure_user(pool, name, role=role, phone="+8613800138000")

        agent = token("agent", "support")
        info = {"rounds": rounds, "queue_depth": queue_depth, "shards": {
            "queue": cfg.queue_shards, "feedback": cfg.feedback_shards, "zero_result": cfg.zero_result_shards,
            "outbox": cfg.outbox_shards}}

        with Client(app, stage_name="dev", project_dir=str(ROOT)) as client:
            def call(route, method, path, tok=None, body=None, headers=None, expect=(200,)):
                sent = {"Content-Type": "application/json", **(headers or {})}
                if tok:
                    sent["Authorization"] = f"Bearer {tok}"
                meter.route = route
                try:
                    response = client.http.request(method, path, headers=sent,
                                                   body=json.dumps(body, ensure_ascii=False).encode() if body else b"")
                    if route.startswith("search"):
                        kb.flush_analytics()  # the zero-result counter is written off the request thread
                finally:
                    meter.route = None
                assert response.status_code in expect, (route, response.status_code, response.body[:300])
                return json.loads(response.body) if response.body[:1] in (b"{", b"[") else None

            def measured(route, fn):
                meter.route = route
                try:
                    return fn()
                finally:
                    meter.route = None

            def settlement_records():
                sqs = aws.client("sqs")
                url = sqs.get_queue_url(QueueName=cfg.settlement_queue)["QueueUrl"]
                records = []
                while True:
                    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                              WaitTimeSeconds=0).get("Messages", [])
                    if not got:
                        return records
                    for m in got:
                        records.append({"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"],
                                        "body": m["Body"], "attributes": {}, "messageAttributes": {},
                                        "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs",
                                        "awsRegion": "ap-southeast-1",
                                        "eventSourceARN": "arn:aws:sqs:ap-southeast-1:123456789012:settlement"})
                        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

            # a queue of open frontline cases (the page reads real items), opened by other users
            for n in range(queue_depth):
                filler = token(f"filler{n}")
                call("(setup)", "POST", "/support/cases", filler,
                     {"category": "repayment_delay", "description": f"还款没到账 {n}"}, expect=(201,))
                clock.advance(dt.timedelta(minutes=1))
            settlement_records()

            for r in range(rounds):
                user = token(f"payer{r}")
                body = {"amount": "100.00", "payee": CARD}
                call("repay: quote", "POST", "/repayments/quote", user, body)
                created = call("repay: create", "POST", "/repayments", user, body,
                               headers={"Idempotency-Key": uuid.uuid4().hex}, expect=(201,))
                call("repay: get", "GET", f"/repayments/{created['id']}", user)
                records = settlement_records()
                measured("repay: settle worker (per message)",
                         lambda records=records: settle_repayments({"Records": records}, None))
                call("repay: history list", "GET", "/repayments?limit=20", user)
                big = call("repay: create, step-up (202)", "POST", "/repayments", user,
                           {"amount": "6000.00", "payee": CARD}, headers={"Idempotency-Key": uuid.uuid4().hex},
                           expect=(202,))
                texts = list(sns_backends[DEFAULT_ACCOUNT_ID]["ap-southeast-1"].sms_messages.values())
                code = texts[-1][1].split("验证码 ")[1][:6]
                call("repay: verify", "POST", f"/repayments/{big['id']}/verify", user, {"code": code},
                     expect=(200, 201, 202))
                settlement_records()

                call("search: found", "GET", "/kb/search?q=" + _q(FOUND[r % len(FOUND)]))
                zero = call("search: zero results (counter)", "GET",
                            "/kb/search?q=" + _q(NOT_FOUND[r % len(NOT_FOUND)]))
                assert zero["total"] == 0, zero
                slug = "repayment-failed"
                call("kb: article", "GET", f"/kb/articles/{slug}")
                call("kb: feedback", "POST", f"/kb/articles/{slug}/feedback", None, {"helpful": r % 2 == 0},
                     expect=(201,))
                call("kb: kb-gaps (7 days)", "GET", "/support/kb-gaps", agent)

                case = call("case: open", "POST", "/support/cases", user,
                            {"category": "repayment_delay", "description": "还款三天了还没到账，请帮忙查询"},
                            expect=(201,))
                call("case: get", "GET", f"/support/cases/{case['case_id']}", user)
                call("case: list mine", "GET", "/support/cases", user)
                # the frontline team answers first: an owner escalates only a step that has answered (#11)
                call("case: reply (support)", "POST", f"/support/cases/{case['case_id']}/reply", agent,
                     {"message": "正在核查，请稍候", "await_user": False})
                call("case: escalate (user)", "POST", f"/support/cases/{case['case_id']}/escalate", user,
                     {"reason": "问题没有解决"}, headers={"Idempotency-Key": uuid.uuid4().hex})
                call("case: queue page (limit 20)", "GET", "/support/queues/frontline?limit=20", agent)
                measured("sweep: idle", lambda: escalation.sweep(Context.current()))
                measured("outbox drain: idle", outbox.drain)
                clock.advance(dt.timedelta(minutes=3))

            # the in-app inbox of the last payer (their settled/failed notices)
            page = call("notices: inbox page", "GET", "/notices?limit=20", user)
            for notice in page["items"]:        # each read for the first time (a repeat is one GetItem)
                call("notices: mark read", "POST", f"/notices/{notice['id']}/read", user)
            info["notices_read"] = len(page["items"])

            # bills due on the 30th, one per fresh user: the 3-day reminder wakes on the 27th at 08:00
            from chalicelib.bills import service as bills
            from chalicelib.bills import sweep as bills_sweep
            billers = max(rounds, BILLERS)
            for r in range(billers):
                call("(setup)", "POST", "/bills", token(f"biller{r}"), {"payee": CARD, "due_day": 30}, expect=(201,))
            measured("bills sweep: idle shard", lambda: bills_sweep.sweep_shard(bills.current(), 0))
            clock.advance(dt.timedelta(days=2))
            done = measured("bills sweep: per reminder", lambda: bills.sweep(bills.current()))
            assert done.get("reminded") == billers, done
            info["bills_reminded"] = billers
            info["shards"]["wake"] = cfg.wake_shards

            # every frontline case lapses: one sweep escalates them all (reported per case moved)
            moved = measured("sweep: per lapsed case", lambda: escalation.sweep(Context.current()))
            assert moved["escalated"] >= queue_depth, moved
            info["sweep_moved"] = moved["escalated"]
        return meter, info


def _q(text: str) -> str:
    from urllib.parse import quote
    return quote(text)


# -------------------------------------------------------------------------- report
def summarise(meter: Meter, info: dict) -> list[dict]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for call in meter.calls:
        grouped[call["route"]].append(call)
    rows = []
    for route in ROUTES:
        calls = grouped.get(route, [])
        if route == "bills sweep: per reminder":   # the index reads are the idle row's (≈ 1 Query per 100 due)
            calls = [c for c in calls if c["index"] != "by_wake"]
        requests = {"sweep: per lapsed case": info["sweep_moved"], "bills sweep: per reminder": info["bills_reminded"],
                    "bills sweep: idle shard": 1, "notices: inbox page": 1,
                    "notices: mark read": info["notices_read"]}.get(route, info["rounds"])

        def mean(key, calls=calls, requests=requests):   # this route's
            return sum(c[key] for c in calls) / requests
        ops = defaultdict(int)
        for c in calls:
            ops[c["op"] + (f"[{c['index']}]" if c["index"] else "")] += 1
        per_index: dict[str, float] = defaultdict(float)
        for c in calls:
            for index, units in c["gsi"].items():
                per_index[index] += units / requests
        reads: dict[str, float] = defaultdict(float)
        for c in calls:
            if c["index"]:
                reads[c["index"]] += c["rcu"] / requests
        sends = sum(1 for c in calls if c["op"] == "UpdateItem" and c["table"] == "outbox") / 2 / requests
        by_partition: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for c in calls:
            for label, (r_units, w_units) in c["units"].items():
                by_partition[label][0] += r_units / requests
                by_partition[label][1] += w_units / requests
        rows.append({"route": route, "requests": requests, "calls": len(calls) / requests, "rcu": mean("rcu"),
                     "outbox_sends": sends, "by_partition": dict(by_partition),
                     "wcu": mean("wcu"), "gsi_wcu": mean("gsi_wcu"), "moto": mean("moto"),
                     "gsi_wcu_by_index": dict(per_index), "rcu_by_index": dict(reads),
                     "ops": {k: v / requests for k, v in sorted(ops.items())},
                     "partitions": sorted({p for c in calls for p in c["partitions"]})})
    return rows


def print_table(rows: list[dict], meter: Meter, info: dict, detail: bool) -> None:
    print(f"DynamoDB capacity per request (mean of {info['rounds']} rounds; queue depth {info['queue_depth']} "
          f"open frontline cases; the sweep moved {info['sweep_moved']}; shards {info['shards']})")
    print(f"{'route':36} {'calls':>5} {'RCU':>6} {'WCU':>6} {'GSI WCU':>8} {'moto':>6}")
    for row in rows:
        print(f"{row['route']:36} {row['calls']:5.1f} {row['rcu']:6.1f} {row['wcu']:6.1f} {row['gsi_wcu']:8.1f} "
              f"{row['moto']:6.1f}")
        if detail:
            print("      ops: " + ", ".join(f"{k}×{v:g}" for k, v in row["ops"].items()))
            if row["gsi_wcu_by_index"] or row["rcu_by_index"]:
                print("      GSI WCU: " + ", ".join(f"{k} {v:g}" for k, v in row["gsi_wcu_by_index"].items())
                      + "; GSI RCU: " + ", ".join(f"{k} {v:g}" for k, v in row["rcu_by_index"].items()))
            print("      partitions: " + ", ".join(row["partitions"]))
    print()
    print("RCU / WCU / GSI WCU: computed from item sizes (read before and after each write with an unmetered client)")
    print("  by DynamoDB's documented rules — see this file's docstring; RCU of GSI queries are eventually consistent.")
    print("moto: the sum of what moto answered to ReturnConsumedCapacity=INDEXES — fixed numbers, not measurements:")
    for op, shapes in sorted(meter.moto_shapes.items()):
        print(f"  {op:20} {' | '.join(sorted(shapes))}")


# -------------------------------------------------------------------------- the 10-million-user model (docs/scale.md)
USERS = 10_000_000
# US East (N. Virginia) list prices as published in November 2024 — DynamoDB on-demand after its 1 Nov 2024 cut;
# Lambda x86; API Gateway REST API, first 333 M requests a month. ap-southeast-1 lists somewhat higher.
PRICES = {"apigw_per_million": 3.50, "lambda_per_million": 0.20, "lambda_gb_second": 0.0000166667,
          "write_unit_per_million": 0.625, "read_unit_per_million": 0.125}
LAMBDA_GB = 1.0                   # lambda_memory_size 1024 in .chalice/config.json (prod)
BASE_MS, DDB_CALL_MS, SEND_MS, SEARCH_MS = 15, 8, 25, 5   # handler + auth, one DynamoDB call, one SNS/SQS/SES send
WORKERS = {"repay: settle worker (per message)", "sweep: idle", "sweep: per lapsed case", "outbox drain: idle",
           "bills sweep: per reminder", "bills sweep: idle shard"}
PARTITION_RCU, PARTITION_WCU = 3000, 1000

# Requests per repayment made on the peak day, and fixed rates (per second) that do not follow repayments.
_PEAK = {
    "payers": 0.20, "peak_hour": 0.15, "burst": 2.0,
    "per_repayment": {"repay: quote": 1.5, "repay: create": 0.95, "repay: create, step-up (202)": 0.05,
                      "repay: verify": 0.05, "repay: get": 3, "repay: settle worker (per message)": 1.1,
                      "repay: history list": 1, "search: found": 0.4, "search: zero results (counter)": 0.1,
                      "kb: article": 0.3, "kb: feedback": 0.03, "case: open": 0.005, "case: get": 0.02,
                      "case: list mine": 0.01, "case: escalate (user)": 0.0015, "case: reply (support)": 0.01,
                      "sweep: per lapsed case": 0.001},
    "fixed": {"case: queue page (limit 20)": 2000 / 15, "kb: kb-gaps (7 days)": 0.5, "sweep: idle": 1 / 60,
              "outbox drain: idle": 1 / 60}}
SCENARIOS = {
    "due-date peak": _PEAK,
    # settlement delayed on the peak hour: users watch, search, vote and open cases ten times as often
    "due-date incident": {**_PEAK, "per_repayment": {
        **_PEAK["per_repayment"], "repay: quote": 2, "repay: get": 6, "repay: settle worker (per message)": 1.5,
        "repay: history list": 2, "search: found": 2.4, "search: zero results (counter)": 0.6, "kb: article": 1.5,
        "kb: feedback": 0.15, **{route: 10 * _PEAK["per_repayment"][route] for route in (
            "case: open", "case: get", "case: list mine", "case: escalate (user)", "case: reply (support)",
            "sweep: per lapsed case")}},
        "fixed": {**_PEAK["fixed"], "case: queue page (limit 20)": 5000 / 10, "kb: kb-gaps (7 days)": 1}},
}


def _family(label: str) -> str | None:
    """A shared partition key's family (its shard suffix dropped), or None for per-user/per-item keys."""
    if any(tag in label for tag in ("<uid>", "<ref>", "<message>", "<id>", "<slug>", "ip:", "?")):
        return None
    return re.sub(r"#\d+$", "", label)


def _shards_of(family: str, shards: dict) -> int:
    return {"queue": shards["queue"], "kb:FEEDBACK": shards["feedback"], "kb:ZERO": shards["zero_result"],
            "pending": shards["outbox"], "due": 4}.get(next((k for k in ("queue", "kb:FEEDBACK", "kb:ZERO", "pending",
                                                                    "due") if family.startswith(k)), ""), 1)


def _duration_ms(row: dict) -> float:
    return BASE_MS + DDB_CALL_MS * row["calls"] + SEND_MS * row["outbox_sends"] + \
        (SEARCH_MS if row["route"].startswith("search") else 0)


def _cost_per_request(row: dict) -> float:
    cost = PRICES["lambda_per_million"] / 1e6 + _duration_ms(row) / 1000 * LAMBDA_GB * PRICES["lambda_gb_second"]
    if row["route"] not in WORKERS:
        cost += PRICES["apigw_per_million"] / 1e6
    return cost + (row["wcu"] + row["gsi_wcu"]) * PRICES["write_unit_per_million"] / 1e6 \
        + row["rcu"] * PRICES["read_unit_per_million"] / 1e6


def model(rows: list[dict], info: dict) -> dict:
    by_route = {r["route"]: r for r in rows}
    out = {}
    for name, sc in SCENARIOS.items():
        repayments = USERS * sc["payers"] * sc["peak_hour"] / 3600 * sc["burst"]
        rates = {route: repayments * k for route, k in sc["per_repayment"].items()}
        rates.update(sc["fixed"])
        families: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for route, rate in rates.items():
            for label, (r_units, w_units) in by_route[route]["by_partition"].items():
                family = _family(label)
                if family:
                    families[family][0] += rate * r_units
                    families[family][1] += rate * w_units
        out[name] = {
            "repayments_per_s": repayments, "rates": rates,
            "rcu": sum(rate * by_route[r]["rcu"] for r, rate in rates.items()),
            "wcu": sum(rate * (by_route[r]["wcu"] + by_route[r]["gsi_wcu"]) for r, rate in rates.items()),
            "concurrency": sum(rate * _duration_ms(by_route[r]) / 1000 for r, rate in rates.items()),
            "requests_per_s": sum(rates.values()),
            "cost_per_million": sum(rate * _cost_per_request(by_route[r]) for r, rate in rates.items())
            / sum(rates.values()) * 1e6,
            "hot": {f: (rcu, wcu, _shards_of(f, info["shards"])) for f, (rcu, wcu) in families.items()},
        }
        total = sum(rates.values())
        out[name]["cost_parts"] = {  # $ per million requests of the mix
            "API Gateway": sum(r for route, r in rates.items() if route not in WORKERS) / total
            * PRICES["apigw_per_million"],
            "Lambda requests": PRICES["lambda_per_million"],
            "Lambda GB-s": sum(r * _duration_ms(by_route[route]) for route, r in rates.items()) / total / 1000
            * LAMBDA_GB * PRICES["lambda_gb_second"] * 1e6,
            "DynamoDB writes": out[name]["wcu"] / total * PRICES["write_unit_per_million"],
            "DynamoDB reads": out[name]["rcu"] / total * PRICES["read_unit_per_million"]}
    return out


def print_model(rows: list[dict], info: dict) -> None:
    by_route = {r["route"]: r for r in rows}
    result = model(rows, info)
    names = list(SCENARIOS)
    print()
    print(f"Model: {USERS:,} wallet users — " + "; ".join(
        f"{n}: {SCENARIOS[n]['payers']:.0%} repay that day, {SCENARIOS[n]['peak_hour']:.0%} of them in the peak hour, "
        f"×{SCENARIOS[n]['burst']:g} burst = {result[n]['repayments_per_s']:.0f} repayments/s" for n in names[:1]))
    print(f"{'route':36} " + " ".join(f"{n[:17]:>17}" for n in names) + f" {'ms':>5} {'$/M req':>8}")
    for route in ROUTES:
        row = by_route[route]
        print(f"{route:36} " + " ".join(f"{result[n]['rates'].get(route, 0):15.1f}/s" for n in names)
              + f" {_duration_ms(row):5.0f} {_cost_per_request(row) * 1e6:8.2f}")
    for n in names:
        r = result[n]
        print(f"{n}: {r['requests_per_s']:.0f} requests/s, {r['rcu']:.0f} RCU/s, {r['wcu']:.0f} WCU/s (GSIs included), "
              f"Lambda concurrency ≈ {r['concurrency']:.0f}, ${r['cost_per_million']:.2f} per million requests (mix: "
              + ", ".join(f"{k} {v:.2f}" for k, v in r["cost_parts"].items()) + ")")
    print()
    print(f"Shared partition keys at the peak (per partition = total / shards; limits {PARTITION_RCU:,} RCU, "
          f"{PARTITION_WCU:,} WCU per partition)")
    print("(all shards: the key's whole load, as % of one partition's limit — with 1 shard that is the partition;"
          " /n: per shard)")
    print(f"{'key':24} " + " ".join(f"{n:>44}" for n in names))
    families = sorted({f for n in names for f in result[n]["hot"]})
    for f in families:
        cells = []
        for n in names:
            rcu, wcu, count = result[n]["hot"].get(f, (0.0, 0.0, _shards_of(f, info["shards"])))
            whole = max(rcu / PARTITION_RCU, wcu / PARTITION_WCU)
            cells.append(f"{rcu:6.0f} RCU {wcu:5.0f} WCU  all shards {whole:4.0%}  /{count} {whole / count:4.0%}")
        print(f"{f:24} " + " ".join(f"{c:>44}" for c in cells))


# The bills sweep on a due-date morning (docs/scale.md, "Bills"): every reminder of the peak day wakes at 08:00.
BILLS_PER_USER = 1.5              # saved bills (cards, loans, utilities) per wallet user
DUE_SHARE = 0.20                  # share of bills due on the peak day (as repayments: card due dates cluster)
WAKE_SHARDS_PROD = 64             # WAKE_SHARDS in .chalice/config.json (prod): one worker per shard a minute
BUDGET_S, MINUTE_S = 50, 60       # BILLS_SWEEP_BUDGET_SECONDS: a worker works 50 s of each minute
OLD_SWEEP_PER_MINUTE = 200        # before the fan-out: one Lambda a minute, at most 200 items


def bills_model(rows: list[dict], info: dict, wake_shards: int) -> dict:
    by_route = {r["route"]: r for r in rows}
    per = by_route["bills sweep: per reminder"]
    idle = by_route["bills sweep: idle shard"]
    reminders = USERS * BILLS_PER_USER * DUE_SHARE
    ms = _duration_ms(per)
    per_worker = 1000 / ms * BUDGET_S / MINUTE_S          # reminders per second one shard's worker sustains
    rate = wake_shards * per_worker
    outbox_shards = info["shards"]["outbox"]
    pending_wcu = sum(u for label, (_, u) in per["by_partition"].items() if label.startswith("pending")) * rate
    return {"reminders": reminders, "ms_per_reminder": ms, "per_worker_per_s": per_worker, "shards": wake_shards,
            "per_s": rate, "minutes": reminders / rate / 60, "old_days": reminders / OLD_SWEEP_PER_MINUTE / 60 / 24,
            "rcu_per_s": rate * per["rcu"], "wcu_per_s": rate * (per["wcu"] + per["gsi_wcu"]),
            "pending_wcu_per_shard": pending_wcu / outbox_shards, "outbox_shards": outbox_shards,
            "sms_per_s": rate * per["outbox_sends"], "concurrency": wake_shards,
            "idle_rcu_per_s": wake_shards * idle["rcu"] / MINUTE_S, "idle_calls": idle["calls"],
            "cost_per_million": _cost_per_request(per) * 1e6,
            "shards_for_an_hour": math.ceil(reminders / 3600 / per_worker)}


def print_bills_model(rows: list[dict], info: dict, wake_shards: int) -> None:
    b = bills_model(rows, info, wake_shards)
    print()
    print(f"Bills sweep on a due-date morning: {USERS:,} users × {BILLS_PER_USER:g} saved bills × {DUE_SHARE:.0%} due "
          f"= {b['reminders']:,.0f} reminders at 08:00")
    print(f"  per reminder: {b['ms_per_reminder']:.0f} ms of a worker (DynamoDB calls, the SMS sent inline) → "
          f"{b['per_worker_per_s']:.1f} reminders/s per shard's worker ({BUDGET_S} s of each minute)")
    print(f"  WAKE_SHARDS={b['shards']}: {b['per_s']:,.0f} reminders/s, all sent in {b['minutes']:.0f} minutes "
          f"(one Lambda per shard: concurrency {b['concurrency']}); "
          f"{b['shards_for_an_hour']} shards would take an hour; "
          f"the old single sweep (200 a minute): {b['old_days']:.1f} days")
    print(f"  meanwhile: {b['rcu_per_s']:,.0f} RCU/s, {b['wcu_per_s']:,.0f} WCU/s (GSIs included), outbox `pending` "
          f"{b['pending_wcu_per_shard']:,.0f} WCU/s per shard ({b['outbox_shards']} shards; limit {PARTITION_WCU:,}), "
          f"{b['sms_per_s']:,.0f} SMS/s to SNS; ${b['cost_per_million']:.2f} per million reminders (Lambda + DynamoDB)")
    print(f"  idle: {b['shards']} workers a minute × {b['idle_calls']:.0f} Queries = {b['idle_rcu_per_s']:.1f} RCU/s")


# The aggregation job (docs/scale.md, "Events and reports"): events read per run and per hour, before and after
# the 5-minute slots. Event rates follow SCENARIOS (searches = found + zero results, views = article reads, votes =
# feedback, cases as opened); item sizes are the real event items' (``events.item``), by DynamoDB's size rule.
CLICKS_PER_SEARCH = 0.4           # a result clicked per search (docs/scale.md: ~35/s at the peak, ~200/s incident)
CASE_EVENTS_PER_CASE = 6          # created, replies, escalations, resolved, confirmed/closed, a rating
RUN_EVERY_MIN = 5                 # the schedule
OLD_LATE_MIN = 15                 # the old job re-read the previous hour during the first 15 minutes of an hour
CATCH_UP_SLOTS = 72               # the new job lists its last 6 h of slot rollups every run (one Query)
SLOT_ROLLUP_KB = 16               # assumption: a slot's rollup at most ~16 KB (300 queries + articles + case dims)
PAGE_MB, PAGE_MS = 1.0, 100       # assumption: a Query page is 1 MB and takes ~100 ms to arrive
LAMBDA_VCPU = LAMBDA_GB * 1024 / 1769   # Lambda gives a full vCPU at 1,769 MB


def event_rates(scenario: dict) -> dict[str, float]:
    repayments = USERS * scenario["payers"] * scenario["peak_hour"] / 3600 * scenario["burst"]
    k = scenario["per_repayment"]
    searches = repayments * (k["search: found"] + k["search: zero results (counter)"])
    return {"search": searches, "click": searches * CLICKS_PER_SEARCH, "article_view": repayments * k["kb: article"],
            "article_vote": repayments * k["kb: feedback"],
            "case": repayments * k["case: open"] * CASE_EVENTS_PER_CASE}


def event_items(count: int, rates: dict[str, float]) -> list[dict]:
    """``count`` real event items in the proportions of ``rates`` (what the job Queries)."""
    from chalicelib.adapters import events
    from chalicelib.kernel.logs import user_hash
    at = dt.datetime(2026, 11, 25, 2, 3, 4, 567000, tzinfo=dt.UTC)
    samples = {
        "search": lambda n: events.item("search", at=at, query=FOUND[n % 4], results=5, zero=False,
                                        user=user_hash(f"u{n}") if n % 2 else None),
        "click": lambda n: events.item("click", at=at, query=FOUND[n % 4], slug="repayment-delay"),
        "article_view": lambda n: events.item("article_view", at=at, slug="repayment-delay", user=user_hash(f"u{n}")),
        "article_vote": lambda n: events.item("article_vote", at=at, slug="repayment-delay", helpful=True),
        "case": lambda n: events.item("case.replied", at=at, event_id=f"RD-20261125-AB{n % 100:02d}-v3-replied",
                                      case="RD-20261125-ABCD", category="repayment_delay", priority="P2",
                                      step="frontline", actor="support", first_response_seconds=1800)}
    total = sum(rates.values())
    out = []
    for kind, rate in rates.items():
        out += [samples[kind](n) for n in range(max(1, round(count * rate / total)))]
    return out


def read_seconds_per_event(items: list[dict], repeat: int = 3) -> float:
    """Measured CPU per event of the job's reading: botocore parsing a Query page of these items, ``from_item``,
    folding into a slot's rollup (``rollup.Tally``) — best of ``repeat``."""
    import time

    from botocore.parsers import create_parser
    from botocore.session import get_session

    from chalicelib.adapters import events
    from chalicelib.insight import rollup
    model_ = get_session().get_service_model("dynamodb")
    shape, parser = model_.operation_model("Query").output_shape, create_parser(model_.metadata["protocol"])
    body = json.dumps({"Items": items, "Count": len(items), "ScannedCount": len(items)}).encode()
    best = math.inf
    for _ in range(repeat):
        started = time.process_time()
        tally = rollup.Tally()
        for raw in parser.parse({"status_code": 200, "headers": {}, "body": body}, shape)["Items"]:
            tally.add(events.from_item(raw))
        tally.result()
        best = min(best, (time.process_time() - started) / len(items))
    return best


def job_model() -> dict:
    """Per scenario: events/s, bytes per event, and the job's reads per run and per hour, old job vs slots."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "ap-southeast-1")
    out = {}
    for name, sc in SCENARIOS.items():
        rates = event_rates(sc)
        items = event_items(4000, rates)
        size = sum(item_size(i) for i in items) / len(items)
        cpu = read_seconds_per_event(items)
        per_s = sum(rates.values())
        # old: the run at minute m read the current hour's first m minutes, and the previous hour while m < 15
        old_minutes = [m + (60 if m < OLD_LATE_MIN else 0) for m in range(0, 60, RUN_EVERY_MIN)]
        runs_per_hour = len(old_minutes)

        day_minutes = 60 / sc["burst"] / sc["peak_hour"]   # a day's events in minutes at this rate (the peak hour
        # holds peak_hour of the day at 1/burst of this rate): the once-a-day passes read that, not 24 h of the peak

        def cost(minutes: float, extra_kb: float = 0.0, *, per_s=per_s, size=size, cpu=cpu) -> dict:  # this scenario's
            count = per_s * minutes * 60
            megabytes = count * size / 1e6
            return {"minutes": minutes, "events": count, "mb": megabytes,
                    "rcu": (count * size + extra_kb * KB) / (4 * KB) / 2,   # eventually consistent Query
                    "lambda_s": count * cpu / LAMBDA_VCPU + megabytes / PAGE_MB * PAGE_MS / 1000}
        listing_kb = (CATCH_UP_SLOTS + 12) * SLOT_ROLLUP_KB   # which slots exist + the hour's merge
        out[name] = {
            "events_per_s": per_s, "rates": rates, "bytes": size, "cpu_us": cpu * 1e6,
            "old_run": cost(sum(old_minutes) / runs_per_hour), "old_hour": cost(sum(old_minutes)),
            "old_day_compaction": cost(day_minutes),
            "new_run": cost(RUN_EVERY_MIN, listing_kb), "new_hour": cost(60, listing_kb * runs_per_hour),
            "deflection_day": cost(2 * day_minutes)}
    return out


def print_job_model() -> None:
    result = job_model()
    print()
    print("The aggregation job (aggregate_events) at those rates — events read from EVENTS_TABLE "
          "(eventually consistent Queries);")
    print(f"  Lambda time = events × measured CPU per event (botocore parse + from_item + rollup) ÷ {LAMBDA_VCPU:.2f} "
          f"vCPU + {PAGE_MS} ms per {PAGE_MB:g} MB page (assumed); the new job's slot-rollup listing assumed "
          f"{SLOT_ROLLUP_KB} KB per rollup")
    for name, r in result.items():
        print(f"{name}: {r['events_per_s']:,.0f} events/s (" + ", ".join(f"{k} {v:,.0f}" for k, v in r["rates"].items())
              + f"), {r['bytes']:.0f} B each, {r['cpu_us']:.1f} µs CPU each here")
        for label, key in (("  old job, per run (mean)", "old_run"), ("  old job, per hour", "old_hour"),
                           ("  slots,   per run", "new_run"), ("  slots,   per hour", "new_hour"),
                           ("  old day compaction (once a day)", "old_day_compaction"),
                           ("  deflection pass, both (once a day)", "deflection_day")):  # the slots' compaction reads
            # no events: it merges the day's 288 slot rollups
            c = r[key]
            print(f"{label:38} {c['minutes']:6.1f} min of events = {c['events']:11,.0f} events {c['mb']:8,.0f} MB "
                  f"{c['rcu']:9,.0f} RCU  ≈ {c['lambda_s']:7,.1f} s of Lambda")
        print(f"  → per hour the old job read {r['old_hour']['events'] / r['new_hour']['events']:.1f}× what the slots "
              f"read (each event about once; {r['new_hour']['rcu'] / 3600:.1f} RCU/s); a day's events = "
              f"{r['old_day_compaction']['minutes']:.0f} min at this rate (the peak hour is "
              f"{SCENARIOS[name]['peak_hour']:.0%} of the day at 1/{SCENARIOS[name]['burst']:g} of it)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--queue-depth", type=int, default=40, help="open frontline cases before the run")
    parser.add_argument("--detail", action="store_true", help="also list each route's DynamoDB calls and partitions")
    parser.add_argument("--json", help="write the rows here")
    parser.add_argument("--wake-shards", type=int, default=WAKE_SHARDS_PROD,
                        help="WAKE_SHARDS the bills sweep model assumes (prod: 64)")
    parser.add_argument("--model", action="store_true", help="also print the 10-million-user model (docs/scale.md)")
    parser.add_argument("--job", action="store_true",
                        help="only the aggregation job's read cost per run/hour, old job vs slots (no moto run)")
    args = parser.parse_args()
    if args.job:
        print_job_model()
        return
    with contextlib.redirect_stdout(io.StringIO()):  # the app's metric lines (EMF) go to stdout
        meter, info = run(args.rounds, args.queue_depth)
    rows = summarise(meter, info)
    print_table(rows, meter, info, args.detail)
    if args.model:
        print_model(rows, info)
        print_bills_model(rows, info, args.wake_shards)
        print_job_model()
    if args.json:
        Path(args.json).write_text(json.dumps({"info": info, "rows": rows, "model": model(rows, info) if args.model
                                               else None}, ensure_ascii=False, indent=1, default=str))


if __name__ == "__main__":
    main()
