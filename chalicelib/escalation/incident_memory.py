"""``incident_store.py`` in memory (the fast unit tier): the same interface and conditions — a failure counted
once, one open incident per source and reason, writes over the version read. ``sent`` keeps the alert
messages of incidents that opened, for tests to read."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from chalicelib.adapters import outbox
from chalicelib.escalation.incident_model import Incident
from chalicelib.escalation.store import VersionConflict


@dataclass
class IncidentMemory:
    windows: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    pointers: dict[str, str] = field(default_factory=dict)
    incidents: dict[str, Incident] = field(default_factory=dict)
    sent: list[outbox.Message] = field(default_factory=list)

    def count_failure(self, key: str, bucket: str, member: str) -> int | None:
        counted = self.windows.setdefault((key, bucket), [])
        if member in counted:
            return None
        counted.append(member)
        return len(counted)

    def members(self, key: str, bucket: str) -> list[str]:
        return sorted(self.windows.get((key, bucket), []))

    def active(self, key: str) -> str | None:
        return self.pointers.get(key)

    def create(self, incident: Incident, messages: Sequence[outbox.Message] = ()) -> bool:
        if incident.key in self.pointers or incident.incident_id in self.incidents:
            return False
        self.pointers[incident.key] = incident.incident_id
        self.incidents[incident.incident_id] = incident
        self.sent.extend(messages)
        return True

    def get(self, incident_id: str) -> Incident | None:
        return self.incidents.get(incident_id)

    def save(self, incident: Incident, *, expected_version: int) -> None:
        stored = self.incidents.get(incident.incident_id)
        if stored is None or stored.version != expected_version:
            raise VersionConflict(incident.incident_id)
        if incident.status == "closed":
            if self.pointers.get(incident.key) != incident.incident_id:
                raise VersionConflict(incident.incident_id)
            del self.pointers[incident.key]
        self.incidents[incident.incident_id] = incident

    def recent(self, limit: int = 50) -> list[Incident]:
        return sorted(self.incidents.values(), key=lambda i: i.incident_id, reverse=True)[:limit]
