"""The incident banner on the agent's 工单 page (#24 item 5): a 工单 grouped under a settlement incident says so
before anything else — which failure (kind), where (the issuer, platform or biller), since when, how many 工单
it groups, whether the lead's one reply already went out (and reached this 工单) — with a link to
``/agent/incidents/<id>``. Staff wording only: the owner's pages never show it (the owner is told through the
lead's reply in the 工单 and the assistant's ``Incident.user_sentence``)."""
from __future__ import annotations

from chalicelib.escalation import incident_model
from chalicelib.escalation import service as escalation
from chalicelib.kernel import refusals
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.schema import as_body

# the recorded reason of the incident's reply in a 工单 (follow_rules.incident_reply)
REPLY_REASON = "故障事件统一答复"


def banner(actor: Actor, case: dict) -> dict | None:
    """What the banner shows for the 工单 ``case`` (its staff view), or None when it belongs to no incident."""
    incident_id = case.get("incident_id")
    if not incident_id:
        return None
    try:
        incident = as_body(escalation.get_incident(actor, incident_id))   # one Query of its 工单 (by_incident)
    except refusals.Missing:
        return None
    replies = incident.get("replies") or []
    return {"id": incident_id, "kind": incident_model.REASONS.get(incident["reason"], incident["reason"]),
            "scope": f"{incident_model.SOURCE_TITLES.get(incident['source_kind'], '')} {incident['source']}".strip(),
            "since": incident["opened_at"], "cases": len(incident.get("cases") or []),
            "failures": incident["failures"], "open": incident["status"] == "open",
            "answered": bool(replies), "last_reply": replies[-1]["at"] if replies else None,
            "reached_here": any(e.get("reason") == REPLY_REASON for e in case.get("timeline") or ())}
