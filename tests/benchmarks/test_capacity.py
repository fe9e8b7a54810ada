"""The capacity meter behind docs/scale.md: DynamoDB's sizing rules, and the meter on real moto calls."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "capacity", Path(__file__).resolve().parents[2] / "benchmarks" / "capacity.py")
capacity = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(capacity)


def test_item_sizes_follow_dynamodbs_rules():
    assert capacity.item_size({"name": {"S": "abc"}}) == 4 + 3
    assert capacity.item_size({"城市": {"S": "上海"}}) == 6 + 6                       # UTF-8 bytes, names too
    assert capacity.item_size({"n": {"N": "12345"}}) == 1 + 3 + 1                     # 1 byte per 2 digits + 1
    assert capacity.item_size({"n": {"N": "0.0012300"}}) == 1 + 2 + 1                 # zeros trimmed: 123
    assert capacity.item_size({"ok": {"BOOL": True}, "x": {"NULL": True}}) == 3 + 2
    assert capacity.item_size({"l": {"L": [{"S": "ab"}, {"N": "7"}]}}) == 1 + 3 + (2 + 1) + (2 + 1)
    assert capacity.item_size({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + (1 + 1 + 1)
    assert capacity.item_size({"e": {"L": []}}) == 1 + 3


def test_units_round_up_per_4_kb_read_and_1_kb_written():
    assert capacity.read_units(0, consistent=True) == 1        # a miss still costs a unit
    assert capacity.read_units(4096, consistent=True) == 1
    assert capacity.read_units(4097, consistent=True) == 2
    assert capacity.read_units(4097, consistent=False) == 1    # eventually consistent: half
    assert capacity.write_units(1024) == 1 and capacity.write_units(1025) == 2 and capacity.write_units(0) == 1


def _item(gsi_pk=None, pad=0, extra="x"):
    item = {"pk": {"S": "a"}, "sk": {"S": "1"}, "pad": {"S": "p" * pad}, "extra": {"S": extra}}
    if gsi_pk:
        item.update(g_pk={"S": gsi_pk}, g_sk={"S": "s"})
    return item


def test_index_writes_enter_leave_move_and_change_in_place():
    def units(before, after):
        return capacity.index_write_units(before, after, "g_pk", "g_sk")

    assert units(None, _item()) == 0                                  # not in the sparse index
    assert units(None, _item("A", pad=2000)) == 2                     # enters
    assert units(_item("A", pad=2000), _item()) == 2                  # leaves
    assert units(_item("A", pad=2000), _item("B")) == 2 + 1           # moves: each half on its own image
    assert units(_item("A", pad=2000), _item("A", pad=10)) == 2       # changed in place: the larger image
    assert units(_item("A"), _item("A")) == 0                         # unchanged


@pytest.fixture
def metered(aws):
    """A moto table with one GSI, and a meter installed on a fresh boto3 session."""
    import boto3
    spec = {"TableName": "t", "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "g_pk", "g_sk")],
            "GlobalSecondaryIndexes": [{"IndexName": "gsi", "Projection": {"ProjectionType": "ALL"},
                                        "KeySchema": [{"AttributeName": "g_pk", "KeyType": "HASH"},
                                                      {"AttributeName": "g_sk", "KeyType": "RANGE"}]}]}
    session = boto3.session.Session()
    session.client("dynamodb").create_table(**spec)
    meter = capacity.Meter([spec])
    meter.install(session)
    meter.route = "test"
    return meter, session.client("dynamodb")


def test_the_meter_charges_real_calls_by_their_items(metered):
    meter, ddb = metered
    ddb.put_item(TableName="t", Item=_item("A", pad=3000))
    ddb.update_item(TableName="t", Key={"pk": {"S": "a"}, "sk": {"S": "1"}}, UpdateExpression="SET g_pk = :b",
                    ExpressionAttributeValues={":b": {"S": "B"}})
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": "t", "Item": {"pk": {"S": "b"}, "sk": {"S": "1"}}}},
        {"Update": {"TableName": "t", "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}}, "UpdateExpression": "SET extra = :y",
                    "ExpressionAttributeValues": {":y": {"S": "y"}}}}])
    ddb.get_item(TableName="t", Key={"pk": {"S": "a"}, "sk": {"S": "1"}}, ConsistentRead=True)
    ddb.get_item(TableName="t", Key={"pk": {"S": "zz"}, "sk": {"S": "1"}})
    ddb.query(TableName="t", IndexName="gsi", KeyConditionExpression="g_pk = :b",
              ExpressionAttributeValues={":b": {"S": "B"}})
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.put_item(TableName="t", Item=_item(), ConditionExpression="attribute_not_exists(pk)")
    charged = [(c["op"], c["rcu"], c["wcu"], c["gsi_wcu"]) for c in meter.calls]
    assert charged == [
        ("PutItem", 0, 3, 3),                 # a 3 KB item, and its index entry
        ("UpdateItem", 0, 3, 6),              # the index key moved: delete 3 + put 3
        ("TransactWriteItems", 0, 2 + 6, 3),  # 2 × (1 KB new item) + 2 × (3 KB item); its entry changed in place
        ("GetItem", 1, 0, 0),                 # 3 KB, strongly consistent
        ("GetItem", 0.5, 0, 0),               # a miss, eventually consistent
        ("Query", 0.5, 0, 0),                 # 3 KB from the index: eventually consistent
        ("PutItem", 0, 3, 0),                 # a failed condition pays for the existing item
    ]
    assert meter.calls[-1]["failed"]


def test_the_bills_sweep_model_scales_with_wake_shards():
    """docs/scale.md's due-date morning: per-reminder work measured, throughput = shards × one worker's rate."""
    per = {"route": "bills sweep: per reminder", "calls": 7, "outbox_sends": 1, "rcu": 2.5, "wcu": 12, "gsi_wcu": 5,
           "by_partition": {"pending:PENDING": (0, 1.5), "pending:PENDING#1": (0, 1.5)}}
    idle = {"route": "bills sweep: idle shard", "calls": 8, "outbox_sends": 0, "rcu": 4.0, "wcu": 0, "gsi_wcu": 0,
            "by_partition": {}}
    info = {"shards": {"outbox": 4}}
    at64, at128 = (capacity.bills_model([per, idle], info, n) for n in (64, 128))
    assert at64["reminders"] == 3_000_000 and at64["ms_per_reminder"] == 15 + 8 * 7 + 25
    assert round(at64["per_s"]) == 556 and round(at64["minutes"]) == 90
    assert at128["per_s"] == 2 * at64["per_s"] and at128["minutes"] == at64["minutes"] / 2
    assert round(at64["old_days"], 1) == 10.4 and at64["pending_wcu_per_shard"] == 3 * at64["per_s"] / 4
