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
                ddb.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": {"pk": {"S": f"kept-{i}"}}}}])
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
            outcomes += burst(40, lambda i: write(start + i))
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
