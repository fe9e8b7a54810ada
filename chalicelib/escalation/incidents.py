"""Settlement incidents from the data (#24 item 5): count, open once, group, alert once, one reply, close.

- ``on_outcome`` (the repayment-events consumer, ``following.hear_repayment``): a failure of an incident kind
  (``incident_model.REASONS``) is counted once in its source's window bucket (a conditional member put and an
  atomic ADD in one transaction); at ``incident_threshold`` the incident opens — a conditional create of the
  source's active pointer, so once however many workers pass the threshold together — with the team's alert
  in the same transaction (so the team is alerted once), and the open 工单 of every repayment counted in the
  bucket are grouped under it. A later failure of the same kind counts on the open incident and its 工单 join.
- ``reply_all``: a lead's one reply, recorded on the incident once per (lead, Idempotency-Key) and sent to every
  grouped 工单 still open as a support reply — once each (``follow_rules.incident_reply``): repeating the
  request completes a fan-out that stopped half way and sends nothing twice.
- ``close`` (a lead) and ``close_quiet`` (the escalation sweep: no failure for ``incident_quiet_minutes``).
- ``incident_for_repayment``: the open incident behind a failed repayment, if any, with the sentence to tell
  its owner (the assistant uses it instead of suggesting a retry that will fail).
"""
from __future__ import annotations

import hashlib

from chalicelib.adapters import idempotency, outbox
from chalicelib.escalation import casework, follow_rules, hours, incident_model, repository, show
from chalicelib.escalation import steps as step_defs
from chalicelib.escalation.incident_model import Incident
from chalicelib.escalation.incident_schemas import IncidentList, IncidentReplied, IncidentView
from chalicelib.escalation.model import Case, RuleViolation
from chalicelib.escalation.store import VersionConflict
from chalicelib.kernel import refusals
from chalicelib.kernel.actor import SENIOR_SUPPORT, Actor
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import logger, metric

NOT_FOUND = "找不到该故障事件。"
ATTEMPTS = 3


# ---------------------------------------------------------------- from the data
def _facts(repayment) -> tuple[str, str, dict, str | None]:
    """(status, kind, payee, failure reason) of a repay model, a repay view or an event dict."""
    get = repayment.get if isinstance(repayment, dict) else (lambda name: getattr(repayment, name, None))
    failure = get("failure")
    reason = get("failure_reason") or get("reason") or (
        failure.get("reason") if isinstance(failure, dict) else getattr(failure, "reason", None)
        or getattr(failure, "code", None))
    payee = get("payee")
    payee = payee if isinstance(payee, dict) else {}   # a view's payee is masked text: no name to group by
    return str(get("status") or ""), str(get("kind") or payee.get("kind") or ""), payee, reason


def incident_for_repayment(repayment) -> Incident | None:
    """The open incident explaining this repayment's failure (``Incident.user_sentence`` says it to its
    owner), or None. ``repayment``: repay's ``Repayment`` or its view (``repay.service.get``)."""
    status, kind, payee, reason = _facts(repayment)
    source = incident_model.source_of(kind, payee)
    if status != "failed" or reason not in incident_model.REASONS or source is None:
        return None
    found = repository.incidents().active(incident_model.source_key(reason, *source))
    incident = repository.incidents().get(found) if found else None
    return incident if incident and incident.status == "open" else None


def on_outcome(ctx: Context, event: dict) -> Incident | None:
    """Count a failed settlement towards its source's incident; the open incident it belongs to, if any."""
    if event.get("event") != "failed" or event.get("reason") not in incident_model.REASONS:
        return None
    source = incident_model.source_of(str(event.get("kind") or ""), event.get("payee") or {})
    if source is None:
        return None
    cfg, store = ctx.settings, repository.incidents()
    key = incident_model.source_key(event["reason"], *source)
    bucket = incident_model.bucket(ctx.now, cfg.incident_window_minutes)
    count = store.count_failure(key, bucket, f"{event['repayment_id']}#{int(event['attempt'])}")
    active = store.active(key)
    if active:
        incident = store.get(active)
        if incident is not None and count is not None:
            incident = _touch(ctx, incident)
        return incident
    if count is None or count < cfg.incident_threshold:
        return None
    incident = incident_model.open_incident(reason=event["reason"], source_kind=source[0], source=source[1],
                                            failures=count, now=ctx.now)
    if not store.create(incident, alert(incident, ctx)):
        found = store.active(key)
        return store.get(found) if found else None
    logger.info("settlement incident opened", extra={"incident_id": incident.incident_id, "reason": incident.reason,
                                                     "failures": count})
    metric("IncidentOpened", reason=incident.reason)
    for member in store.members(key, bucket):
        for case in repository.store().open_cases_of_repayment(member.rpartition("#")[0]):
            _group(ctx, case, incident)
    return incident


def _touch(ctx: Context, incident: Incident) -> Incident:
    store = repository.incidents()
    for _ in range(ATTEMPTS):
        try:
            new = incident_model.touch(incident, ctx.now)
            store.save(new, expected_version=incident.version)
            return new
        except RuleViolation:
            return incident
        except VersionConflict:
            incident = store.get(incident.incident_id) or incident
    return incident


def alert(incident: Incident, ctx: Context) -> list[outbox.Message]:
    """The senior team's alert (its topic → queue, and its inbox), ids derived from the incident: sent once."""
    cfg, step = ctx.settings, step_defs.get("senior")
    url = f"{cfg.public_base_url}/agent/incidents/{incident.incident_id}"
    payload = {"event": "incident.opened", "incident_id": incident.incident_id, "reason": incident.reason,
               "source": incident.source, "failures": incident.failures, "url": url}
    body = (f"故障事件 {incident.incident_id}：{incident.title}。\n{incident.failures} 笔还款在 "
            f"{cfg.incident_window_minutes} 分钟内因同一原因失败，相关工单已归入该事件。\n统一答复：{url}")
    return [outbox.Message(channel="sns", target=step.topic(cfg), body=outbox.as_json(payload),
                           message_id=f"{incident.incident_id}-sns-opened"),
            outbox.Message(channel="email", target=step.team_email(cfg), subject=f"[P1] 故障事件 {incident.title}",
                           body=body, message_id=f"{incident.incident_id}-email-opened")]


def grouped(case: Case, ctx: Context, incident: Incident) -> Case:
    """``case`` grouped under ``incident`` (unchanged if it is already, or closed)."""
    try:
        return follow_rules.group(case, ctx.now, incident_id=incident.incident_id, title=incident.title)
    except RuleViolation:
        return case


def _group(ctx: Context, case: Case, incident: Incident) -> None:
    for _ in range(ATTEMPTS):
        new = grouped(case, ctx, incident)
        if new is case:
            return
        try:
            casework.commit(case, new, ctx=ctx)
            return
        except VersionConflict:
            case = repository.store().get(case.case_id) or case


# ---------------------------------------------------------------- the workspace: list, read, reply, close
def _load(actor: Actor, incident_id: str) -> Incident:
    casework.require_staff(actor)
    incident = repository.incidents().get(incident_id) if incident_id.startswith("INC-") else None
    if incident is None:
        raise refusals.Missing(NOT_FOUND, code="incident_not_found")
    return incident


def _require_lead(actor: Actor) -> None:
    if not actor.has_role(SENIOR_SUPPORT):
        raise refusals.NotAllowed("统一答复和关闭故障事件需要高级客服（senior-support）。", code="forbidden_role")


def view(incident: Incident, *, cases: list[Case] | None = None) -> IncidentView:
    return IncidentView.model_validate(dict(
        incident_id=incident.incident_id, title=incident.title, reason=incident.reason,
        source_kind=incident.source_kind, source=incident.source, status=incident.status,
        opened_at=incident.opened_at, last_failure_at=incident.last_failure_at, failures=incident.failures,
        closed_at=incident.closed_at, closed_by=incident.closed_by, user_sentence=incident.user_sentence,
        replies=[{"at": r["at"], "text": r["text"], "by_name": r.get("by_name")} for r in incident.replies],
        cases=None if cases is None else [show.summary(c, staff=True) for c in cases]))


def list_incidents(actor: Actor) -> IncidentList:
    casework.require_staff(actor)
    return IncidentList(items=[view(i) for i in repository.incidents().recent()])


def get_incident(actor: Actor, incident_id: str) -> IncidentView:
    incident = _load(actor, incident_id)
    return view(incident, cases=repository.store().cases_of_incident(incident.incident_id))


def reply_all(actor: Actor, ctx: Context, incident_id: str, text: str, idempotency_key: str | None) -> IncidentReplied:
    """The lead's one reply to every grouped 工单 still open; once per (lead, key), once per 工单."""
    key = idempotency.validate_key(idempotency_key)
    incident = _load(actor, incident_id)
    _require_lead(actor)
    reply_id = hashlib.sha256(f"{actor.user_id}\n{key}".encode()).hexdigest()[:16]
    store = repository.incidents()
    for _ in range(ATTEMPTS):
        try:
            new = incident_model.add_reply(incident, ctx.now, reply_id=reply_id, text=text, by_name=actor.username)
        except RuleViolation as exc:
            raise casework.conflict(exc, ctx) from None
        if new is incident:
            break
        try:
            store.save(new, expected_version=incident.version)
            break
        except VersionConflict:
            incident = _load(actor, incident_id)
    else:
        raise refusals.Conflicting("故障事件刚刚发生了变化，请重试。", code="version_conflict")
    text = next(r["text"] for r in (store.get(incident_id) or new).replies if r["id"] == reply_id)
    done = {"reached": 0, "already": 0, "skipped": 0}
    for case in repository.store().cases_of_incident(incident_id):
        done[_send_reply(actor, ctx, case, reply_id, text)] += 1
    metric("IncidentReplied", reached=str(done["reached"]))
    return IncidentReplied(incident_id=incident_id, reply_id=reply_id, **done)


def _send_reply(actor: Actor, ctx: Context, case: Case, reply_id: str, text: str) -> str:
    clocks = hours.clocks(ctx.settings)
    for _ in range(ATTEMPTS):
        if case.status in ("resolved", "closed"):
            return "skipped"
        try:
            new = follow_rules.incident_reply(case, ctx.now, reply_id=reply_id, clocks=clocks, by=actor.user_id,
                                              by_name=actor.username)
        except RuleViolation:
            return "already"
        try:
            casework.commit(case, new, ctx=ctx, said=(casework.entry(ctx, "support", text),))
            return "reached"
        except VersionConflict:
            case = repository.store().get(case.case_id) or case
    return "skipped"


def close(actor: Actor, ctx: Context, incident_id: str) -> IncidentView:
    incident = _load(actor, incident_id)
    _require_lead(actor)
    try:
        new = incident_model.close(incident, ctx.now, by_name=actor.username)
        repository.incidents().save(new, expected_version=incident.version)
    except RuleViolation as exc:
        raise casework.conflict(exc, ctx) from None
    except VersionConflict:
        raise refusals.Conflicting("故障事件刚刚发生了变化，请刷新后重试。", code="version_conflict") from None
    return view(new, cases=repository.store().cases_of_incident(incident_id))


def close_quiet(ctx: Context) -> int:
    """Close the open incidents with no failure for ``incident_quiet_minutes`` (the sweep); how many."""
    closed = 0
    for incident in repository.incidents().recent():
        if incident_model.quiet(incident, ctx.now, ctx.settings.incident_quiet_minutes):
            try:
                repository.incidents().save(incident_model.close(incident, ctx.now, by_name="system"),
                                            expected_version=incident.version)
                closed += 1
            except (RuleViolation, VersionConflict):
                continue   # a failure or a lead moved it meanwhile: the next sweep looks again
    return closed

