"""What a case change tells the reports: its events and its SLA breaches (issue #15).

``on_commit(old, new, now, clocks)`` returns the case as it must be written (with any breach now
due recorded on it, ``hours.breaches_due``) and the event elements to write in the same
transaction: one ``case.<event>`` per new timeline entry (id ``<ref>-v<version>-<event>``) and one
``breach`` per new breach (id ``<ref>-breach-<key>``). The case's conditional write makes both
happen once. A rating (``Case.csat`` = {"rating", "comment", "at"}, set once when the owner confirms
or rates a closed case) becomes one ``csat`` event (id ``<ref>-csat``) the same way;
``csat_element`` builds it for any other caller.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from chalicelib.adapters import events
from chalicelib.escalation import hours
from chalicelib.escalation.model import Case
from chalicelib.kernel import clock
from chalicelib.kernel.logs import user_hash


def _common(case) -> dict:
    return {"case": case.case_id, "category": case.category, "priority": case.priority}


def on_commit(old: Case | None, new: Case, now: dt.datetime, clocks: hours.Clocks) -> tuple[Case, list[dict]]:
    due = hours.breaches_due(old, new, now, clocks)
    if due:
        new = dataclasses.replace(new, breaches=tuple(new.breaches) + tuple(sorted(due)))
    elements = []
    start = len(old.timeline) if old is not None else 0
    m = hours.measure(new, now, clocks)
    for entry in new.timeline[start:]:
        event = entry.get("event")
        fields = {**_common(new), "step": entry.get("to") or new.step, "from": entry.get("from"),
                  "actor": entry.get("actor")}
        at = clock.parse(entry["at"])
        if entry.get("actor") == "support" and entry.get("by_name"):
            fields["agent"] = entry["by_name"]   # staff user name: the leads' per-agent figures (#25)
        elif event == "reopened" and resolver(new):
            fields["agent"] = resolver(new)      # a reopen counts against whoever resolved it
        if event == "created":
            fields["user"] = user_hash(new.user_id)
            fields["security"] = new.security
        # (``measure`` sets each moment together with its seconds)
        if m.first_response_seconds is not None and m.first_response_at == at and event in hours.ANSWERS \
                and entry.get("actor") == "support":
            fields["first_response_seconds"] = round(m.first_response_seconds)
        if event == "resolved" and m.resolution_seconds is not None and m.resolved_at == at:
            fields["resolution_seconds"] = round(m.resolution_seconds)
        elements.append(events.element(f"case.{event}", at=at, event_id=f"{new.case_id}-v{new.version}-{event}",
                                       **fields))
    rated = getattr(new, "csat", None)  # the owner's rating, set once on the case (branch mycases, #12)
    if rated and not (old is not None and getattr(old, "csat", None)):
        elements.append(csat_element(new, rating=rated["rating"], comment=rated.get("comment"),
                                     now=clock.parse(rated["at"]) if rated.get("at") else now))
    for key in sorted(due):
        elements.append(events.element("breach", at=now, event_id=f"{new.case_id}-breach-{key.replace(':', '-')}",
                                       **_common(new), key=key, **due[key]))
    return new, elements


def resolver(case) -> str | None:
    """The staff user name who last resolved the case (per-agent figures), if any."""
    for entry in reversed(case.timeline):
        if entry.get("event") == "resolved" and entry.get("by_name"):
            return entry["by_name"]
    return None


def csat_element(case, *, rating: int, comment: str | None, now: dt.datetime) -> dict:
    """The ``csat`` event of a rating (1–5) given on ``case``: add it to the confirm's transaction
    (``extra=[...]``); its id makes a repeated rating of the same case count once."""
    if not 1 <= int(rating) <= 5:
        raise ValueError("rating must be 1..5")
    agent = {"agent": resolver(case)} if resolver(case) else {}
    return events.element("csat", at=now, event_id=f"{case.case_id}-csat", **_common(case), step=case.step,
                          rating=int(rating), comment=events.mask(comment), **agent)
