"""Support that follows the money (#24 item 5), the 工单 side: a 工单 hears its repayment, the owner says
whether that solves it, and priority follows the due date (rules: ``follow_rules.py``; incidents:
``incidents.py``).

``hear_repayment`` is the consumer of the repayment-events queue: repay's settlement worker adds one event
per outcome (settled / failed / delayed) to the outbox in the same transaction as the move
(``chalicelib/repay/settlement.py``), the outbox delivers it at least once, and here each open 工单 linked to
the repayment (``by_repayment`` index, no Scan) gets one system message — conditional on the version read,
and once per update key, so a redelivered event adds nothing.
"""
from __future__ import annotations

import json

from chalicelib.adapters import idempotency
from chalicelib.escalation import casework, follow_rules, hours, incidents, repository
from chalicelib.escalation.incident_model import Incident
from chalicelib.escalation.model import Case, RuleViolation, iso
from chalicelib.escalation.store import VersionConflict
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import logger, metric

ATTEMPTS = 3   # a lost race (another move of the same 工单) is read again and retried this often


def parse_event(body: str) -> dict | None:
    """A repayment event as repay publishes it, or None (malformed: logged and dropped)."""
    try:
        event = json.loads(body)
        if not isinstance(event, dict) or event.get("event") not in follow_rules.EVENTS:
            return None
        if not all(isinstance(event.get(k), str) and event[k] for k in ("repayment_id", "user_id", "text")):
            return None
        int(event["attempt"])
    except (ValueError, KeyError, TypeError):
        return None
    return event


def hear_repayment(ctx: Context, body: str) -> dict[str, int]:
    """One repayment event: counted towards incidents (a failure), then heard by each open linked 工单.
    How many 工单 heard it, had heard it already, or could not be written (the queue redelivers)."""
    event = parse_event(body)
    done = {"heard": 0, "already": 0, "skipped": 0}
    if event is None:
        logger.error("malformed repayment event dropped")
        metric("RepaymentEventMalformed")
        return done
    incident = incidents.on_outcome(ctx, event)
    for case in repository.store().open_cases_of_repayment(event["repayment_id"]):
        if case.user_id != event["user_id"]:
            continue   # a 工单 only ever links its owner's repayment; never tell another user
        done[_hear(ctx, case, event, incident)] += 1
    if done["skipped"]:
        raise VersionConflict(event["repayment_id"])   # the message comes back; heard 工单 are skipped then
    return done


def _hear(ctx: Context, case: Case, event: dict, incident: Incident | None) -> str:
    key = follow_rules.update_key(event["repayment_id"], int(event["attempt"]), event["event"])
    for _ in range(ATTEMPTS):
        try:
            new = follow_rules.hear(case, ctx.now, key=key, event=event["event"])
        except RuleViolation:
            return "already"
        if incident is not None and event["event"] == "failed":
            new = incidents.grouped(new, ctx, incident)
        said = ({"at": iso(ctx.now), "author": "system", "text": event["text"], "kind": "repayment_update",
                 "link": event.get("receipt_url")},)
        try:
            casework.commit(case, new, ctx=ctx, said=said)
        except VersionConflict:
            found = repository.store().get(case.case_id)
            if found is None:
                return "skipped"
            case = found
            continue
        metric("CaseHeardRepayment", outcome=event["event"])
        return "heard"
    return "skipped"


def answer_update(actor: Actor, ctx: Context, case_id: str, solved: bool,
                  idempotency_key: str | None) -> idempotency.Outcome:
    """The owner answers whether the repayment update solves the problem (solved: the 工单 closes with their
    consent on the timeline; not solved: it stays with its team). Once per Idempotency-Key."""
    def action(claim: idempotency.Claim | None) -> idempotency.Outcome:
        case = casework.load_own(actor, case_id)
        new = follow_rules.answer_update(case, ctx.now, solved=solved)
        return casework.save(ctx, case, new, staff=False, claim=claim).outcome()

    return casework.once(actor, ctx, idempotency_key, "case_update_answer", {"case_id": case_id, "solved": solved},
                         action)


# ---------------------------------------------------------------- due dates
def due_at_of(repayment, time_zone: str) -> str | None:
    """The due moment of a repayment (a repay view or model with ``due_date``), if it has a due date."""
    due_date = getattr(repayment, "due_date", None)
    if not due_date:
        return None
    return iso(follow_rules.due_moment(str(due_date)[:10], time_zone))


def on_open(case: Case, ctx: Context, repayment) -> Case:
    """A new 工单 about ``repayment``: its due date (priority, deadline) and an open incident (grouped)."""
    if repayment is None:
        return case
    due_at = due_at_of(repayment, ctx.settings.time_zone)
    if due_at:
        case = follow_rules.with_due(case, due_at, ctx.now, hours.clocks(ctx.settings))
    incident = incidents.incident_for_repayment(repayment)
    return incidents.grouped(case, ctx, incident) if incident else case


def raise_due(ctx: Context, case: Case) -> str:
    """The sweep's ``raise``: the due date came near after the 工单 was opened."""
    casework.commit(case, follow_rules.raise_for_due(case, ctx.now, hours.clocks(ctx.settings)), ctx=ctx)
    return "raised"
