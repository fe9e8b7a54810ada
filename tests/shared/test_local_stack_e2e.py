"""The local stack is faithful enough to prove concurrency claims (#11): moto applies each request
atomically, as DynamoDB does, and ``chalice local`` queues a burst of connections instead of dropping them."""
import os
import signal
import socket
import uuid

import pytest

from tests.conftest import burst

pytestmark = pytest.mark.e2e


def test_moto_applies_each_request_atomically(local_stack):
    """Cancelled transactions next to successful ones: every successful write is still there.
    (Plain moto server restores a whole-table snapshot on cancel and loses some: 192 of 200 here.)"""
    ddb = local_stack.client("dynamodb")
    table = f"atomicity-{uuid.uuid4().hex[:8]}"
    ddb.create_table(TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    try:
        ddb.put_item(TableName=table, Item={"pk": {"S": "guard"}})

        def write(i):
            if i % 2:
                ddb.transact_write_items(
                    TransactItems=[{"Put": {"TableName": table, "Item": {"pk": {"S": f"kept-{i}"}}}}])
                return "kept"
            try:  # cancelled: the condition on "guard" fails
                ddb.transact_write_items(TransactItems=[
                    {"Put": {"TableName": table, "Item": {"pk": {"S": f"cancelled-{i}"}}}},
                    {"ConditionCheck": {"TableName": table, "Key": {"pk": {"S": "guard"}},
                                        "ConditionExpression": "attribute_not_exists(pk)"}}])
            except ddb.exceptions.TransactionCanceledException:
                return "cancelled"
            return "committed?"

        outcomes = []
        for start in range(0, 160, 40):
            # burst runs the batch before returning: each batch writes from its own start
            outcomes += burst(40, lambda i, start=start: write(start + i))
        assert outcomes.count("kept") == 80 and outcomes.count("cancelled") == 80
        kept = [f"kept-{i}" for i in range(1, 160, 2)]
        found = set()
        for first in range(0, len(kept), 100):
            response = ddb.batch_get_item(RequestItems={table: {
                "Keys": [{"pk": {"S": k}} for k in kept[first:first + 100]], "ConsistentRead": True}})
            found |= {item["pk"]["S"] for item in response["Responses"][table]}
        assert found == set(kept)
    finally:
        ddb.delete_table(TableName=table)


def test_a_burst_of_50_connections_is_queued_while_the_api_is_busy(local_stack):
    """The API process is stopped while 50 clients connect: the kernel queues all 50 (a backlog of 5
    would drop all but ~6 and leave the rest retrying for seconds), and each gets its answer."""
    api = next(child.proc for child in local_stack.children if child.name.startswith("chalice local"))
    clients = []
    os.kill(api.pid, signal.SIGSTOP)
    try:
        for _ in range(50):
            client = socket.create_connection(("127.0.0.1", local_stack.port), timeout=0.8)
            clients.append(client)
            client.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    finally:
        os.kill(api.pid, signal.SIGCONT)
    try:
        for client in clients:
            client.settimeout(30)
            status_line = client.makefile("rb").readline()
            assert status_line.split()[1:2] == [b"200"], status_line
    finally:
        for client in clients:
            client.close()


def _table(ddb, name: str) -> None:
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                                {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")


def _all_items(ddb, name: str) -> list[dict]:
    items, start = [], {}
    while True:
        page = ddb.scan(TableName=name, ConsistentRead=True, **start)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def test_a_cancelled_transaction_leaves_every_item_it_named_as_it_was(local_stack):
    """moto server keeps only the items a transaction names to undo it (not a copy of each whole table, #21):
    a put of a new item, an update, a delete and a put over an existing item, cancelled by a failing
    condition or by naming one item twice, leave both tables exactly as they were."""
    ddb = local_stack.client("dynamodb")
    first, second = (f"undo-{uuid.uuid4().hex[:8]}" for _ in range(2))
    _table(ddb, first)
    _table(ddb, second)
    try:
        for table in (first, second):
            for sk in ("kept", "updated", "deleted", "replaced"):
                ddb.put_item(TableName=table, Item={"pk": {"S": "u1"}, "sk": {"S": sk}, "n": {"N": "1"},
                                                   "tags": {"SS": ["a", "b"]}})
        before = {table: _all_items(ddb, table) for table in (first, second)}
        writes = [
            {"Put": {"TableName": first, "Item": {"pk": {"S": "u1"}, "sk": {"S": "new"}}}},
            {"Update": {"TableName": second, "Key": {"pk": {"S": "u1"}, "sk": {"S": "updated"}},
                        "UpdateExpression": "SET n = n + :one ADD tags :c",
                        "ExpressionAttributeValues": {":one": {"N": "1"}, ":c": {"SS": ["c"]}}}},
            {"Delete": {"TableName": first, "Key": {"pk": {"S": "u1"}, "sk": {"S": "deleted"}}}},
            {"Put": {"TableName": second, "Item": {"pk": {"S": "u1"}, "sk": {"S": "replaced"}, "n": {"N": "9"}}}},
        ]
        failing = {"ConditionCheck": {"TableName": first, "Key": {"pk": {"S": "u1"}, "sk": {"S": "kept"}},
                                      "ConditionExpression": "attribute_not_exists(pk)"}}
        with pytest.raises(ddb.exceptions.TransactionCanceledException):
            ddb.transact_write_items(TransactItems=[*writes, failing])
        assert {table: _all_items(ddb, table) for table in (first, second)} == before
        twice = {"Delete": {"TableName": second, "Key": {"pk": {"S": "u1"}, "sk": {"S": "updated"}}}}
        with pytest.raises(ddb.exceptions.ClientError):   # ValidationException: one item named twice
            ddb.transact_write_items(TransactItems=[*writes, twice])
        assert {table: _all_items(ddb, table) for table in (first, second)} == before
        ddb.transact_write_items(TransactItems=writes)   # and the same writes, not cancelled, all apply
        after = {(table, i["sk"]["S"]): i for table in (first, second) for i in _all_items(ddb, table)}
        assert (first, "new") in after and (first, "deleted") not in after
        assert after[(second, "updated")]["n"] == {"N": "2"} and after[(second, "replaced")]["n"] == {"N": "9"}
    finally:
        ddb.delete_table(TableName=first)
        ddb.delete_table(TableName=second)


@pytest.fixture(scope="module")
def small_and_large(local_stack):
    """Two tables in the stack's moto: one partition of 40 items, and the same partition among 50 (2,000 items)."""
    ddb = local_stack.client("dynamodb")
    small, large = (f"cost-{uuid.uuid4().hex[:8]}" for _ in range(2))
    _table(ddb, small)
    _table(ddb, large)

    def fill(table, partitions):
        items = [{"pk": {"S": f"u{p}"}, "sk": {"S": f"item-{i:03d}"}, "text": {"S": "x" * 200}}
                 for p in partitions for i in range(40)]
        for first in range(0, len(items), 25):
            batch = [{"PutRequest": {"Item": item}} for item in items[first:first + 25]]
            ddb.batch_write_item(RequestItems={table: batch})
    fill(small, [7])
    fill(large, range(50))
    yield ddb, small, large
    ddb.delete_table(TableName=small)
    ddb.delete_table(TableName=large)


def _median_seconds(call, runs: int = 9) -> float:
    import statistics
    import time
    times = []
    for i in range(runs):
        started = time.perf_counter()
        call(i)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def test_a_transaction_costs_the_same_on_a_large_table(small_and_large):
    """A transaction on a table of 2,000 items is about as quick as on a small one (plain moto deep-copies
    the table for each transaction: ~130 ms here against ~4 ms, and more with every item stored)."""
    ddb, small, large = small_and_large

    def transaction(table):
        return lambda i: ddb.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": {
            "pk": {"S": "t"}, "sk": {"S": str(i)}}}}])
    on_small, on_large = _median_seconds(transaction(small)), _median_seconds(transaction(large))
    assert on_large < 3 * on_small + 0.01, f"{on_large * 1000:.1f} ms against {on_small * 1000:.1f} ms"


def test_a_query_reads_only_its_partition(small_and_large):
    """A Query on a table's key answers as DynamoDB does — the partition's items in key order, pages and
    all, either direction — and costs the same among 2,000 items as alone (plain moto lists and sorts the
    whole table for each Query)."""
    ddb, small, large = small_and_large
    expected = [f"item-{i:03d}" for i in range(40)]

    def pages(table, forward):
        found, start = [], {}
        while True:
            page = ddb.query(TableName=table, KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
                             ExpressionAttributeValues={":pk": {"S": "u7"}, ":p": {"S": "item-"}},
                             Limit=15, ScanIndexForward=forward, ConsistentRead=True, **start)
            found += [item["sk"]["S"] for item in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return found
            start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
    assert pages(large, True) == expected and pages(large, False) == expected[::-1]
    assert ddb.query(TableName=large, KeyConditionExpression="pk = :pk",
                     ExpressionAttributeValues={":pk": {"S": "nobody"}})["Items"] == []

    def query(table):
        return lambda i: ddb.query(TableName=table, KeyConditionExpression="pk = :pk AND sk > :after",
                                   ExpressionAttributeValues={":pk": {"S": "u7"}, ":after": {"S": f"item-{i:03d}"}},
                                   Limit=2)   # few items: moto's answer serialiser (~1 ms an item) would hide the rest
    on_small, on_large = _median_seconds(query(small)), _median_seconds(query(large))
    assert on_large < 3 * on_small + 0.01, f"{on_large * 1000:.1f} ms against {on_small * 1000:.1f} ms"


def test_a_client_stalled_between_headers_and_body_holds_nobody_up(local_stack):
    """A client that sent its headers but not yet its body (http.client writes them apart; a paused or dying
    process stops in between) must not hold moto's one-request lock: other requests go on."""
    host, port = local_stack.moto_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as stalled:
        stalled.sendall(b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\n"
                        b"Content-Type: application/x-amz-json-1.0\r\nContent-Length: 2\r\n\r\n")
        from botocore.config import Config
        ddb = local_stack.client("dynamodb", Config(read_timeout=5, retries={"max_attempts": 1}))
        assert isinstance(ddb.list_tables(Limit=1)["TableNames"], list)   # answered while the other waits
        stalled.sendall(b"{}")
        assert stalled.recv(64).startswith(b"HTTP/1.1 ")
