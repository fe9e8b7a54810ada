"""``chalice local`` for the local stack: API Gateway's error responses as in the deployed template,
and a listen backlog that takes a burst of connections.

    python -m devtools.chalice_local --host 127.0.0.1 --port 8000 --stage dev

Builds the server as ``chalice local --no-autoreload`` does (``chalice.cli.create_local_server``
with the CLI's factory, the same environment variable, working directory and stdout logging),
then serves it. The stdlib server behind it listens with a backlog of 5: a burst of 50
concurrent clients had connections reset before a thread could accept them (#11), which
API Gateway never does. ``raise_listen_backlog`` calls ``listen()`` again on the bound
socket with a larger backlog — Linux and macOS apply the new value to a listening socket.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from devtools import lifeline
from devtools.local_gateway import patch

ROOT = Path(__file__).resolve().parent.parent
LISTEN_BACKLOG = 256   # the kernel caps it at net.core.somaxconn (4096 on current Linux)


def raise_listen_backlog(local_server, backlog: int = LISTEN_BACKLOG) -> None:
    """Let the kernel queue ``backlog`` connections for ``chalice local``'s server (a ``LocalDevServer``).

    Uses only public attributes: ``LocalDevServer.server`` (the ``socketserver`` server) and its
    ``socket``; written against chalice 1.34. If a chalice upgrade changes that shape, fail
    here, loudly, rather than serve bursts with a backlog of 5 again.
    """
    server = getattr(local_server, "server", None)
    sock = getattr(server, "socket", None)
    if sock is None or not hasattr(sock, "listen"):
        import chalice
        raise RuntimeError(f"chalice {chalice.__version__}: LocalDevServer no longer exposes .server.socket "
                           "(written for chalice 1.34); update devtools/chalice_local.raise_listen_backlog")
    server.request_queue_size = backlog   # socketserver's documented attribute, for anything that re-listens
    sock.listen(backlog)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="chalice local with the deployed gateway responses")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default="dev")
    args = parser.parse_args(argv)
    lifeline.exit_with_parent()

    patch()
    from chalice.cli import create_local_server
    from chalice.cli.factory import CLIFactory

    # what the chalice CLI does before `local`
    os.environ["AWS_CHALICE_CLI_MODE"] = "true"
    os.chdir(ROOT)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    server = create_local_server(CLIFactory(str(ROOT), environ=os.environ), args.host, args.port, args.stage)
    raise_listen_backlog(server)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
