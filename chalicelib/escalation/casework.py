"""What every escalation use case does around its one rule: the package's one shared helper.

A use case reads top to bottom::

    case = casework.load_own(actor, case_id)              # load, under the read/act rules
    new = model.confirm(case, ctx.now, ...)               # one rule of model.py (RuleViolation → 409)
    return casework.save(ctx, case, new, ...).outcome()   # store.save: conditional on the version read

``save`` writes the new version *conditionally* on the one read, together with its outbox messages, its
conversation entries, its report events and SLA breaches (``analytics.on_commit``) and — under an
Idempotency-Key — the caller's answer, in one transaction; the messages are then delivered at once. A lost
race is a 409 for a person (and a no-op for the sweep), so a case moves once however many triggers fire.
``once`` runs a use case once per (caller, Idempotency-Key) and turns a rule's refusal into its 409.

Who may read a case, whichever door asks (JSON API, workspace, 「我的工单」): its owner; staff who may work
its step (a frontline agent gets 403 on a senior case, its notes included, as on acting on it); anyone
else 404 (never reveal that it exists).
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from chalicelib.adapters import idempotency, outbox
from chalicelib.escalation import (
    agent_loads,
    analytics,
    hours,
    model,
    notifications,
    placement,
    repository,
    schemas,
    show,
)
from chalicelib.escalation import steps as step_defs
from chalicelib.escalation.model import Case, RuleViolation
from chalicelib.escalation.store import ElementFailed, StoreFailed, VersionConflict
from chalicelib.kernel import clock, refusals
from chalicelib.kernel.actor import SENIOR_SUPPORT, Actor
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import logger
from chalicelib.kernel.schema import as_body

_REFERENCE = re.compile(model.REFERENCE_PATTERN)
NOT_FOUND = "找不到该工单（编号有误，或不是您的工单）。"
WORDING = idempotency.Wording(reused="这个 Idempotency-Key 已用于另一个不同的操作，请为新的操作使用新的 Key。",
                              in_progress="同一个操作正在处理中，请稍后刷新查看结果，不要重复提交。")
# A DynamoDB item holds at most 400 KB: an answer larger than this (a case with a very long
# conversation) is not written in the case's transaction; ``idempotency.run`` stores it afterwards
# if it can (and logs if not), so the change still answers instead of failing.
MAX_ANSWER_BYTES = 300_000


# ---------------------------------------------------------------- load, under the read/act rules
def load(case_id: str) -> Case:
    if not _REFERENCE.match(case_id or ""):
        raise refusals.Missing(NOT_FOUND, code="case_not_found")
    case = repository.store().get(case_id)
    if case is None:
        raise refusals.Missing(NOT_FOUND, code="case_not_found")
    return case


def load_visible(actor: Actor, case_id: str) -> Case:
    """A case its owner, or staff who may work its step, may read; anyone else: 404."""
    case = load(case_id)
    if case.user_id == actor.user_id:
        return case
    if not actor.is_staff:
        raise refusals.Missing(NOT_FOUND, code="case_not_found")
    require_step_role(actor, case)
    return case


def load_workable(actor: Actor, case_id: str) -> Case:
    """A case ``actor`` may act on as staff (its owner, even if staff, acts only as a user: 403)."""
    case = load_visible(actor, case_id)
    require_step_role(actor, case)
    return case


def load_own(actor: Actor, case_id: str) -> Case:
    case = load(case_id)
    if case.user_id != actor.user_id:
        if actor.is_staff:
            raise refusals.NotAllowed("只有提交工单的用户本人可以进行此操作。", code="owner_only")
        raise refusals.Missing(NOT_FOUND, code="case_not_found")
    return case


def require_staff(actor: Actor) -> None:
    if not actor.is_staff:
        raise refusals.NotAllowed("此操作仅限客服人员。", code="forbidden_role")


def may_work(actor: Actor, step: step_defs.Step) -> bool:
    """Frontline agents work frontline cases; later steps need senior-support."""
    return actor.is_staff and (step.role != SENIOR_SUPPORT or actor.has_role(SENIOR_SUPPORT))


def require_step_role(actor: Actor, case: Case) -> None:
    """Staff act on — and read — only the cases of a step they may work (``may_work``)."""
    require_staff(actor)
    if not may_work(actor, case.step_def):
        raise refusals.NotAllowed(f"工单处于「{case.step_def.title}」，需要高级客服（senior-support）处理。",
                                  code="forbidden_role")


# ---------------------------------------------------------------- once per Idempotency-Key
def once(actor: Actor, ctx: Context, key: str | None, scope: str, payload: dict,
         action: Callable[[idempotency.Claim | None], idempotency.Outcome],
         checks: Callable[[], None] = lambda: None) -> idempotency.Outcome:
    """Run ``action(claim)`` once per (caller, key): a repeat replays the first answer, before ``checks``
    (a rate limit) can refuse it. Without a key (where the route makes it optional) the checks and the
    action just run, with no claim. A rule's refusal (``RuleViolation``) answers 409 and frees the key."""
    try:
        return repository.store().once(actor.user_id, key, scope=scope, payload=payload, action=action, wording=WORDING,
                            checks=checks)
    except RuleViolation as exc:
        raise conflict(exc, ctx) from None


def conflict(exc: RuleViolation, ctx: Context) -> refusals.Conflicting:
    if not exc.not_before:
        return refusals.Conflicting(str(exc), code=exc.code)
    wait = math.ceil((clock.parse(exc.not_before) - ctx.now).total_seconds())
    local = notifications.local_time(exc.not_before, ctx.settings.time_zone)
    return refusals.Conflicting(f"{exc}最早可申请升级的时间：{local}。", code=exc.code, retry_after=max(1, wait),
                                details={"not_before": exc.not_before})


# ---------------------------------------------------------------- save
@dataclass(frozen=True)
class Saved:
    view: schemas.CaseView   # the caller's view of the new version
    recorded: bool           # the Idempotency-Key's answer was written in the same transaction
    status: int = 200

    def outcome(self) -> idempotency.Outcome:
        return idempotency.Outcome(self.status, as_body(self.view), recorded=self.recorded)


def answer(claim: idempotency.Claim | None, status: int, view: schemas.CaseView) -> list[dict]:
    """The key's completion as a transaction element (none without a key or when too large)."""
    if claim is None:
        return []
    body = as_body(view)
    if len(json.dumps(body, ensure_ascii=False).encode()) > MAX_ANSWER_BYTES:
        return []
    return [claim.completion(status, body)]


def commit(old: Case | None, new: Case, messages: Sequence[outbox.Message] = (), *, ctx: Context | None = None,
           said: tuple[dict, ...] = (), extra: Sequence[dict] = (), round_robin: bool = False,
           settle: bool = True) -> Case:
    """``store.save`` of ``new`` over ``old`` (None: a new case) with its messages, the conversation entries
    ``said``, the agents' load moves (``agent_loads``) and, given the moment (``ctx``), its report events and
    the SLA breaches now due (#15). Then (``settle``) the assignment follows: a case entering a step's pool
    is placed round-robin, an agent the change gave room to pulls from the pool (``placement``)."""
    recorded: list[dict] = []
    if ctx is not None:
        new, recorded = analytics.on_commit(old, new, ctx.now, hours.clocks(ctx.settings))
    loads = agent_loads.moves(old, new, round_robin=round_robin)
    repository.store().save(new, expected_version=old.version if old else None, messages=list(messages),
                 conversation=[("MSG", entry) for entry in said], extra=[*extra, *recorded, *loads])
    if settle and ctx is not None:
        new = _settle(ctx, old, new)
    return new


def _settle(ctx: Context, old: Case | None, new: Case) -> Case:
    """The round-robin after a change; never fails the change itself (a lost placement waits in the pool)."""
    try:
        entered = placement.waiting(new) and (old is None or not placement.waiting(old) or old.step != new.step)
        placed = placement.place(ctx, new, commit) if entered else new
        if (agent := agent_loads.freed(old, new)) is not None:
            placement.pull(ctx, agent, commit)
        return placed
    except (refusals.Busy, StoreFailed, VersionConflict, ElementFailed) as exc:
        logger.warning("assignment deferred", extra={"case_id": new.case_id, "error": type(exc).__name__})
        return new


def save(ctx: Context, old: Case, new: Case, *, staff: bool, claim: idempotency.Claim | None = None,
         messages: Sequence[outbox.Message] = (), said: tuple[dict, ...] = ()) -> Saved:
    """Commit ``new`` with the caller's view of it (and, under an Idempotency-Key, that view as the key's
    answer, in the same transaction). ``said``: conversation entries the transaction writes (the view shows
    them before they can be read back). A lost race is a 409."""
    view = show.case_view(ctx, new, staff=staff, added=said)
    answered = answer(claim, 200, view)
    try:
        commit(old, new, messages, ctx=ctx, said=said, extra=answered)
    except VersionConflict:
        raise refusals.Conflicting("工单状态刚刚发生了变化，请刷新后重试。", code="version_conflict") from None
    except ElementFailed:  # the key's claim lapsed and another request holds it now
        raise WORDING.in_progress_error() from None
    return Saved(view, bool(answered))


def entry(ctx: Context, author: str, text: str, **more) -> dict:
    """A conversation entry written now (``author``: user | support)."""
    return {"at": model.iso(ctx.now), "author": author, "text": text, **more}
