"""The in-memory twin of ``dynamo_store.py``: same interface, same conditions (the fast tier)."""
from __future__ import annotations

from chalicelib.adapters.unit_of_work import Change
from chalicelib.editions.model import Head, Version


class InMemoryEditionsStore:
    def __init__(self) -> None:
        self.heads: dict[str, Head] = {}
        self.versions_of: dict[tuple[str, int], Version] = {}
        self.records_of: dict[tuple[str, int], dict] = {}

    def get_head(self, kind: str) -> Head | None:
        return self.heads.get(kind)

    def get_version(self, kind: str, number: int) -> Version | None:
        return self.versions_of.get((kind, number))

    def versions(self, kind: str, *, limit: int) -> list[Version]:
        found = sorted((v for (k, _), v in self.versions_of.items() if k == kind), key=lambda v: -v.number)
        return found[:limit]

    def records(self, kind: str, *, limit: int) -> list[dict]:
        found = sorted(((rev, r) for (k, rev), r in self.records_of.items() if k == kind), key=lambda p: -p[0])
        return [{"rev": rev, **r} for rev, r in found[:limit]]

    def save_head(self, uow, head: Head, expected_rev: int | None) -> None:
        def holds() -> bool:
            current = self.heads.get(head.kind)
            return current is None if expected_rev is None else current is not None and current.rev == expected_rev

        uow.add("head", Change(holds=holds, apply=lambda: self.heads.__setitem__(head.kind, head)))

    def add_version(self, uow, kind: str, version: Version) -> None:
        key = (kind, version.number)
        uow.add("version", Change(holds=lambda: key not in self.versions_of,
                                  apply=lambda: self.versions_of.__setitem__(key, version)))

    def add_record(self, uow, kind: str, rev: int, record: dict) -> None:
        key = (kind, rev)
        uow.add("record", Change(holds=lambda: key not in self.records_of,
                                 apply=lambda: self.records_of.__setitem__(key, dict(record))))
