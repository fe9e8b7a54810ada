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

Two changes to moto's DynamoDB (#21), in ``chalicelib/private_hooks.py`` with every other reach into a
library's internals. ``undo_touched_items_only``: moto 5.2.5 makes every
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
import io
import json
import os
import signal
import threading
import time
import urllib.parse

from chalicelib import private_hooks
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
        if environ.get("PATH_INFO") == SENT_PATH:
            with self.lock:
                body = json.dumps(sent_messages(), ensure_ascii=False).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if _waits(environ):
            return self.app(environ, start_response)
        _read_body_first(environ)
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


SENT_PATH = "/_local/sent.json"


def sent_messages() -> dict[str, list[dict]]:
    """What moto "sent", and nothing else: ``{"sms": [{"phone_number", "message"}…], "email": [{"destinations",
    "subject", "body"}…], "user_email": [{"to", "subject", "reply_to", "body"}…]}``, oldest first, read from moto's SNS
    and SES backends (``GET /_local/sent.json``).
    moto's own ``/moto-api/data.json`` dumps every model it holds, every DynamoDB item too: on a stack that
    has served a test suite it took over a minute under load (a bills e2e test timed out on it)."""
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    def existing(backends) -> list:   # dict.values: indexing a BackendDict would create missing backends
        return [backend for regions in dict.values(backends) for backend in dict.values(regions)]

    sms = [{"phone_number": phone, "message": text}
           for backend in existing(sns_backends) for phone, text in backend.sms_messages.values()]
    email = [{"destinations": m.destinations, "subject": m.subject, "body": m.body}
             for backend in existing(ses_backends) for m in backend.sent_messages if hasattr(m, "subject")]
    user_email = [_raw_mail(m.raw_data) for backend in existing(ses_backends) for m in backend.sent_messages
                  if hasattr(m, "raw_data")]
    return {"sms": sms, "email": email, "user_email": user_email}


def _raw_mail(raw: str) -> dict:
    """A user e-mail (SES SendRawEmail) as ``{"to", "subject", "reply_to", "body"}``."""
    import email
    import email.policy
    mail = email.message_from_string(raw, policy=email.policy.default)
    body = mail.get_body(preferencelist=("plain",))
    return {"to": str(mail["To"] or ""), "subject": str(mail["Subject"] or ""),
            "reply_to": str(mail["Reply-To"] or ""), "body": body.get_content() if body else ""}


def _read_body_first(environ) -> None:
    """The request's body read off the socket before the lock is taken: moto reads it inside the request, and
    a client that stalls between its headers and its body (http.client sends them apart; a test pauses the
    event runner with SIGSTOP, a client dies) would otherwise hold every other request of the stack."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(length) if length else b"")


def _operation(environ) -> str:
    """``dynamodb GetItem repaydesk-dev-repayments``, ``sns Publish``…: what a request asks moto (for the
    stats only: reads the body, then puts it back for moto)."""
    body = environ["wsgi.input"].getvalue()   # read before the lock (_read_body_first)
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
    form = (urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
            or urllib.parse.parse_qs(body.decode(errors="replace")))
    action = form.get("Action", [""])[0]
    host = environ.get("HTTP_AUTHORIZATION", "").split("/")[3:4]   # the credential scope names the service
    what = action or environ.get("REQUEST_METHOD", "") + " " + environ.get("PATH_INFO", "")
    return f"{host[0] if host else '?'} {what}"


def _waits(environ) -> bool:
    """An SQS ReceiveMessage (JSON protocol, as boto3 sends it, or the query protocol's URL form)."""
    return (environ.get("HTTP_X_AMZ_TARGET") == "AmazonSQS.ReceiveMessage"
            or "Action=ReceiveMessage" in environ.get("QUERY_STRING", ""))


def make_app(stats_path: str | None = None):
    from moto.server import DomainDispatcherApplication, create_backend_app
    private_hooks.undo_touched_items_only()
    private_hooks.query_reads_its_partition_only()
    private_hooks.remember_what_never_changes()
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
