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

    python -m devtools.moto_server -H 127.0.0.1 -p 5500
"""
from __future__ import annotations

import argparse
import os
import signal
import threading

from devtools import lifeline


class OneRequestAtATime:
    """WSGI middleware: ``app`` handles one request at a time, its whole response produced under the lock."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if _waits(environ):
            return self.app(environ, start_response)
        with self.lock:
            result = self.app(environ, start_response)
            try:
                body = list(result)  # moto's responses are small; sending them happens outside the lock
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        return body


def _waits(environ) -> bool:
    """An SQS ReceiveMessage (JSON protocol, as boto3 sends it, or the query protocol's URL form)."""
    return (environ.get("HTTP_X_AMZ_TARGET") == "AmazonSQS.ReceiveMessage"
            or "Action=ReceiveMessage" in environ.get("QUERY_STRING", ""))


def make_app():
    from moto.server import DomainDispatcherApplication, create_backend_app
    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True  # as moto_server sets it
    return OneRequestAtATime(app)


def serve(host: str, port: int) -> None:
    from moto.server import MotoRequestHandler
    from werkzeug.serving import make_server

    server = make_server(host, port, make_app(), threaded=True, request_handler=MotoRequestHandler)
    print(f"moto (one request at a time) on http://{host}:{port}", flush=True)
    server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5500)
    args = parser.parse_args(argv)
    os.environ["MOTO_PORT"] = str(args.port)  # moto builds some URLs from it (moto_server sets it too)
    # Stop at once on SIGTERM/SIGINT: moto's state is memory only, nothing to save. (A normal interpreter
    # exit first tears down every object moto holds, slow once it holds gigabytes, and the port stays taken.)
    signal.signal(signal.SIGTERM, _exit_now)
    signal.signal(signal.SIGINT, _exit_now)
    lifeline.exit_with_parent()
    serve(args.host, args.port)


def _exit_now(*_) -> None:
    lifeline.with_flush()
    os._exit(0)


if __name__ == "__main__":
    main()
