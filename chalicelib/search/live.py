"""The live index in an API container: look at the pointer at most every ``KB_LIVE_REFRESH_SECONDS``, on a
background thread, and hand a newer build's index to the search service, which swaps it in with one
reference assignment (``service._install``): a search holds the index it started with, so it never waits
and never sees a mixed index; the old one is dropped when its last search ends.

The packaged index stays the cold-start fallback: a container's first search only arms the check (no
boto3, no network on the cold path); the fetch starts with a later search. ``Refresher.step`` is one look
(tests call it directly with an injected clock instead of waiting for the thread).
"""
from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from chalicelib.kernel.logs import logger, metric
from chalicelib.search import live_store
from chalicelib.search.index import KbIndex

KEEP_FOLDERS = 2   # the live build's folder and the one before (searches still running on it)


def _fetch(pointer: dict, into: Path) -> KbIndex:
    """Download a build's archive, unpack it into ``into`` and open it, warmed (a first search pays nothing)."""
    archive = live_store.current().get_archive(pointer["key"])
    index = KbIndex(unpack(archive, into))
    index.search("还款")   # reads the field lengths and a few postings here, off the request path
    _ = index.learned
    return index


def unpack(archive: bytes, into: Path) -> Path:
    """Extract a build's archive into a new folder ``into`` (regular files only, no path outside it)."""
    into.mkdir(parents=True, exist_ok=False)
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        tar.extractall(into, filter="data")
    return into


class Refresher:
    def __init__(self, *, interval: float, install: Callable[[KbIndex, dict], None],
                 now: Callable[[], float] = time.monotonic, root: Path | None = None,
                 fetch: Callable[[dict, Path], KbIndex] = _fetch):
        self.interval, self.install, self.now, self.fetch = interval, install, now, fetch
        self.root = root or Path(tempfile.gettempdir()) / f"kb-live-{os.getpid()}"   # this container's own
        self.seq = 0                     # the build this container serves (0: the packaged index)
        self.next_check: float | None = None
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()
        self.folders: list[Path] = []

    def maybe_start(self) -> None:
        """On each use of the index: start a look at the pointer on a background thread when one is due."""
        if self.interval <= 0:
            return
        now = self.now()
        if self.next_check is None:        # the container's first search only arms the check
            self.next_check = now
            return
        if now < self.next_check:
            return
        with self.lock:
            if now < self.next_check or (self.thread is not None and self.thread.is_alive()):
                return
            self.next_check = now + self.interval
            self.thread = threading.Thread(target=self.step, name="kb-live", daemon=True)
            self.thread.start()

    def step(self) -> bool:
        """One look: a newer build than this container serves is fetched and installed. True if swapped.
        Any failure keeps the index in use (logged); the next look tries again."""
        try:
            pointer = live_store.current().live()
            if pointer is None or int(pointer["seq"]) <= self.seq:
                return False
            folder = self.root / f"{int(pointer['seq']):010d}-{pointer['build_id']}"
            if folder.exists():       # a look that failed half-way
                shutil.rmtree(folder, ignore_errors=True)
            index = self.fetch(pointer, folder)
            self.install(index, pointer)
            self.seq = int(pointer["seq"])
            self.folders.append(folder)
            for old in self.folders[:-KEEP_FOLDERS]:
                shutil.rmtree(old, ignore_errors=True)
            self.folders = self.folders[-KEEP_FOLDERS:]
            metric("KbLiveSwap")
            logger.info("kb live index installed", extra={"seq": self.seq, "build": pointer["build_id"],
                                                          "articles": index.doc_count})
            return True
        except Exception:
            logger.warning("kb live index not refreshed", exc_info=True)
            return False

    def wait(self) -> None:
        """Wait for a look in progress (tests, benchmarks)."""
        if self.thread is not None:
            self.thread.join()

    def forget(self) -> None:
        self.wait()
        for old in self.folders:
            shutil.rmtree(old, ignore_errors=True)
        self.folders, self.seq, self.next_check = [], 0, None
