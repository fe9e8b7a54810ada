"""The scheduled sweep: warn a team before its deadline, escalate a lapsed step, close resolved cases after 7 days,
raise a 工单 whose repayment's due date came near (``following.raise_due``), close quiet incidents.

Reads only the ``due`` index. Each action is a conditional write on the version the index returned; if a
person moved the case meanwhile the write fails and the case is left to its new state (a no-op here, where
a person gets a 409). One case that cannot be written does not stall the rest.
"""
from __future__ import annotations

from chalicelib.escalation import casework, following, hours, incidents, model, notifications, repository
from chalicelib.escalation.model import Case, RuleViolation
from chalicelib.escalation.store import StoreFailed, VersionConflict
from chalicelib.kernel import clock
from chalicelib.kernel.clock import isoformat
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import logger, metric


def sweep(ctx: Context, limit: int = 200) -> dict[str, int]:
    """Move every case whose next deadline has come; how many were warned, escalated, flagged overdue
    (final step), closed, skipped (someone moved it first) and failed (to be retried on the next run)."""
    done = {"warned": 0, "escalated": 0, "overdue": 0, "closed": 0, "skipped": 0, "failed": 0}
    for case in repository.store().due_cases(isoformat(ctx.now), limit=limit):
        due = case.due()
        if not due:
            continue
        kind = due[0]
        if kind == "warn" and case.deadline and clock.parse(case.deadline) <= ctx.now:
            kind = "lapse"  # the sweep was late (or the limit is tiny): escalate now, no stale warning
        try:
            moved = _move(ctx, case, kind)
            done[moved] = done.get(moved, 0) + 1   # "raised" appears only when a 工单 was raised
        except (VersionConflict, RuleViolation):
            done["skipped"] += 1  # someone else moved it first; the next run sees the new state
        except StoreFailed as exc:  # throttled or unreachable: one case must not stall the rest
            done["failed"] += 1
            logger.warning("sweep could not move case", extra={"case_id": case.case_id,
                                                               "error": type(exc.__cause__ or exc).__name__})
    quiet = incidents.close_quiet(ctx)
    if quiet:
        done["incidents_closed"] = quiet
    if done["escalated"] or done["warned"] or done["failed"]:
        logger.info("escalation sweep", extra=done)
    return done


def _move(ctx: Context, case: Case, kind: str) -> str:
    """One due action on ``case`` (rule → conditional write); what it counts as."""
    cfg = ctx.settings
    if kind == "raise":
        return following.raise_due(ctx, case)
    if kind == "warn":
        new = model.warn(case, ctx.now)
        casework.commit(case, new, notifications.team_messages(new, "deadline_warning", cfg), ctx=ctx)
        return "warned"
    if kind == "lapse":
        new = model.lapse(case, ctx.now, hours.clocks(cfg))
        if new.step == case.step:  # the final step: its team is told it is late
            casework.commit(case, new, notifications.team_messages(new, "overdue", cfg), ctx=ctx)
            return "overdue"
        casework.commit(case, new, notifications.arrival(new, cfg, created=False, reason=new.timeline[-1]["reason"]),
                        ctx=ctx)
        metric("CaseEscalated", actor="system", step=new.step)
        return "escalated"
    casework.commit(case, model.autoclose(case, ctx.now), ctx=ctx)   # "autoclose"
    return "closed"
