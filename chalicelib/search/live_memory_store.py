"""The in-memory twin of ``live_store.DynamoLiveStore``: same interface, same conditions (fast tests)."""
from __future__ import annotations

import threading

from chalicelib.search.live_store import SUPERSEDED_TAG


class InMemoryLiveStore:
    def __init__(self) -> None:
        self.seq = 0
        self.builds: dict[str, dict] = {}
        self.pointer: dict | None = None
        self.archives: dict[str, bytes] = {}
        self.tags: dict[str, dict] = {}
        self._lock = threading.Lock()   # a conditional write is atomic, as DynamoDB's is

    def next_seq(self) -> int:
        with self._lock:
            self.seq += 1
            return self.seq

    def put_build(self, record: dict) -> None:
        with self._lock:
            if record["id"] in self.builds:
                raise ValueError(f"build {record['id']} exists")
            self.builds[record["id"]] = dict(record)

    def get_build(self, build_id: str) -> dict | None:
        found = self.builds.get(build_id)
        return dict(found) if found else None

    def set_status(self, build_id: str, status: str, *, expect: tuple[str, ...], **fields) -> bool:
        with self._lock:
            found = self.builds.get(build_id)
            if found is None or found["status"] not in expect:
                return False
            found.update(fields, status=status)
            return True

    def live(self) -> dict | None:
        return dict(self.pointer) if self.pointer else None

    def advance(self, seq: int, build_id: str, key: str, at: str) -> bool:
        with self._lock:
            if self.pointer is not None and not self.pointer["seq"] < seq:
                return False
            self.pointer = {"seq": seq, "build_id": build_id, "key": key, "at": at}
            return True

    def put_archive(self, key: str, body: bytes) -> None:
        self.archives[key] = bytes(body)

    def get_archive(self, key: str) -> bytes:
        return self.archives[key]

    def tag_superseded(self, key: str) -> None:
        self.tags[key] = dict(SUPERSEDED_TAG)
