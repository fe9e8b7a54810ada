"""The in-memory twin of the service-notices store (``store.use(InMemoryStatusStore())``): same interface, same
conditions."""
from __future__ import annotations

import datetime as dt

from chalicelib.adapters.unit_of_work import Change
from chalicelib.status.model import Notice


class InMemoryStatusStore:
    def __init__(self) -> None:
        self.notices: dict[str, Notice] = {}
        self.audits: dict[tuple[str, str], dict] = {}
        self.counts: dict[tuple[str, str], int] = {}

    def get(self, notice_id: str) -> Notice | None:
        return self.notices.get(notice_id)

    def current(self, now: dt.datetime, limit: int) -> list[Notice]:
        ahead = sorted((n for n in self.notices.values() if n.ends_at > now), key=lambda n: (n.ends_at, n.id))
        return ahead[:limit]

    def _audit(self, uow, notice: Notice, audit: dict) -> None:
        key = (notice.id, f"{audit['at']}#{audit['action']}")
        uow.add("audit", Change(holds=lambda: key not in self.audits,
                                apply=lambda: self.audits.__setitem__(key, dict(audit))))

    def add(self, uow, notice: Notice, audit: dict) -> None:
        uow.add("notice", Change(holds=lambda: notice.id not in self.notices,
                                 apply=lambda: self.notices.__setitem__(notice.id, notice)))
        self._audit(uow, notice, audit)

    def remove(self, uow, notice: Notice, audit: dict) -> None:
        def apply() -> None:
            del self.notices[notice.id]

        uow.add("notice", Change(holds=lambda: notice.id in self.notices, apply=apply))
        self._audit(uow, notice, audit)

    def audit_of(self, notice_id: str) -> list[dict]:
        return [dict(a) for (nid, _), a in sorted(self.audits.items()) if nid == notice_id]

    def count_deflection(self, day: str, notice_id: str) -> None:
        self.counts[(day, notice_id)] = self.counts.get((day, notice_id), 0) + 1

    def deflections(self, day: str) -> dict[str, int]:
        return {nid: n for (d, nid), n in self.counts.items() if d == day}
