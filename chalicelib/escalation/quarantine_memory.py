"""The quarantine in memory: ``quarantine_store.py``'s interface and conditions without AWS (the fast tier).
``decide_element`` gives a ``Change`` that ``memory.MemoryStore.save`` checks and applies with the 工单."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from chalicelib.adapters.unit_of_work import LOCK, Change
from chalicelib.escalation.cursors import cursor_text
from chalicelib.escalation.quarantine_store import Quarantined, encode, fits


@dataclass
class MemoryQuarantine:
    held: dict[str, Quarantined] = field(default_factory=dict)

    def hold(self, record: Quarantined) -> None:
        with LOCK:
            self.held.setdefault(record.qid, record)

    def get(self, qid: str) -> Quarantined | None:
        return self.held.get(qid)

    def page(self, limit: int, cursor: str | None) -> tuple[list[Quarantined], str | None]:
        after = cursor_text(cursor, fits) if cursor else None
        newest = sorted((r for r in self.held.values() if after is None or r.qid < after),
                        key=lambda r: r.qid, reverse=True)
        shown = newest[:limit]
        return shown, (encode(shown[-1].qid) if len(newest) > limit else None)

    def decide_element(self, qid: str, status: str, by: str, at: str) -> dict:
        def holds() -> bool:
            return qid in self.held and self.held[qid].status == "held"

        def apply() -> None:
            self.held[qid] = dataclasses.replace(self.held[qid], status=status, decided_by=by, decided_at=at)
        return {"Change": Change(holds, apply)}

    def decide(self, qid: str, status: str, by: str, at: str) -> bool:
        with LOCK:
            change = self.decide_element(qid, status, by, at)["Change"]
            if not change.holds():
                return False
            change.apply()
            return True
