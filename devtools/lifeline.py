"""A process of the local stack ends when the process that started it is gone.

``make serve`` (``devtools.serve``) and the tests stop the stack's processes themselves
(``LocalStack.stop``); this is for when they cannot: the supervisor was killed with SIGKILL, or
crashed. Its children would otherwise be adopted by init and keep their ports (#21).
A thread checks once a second whether this process has been given another parent.
"""
from __future__ import annotations

import os
import sys
import threading
import time


def exit_with_parent(interval: float = 1.0) -> None:
    """Exit (status 1, without cleanup: nothing here needs it) once our parent process has gone."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                with_flush()
                os._exit(1)
    if parent != 1:
        threading.Thread(target=watch, name="lifeline", daemon=True).start()


def with_flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
