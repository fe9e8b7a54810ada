"""moto server answering one request at a time: the local stand-in for AWS (``make serve``, e2e tests).

moto's backends are not safe under concurrent requests: a cancelled
``TransactWriteItems`` restores a snapshot of the whole table without a lock,
wiping out writes other requests made meanwhile (#11: ten parallel repayments
→ ten 201s, nine stored). Real DynamoDB applies each request atomically, so the
local stack serialises requests: the WSGI app below runs each one under one
lock. Requests still arrive on many connections (werkzeug's threaded server),
only moto's work is one at a time — a few milliseconds per call. The one
exception is SQS ``ReceiveMessage``: moto long-polls inside the request
(waiting for a send that the lock would hold back), so it runs beside the others,
as it did before.

Built from moto's public server pieces (``moto.server``: the dispatcher app,
its request handler; werkzeug's ``make_server``), as ``moto_server`` builds
itself, plus the lock.

Two changes to moto's DynamoDB (#21). ``undo_touched_items_only``: moto 5.2.5 makes every
``TransactWriteItems`` deep-copy each table it names, to restore it if the transaction is
cancelled — every repayment and 工单 write copied the whole table, so a write's cost grew
with everything stored (42 % of moto's busy time under 20 clients after a minute, and its
memory churned). Here the transaction saves only the items it names and, if cancelled,
puts exactly those back. Under the lock nothing else changes a table meanwhile, so the
result is the same as moto's whole-table restore. And one to its Query
(``query_reads_its_partition_only``): moto lists and sorts every item of a table for each
Query; on the table's own key it now reads the one partition asked for (the same items, in
the same order). Both are pinned to moto 5.2.5 and leave moto as it is on another version,
as is ``remember_what_never_changes`` (two lookups moto repeated on every request).

    python -m devtools.moto_server -H 127.0.0.1 -p 5500
"""
from __future__ import annotations

import argparse
import copy
import io
import json
import os
import signal
import threading
import time
import urllib.parse

from devtools import lifeline


class OneRequestAtATime:
    """WSGI middleware: ``app`` handles one request at a time, its whole response produced under the lock.

    With ``stats_path``, where the time goes: every few seconds that file gets, per operation
    (``dynamodb Query <table>[:<index>]``, ``sqs SendMessage`` …), the calls, the seconds they held the
    lock and the seconds they waited for it, as JSON (``benchmarks/load.py --moto-stats`` reads it)."""

    def __init__(self, app, stats_path: str | None = None):
        self.app = app
        self.lock = threading.Lock()
        self.stats_path = stats_path
        self.stats: dict[str, list] = {}
        self.stats_written = 0.0

    def __call__(self, environ, start_response):
        if _waits(environ):
            return self.app(environ, start_response)
        if self.stats_path:
            return self._measured(environ, start_response)
        with self.lock:
            return self._answer(environ, start_response)

    def _answer(self, environ, start_response) -> list[bytes]:
        result = self.app(environ, start_response)
        try:
            return list(result)  # moto's responses are small; sending them happens outside the lock
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()

    def _measured(self, environ, start_response) -> list[bytes]:
        operation = _operation(environ)
        arrived = time.perf_counter()
        with self.lock:
            started = time.perf_counter()
            body = self._answer(environ, start_response)
            done = time.perf_counter()
            entry = self.stats.setdefault(operation, [0, 0.0, 0.0])
            entry[0] += 1
            entry[1] += done - started
            entry[2] += started - arrived
            if done - self.stats_written > 2:
                self.stats_written = done
                partial = f"{self.stats_path}.{os.getpid()}"
                with open(partial, "w") as out:
                    json.dump(self.stats, out)
                os.replace(partial, self.stats_path)
        return body


def _operation(environ) -> str:
    """``dynamodb GetItem repaydesk-dev-repayments``, ``sns Publish``…: what a request asks moto (for the
    stats only: reads the body, then puts it back for moto)."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        service, _, action = target.partition(".")
        service = service.split("_")[0].lower().replace("amazon", "").replace("awscognitoidentityproviderservice",
                                                                             "cognito")
        if service == "dynamodb":
            try:
                request = json.loads(body or b"{}")
            except ValueError:
                request = {}
            tables = sorted({next(iter(item.values())).get("TableName", "?")
                             for item in request.get("TransactItems", [])}) or [request.get("TableName", "")]
            index = request.get("IndexName")
            return f"dynamodb {action} {'+'.join(tables)}" + (f":{index}" if index else "")
        return f"{service} {action}"
    form = urllib.parse.parse_qs(environ.get("QUERY_STRING", "")) or urllib.parse.parse_qs(body.decode(errors="replace"))
    action = form.get("Action", [""])[0]
    host = environ.get("HTTP_AUTHORIZATION", "").split("/")[3:4]   # the credential scope names the service
    return f"{host[0] if host else '?'} {action or environ.get('REQUEST_METHOD', '') + ' ' + environ.get('PATH_INFO', '')}"


def _waits(environ) -> bool:
    """An SQS ReceiveMessage (JSON protocol, as boto3 sends it, or the query protocol's URL form)."""
    return (environ.get("HTTP_X_AMZ_TARGET") == "AmazonSQS.ReceiveMessage"
            or "Action=ReceiveMessage" in environ.get("QUERY_STRING", ""))


MOTO_VERSION = "5.2.5"   # the version undo_touched_items_only was written for


class _CopyTablesByReference(threading.local):
    """Stands in for the ``copy`` module inside ``moto.dynamodb.models``: while ``active`` (one
    transaction, on its thread), moto's backup "copy" of a table is the table itself; every other
    ``copy.deepcopy`` there is the real one."""
    active = False

    def __init__(self, table_class):
        self.table_class = table_class

    def deepcopy(self, value, memo=None):
        if self.active and isinstance(value, self.table_class):
            return value
        return copy.deepcopy(value, memo)

    def __getattr__(self, name):
        return getattr(copy, name)


def undo_touched_items_only() -> bool:
    """Make moto's ``TransactWriteItems`` save (and on cancellation restore) only the items it names
    instead of deep copies of whole tables. False, and moto left as it is (correct, only slower),
    on a moto version or source it was not written for."""
    import inspect

    import moto
    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    original = models.DynamoDBBackend.transact_write_items
    source = inspect.getsource(original)
    if (moto.__version__ != MOTO_VERSION or models.copy is not copy or "copy.deepcopy(" not in source
            or "original_table_state[table_name]" not in source):
        print(f"moto {moto.__version__}: transactions deep-copy whole tables as moto does "
              f"(devtools/moto_server.undo_touched_items_only was written for {MOTO_VERSION})", flush=True)
        return False
    tables_by_reference = _CopyTablesByReference(Table)

    def saved_items(backend, transact_items) -> list:
        """(table, hash key, range key, a deep copy of the item or None) for every item named."""
        saved = []
        for entry in transact_items:
            for op_type, op in entry.items():
                table = backend.get_table(op["TableName"])
                if table.stream_shard is not None:
                    raise LookupError("a table with a stream: its records are restored with it")
                attrs = op["Item"] if op_type == "Put" else op["Key"]
                hash_value = DynamoType(attrs[table.hash_key_attr])
                range_value = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
                saved.append((table, hash_value, range_value,
                              copy.deepcopy(table.get_item(hash_value, range_value))))
        return saved

    def restore(saved) -> None:
        for table, hash_value, range_value, item in reversed(saved):  # the first copy of a key wins
            if item is None:
                table.delete_item(hash_value, range_value)
            elif range_value is not None:
                table.items[hash_value][range_value] = item
            else:
                table.items[hash_value] = item

    def transact_write_items(self, transact_items):
        try:
            saved = saved_items(self, transact_items)
        except Exception:   # a malformed request or a stream: moto's own way (it reports the error)
            return original(self, transact_items)
        tables_by_reference.active = True
        try:
            return original(self, transact_items)
        except BaseException:
            restore(saved)
            raise
        finally:
            tables_by_reference.active = False

    models.copy = tables_by_reference
    models.DynamoDBBackend.transact_write_items = transact_write_items
    return True


def query_reads_its_partition_only() -> bool:
    """Make moto's Query on a table's own key read the queried partition instead of every item of the
    table (moto 5.2.5 lists and sorts all of them for each Query, so a user's repayment list cost grew
    with everyone's data). Queries on an index are left as they are. False, and moto left as it is, on a
    moto version or source it was not written for."""
    import inspect

    import moto
    from moto.dynamodb.models.table import Table

    original_query, original_all_items = Table.query, Table.all_items
    source = inspect.getsource(original_query)
    if (moto.__version__ != MOTO_VERSION or "for item in self.all_items()" not in source
            or "item.hash_key == hash_key" not in source):
        print(f"moto {moto.__version__}: each Query reads the whole table as moto does "
              f"(devtools/moto_server.query_reads_its_partition_only was written for {MOTO_VERSION})", flush=True)
        return False
    signature = inspect.signature(original_query)
    partition = threading.local()

    def all_items(self):
        wanted = getattr(partition, "key", None)
        if wanted is None or wanted[0] is not self:
            return original_all_items(self)
        if wanted[1] not in self.items:   # (a plain lookup would add an empty partition to moto's defaultdict)
            return []
        found = self.items[wanted[1]]
        return list(found.values()) if self.range_key_attr else [found]

    def query(self, *args, **kwargs):
        arguments = signature.bind(self, *args, **kwargs).arguments
        if arguments.get("index_name") or arguments.get("hash_key") is None:
            return original_query(self, *args, **kwargs)
        partition.key = (self, arguments["hash_key"])
        try:
            return original_query(self, *args, **kwargs)
        finally:
            partition.key = None

    Table.all_items = all_items
    Table.query = query
    return True


def remember_what_never_changes() -> bool:
    """Two answers moto 5.2.5 works out again for every request, although they cannot change while it runs:
    which services it has (a directory listing and a ``stat`` per entry of moto's package, to route each
    request) and which actions a service's handler class has (``inspect.getmembers`` of the class). Both
    are now worked out once: a GetItem took 4.6 ms of moto's CPU time, now 3.5 (medians of 5 alternated
    runs of 1,200 calls from 20 threads, load average ~10)."""
    import functools

    import moto
    from moto import backends
    from moto.core import responses

    if moto.__version__ != MOTO_VERSION:
        return False
    services = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: services
    responses.method_names_from_class = functools.cache(responses.method_names_from_class)
    return True


def make_app(stats_path: str | None = None):
    from moto.server import DomainDispatcherApplication, create_backend_app
    undo_touched_items_only()
    query_reads_its_partition_only()
    remember_what_never_changes()
    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True  # as moto_server sets it
    return OneRequestAtATime(app, stats_path)


def serve(host: str, port: int, stats_path: str | None = None) -> None:
    from moto.server import MotoRequestHandler
    from werkzeug.serving import make_server

    class RequestHandler(MotoRequestHandler):
        """moto's handler, without a log line for every call answered below 500 (one per AWS call, with
        neither operation nor table in it: 5–8 % of moto's CPU time). 5xx answers and errors still log."""

        def log_request(self, code="-", size="-") -> None:
            if str(code).startswith("5"):
                super().log_request(code, size)

    server = make_server(host, port, make_app(stats_path), threaded=True, request_handler=RequestHandler)
    print(f"moto (one request at a time) on http://{host}:{port}", flush=True)
    server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5500)
    parser.add_argument("--stats", default=os.environ.get("MOTO_LOCK_STATS") or None, metavar="PATH",
                        help="write each operation's calls and seconds under the lock here (MOTO_LOCK_STATS)")
    args = parser.parse_args(argv)
    os.environ["MOTO_PORT"] = str(args.port)  # moto builds some URLs from it (moto_server sets it too)
    # Stop at once on SIGTERM/SIGINT: moto's state is memory only, nothing to save. (A normal interpreter
    # exit first tears down every object moto holds, slow once it holds gigabytes, and the port stays taken.)
    signal.signal(signal.SIGTERM, _exit_now)
    signal.signal(signal.SIGINT, _exit_now)
    lifeline.exit_with_parent()
    serve(args.host, args.port, args.stats)


def _exit_now(*_) -> None:
    lifeline.with_flush()
    os._exit(0)


if __name__ == "__main__":
    main()
