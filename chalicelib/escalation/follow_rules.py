"""Rules of support that follows the money (#24 item 5), plain data, no AWS: a 工单 hears its repayment, its
priority and first-response deadline follow the repayment's due date, it is grouped under an incident and
answered by an incident's one reply. Like ``model.py``: each rule returns a new ``Case`` (``version + 1``, one
more timeline entry) or raises ``RuleViolation``; nothing here reads the clock or the settings.

- ``hear``: a repayment update (settled / failed / delayed) as a system entry, once per update key
  (``<repayment>#<attempt>#<event>``): the key is kept on the timeline entry (``ref``), so a redelivered
  event is refused (``already_heard``) and adds nothing. The case keeps the update (``Case.update``) until
  the owner answers whether it solves the problem — the staff queue's marker meanwhile.
- ``answer_update``: the owner's answer: solved → closed with the owner's consent recorded; not solved →
  the question goes away, the case stays with its team.
- ``with_due`` / ``raise_for_due``: a repayment due within ``model.DUE_SOON`` (48 h) or overdue makes the
  工单 P1, and its first-response deadline falls ``DUE_MARGIN`` before the due moment when that is still
  ahead (the sweep raises a 工单 opened earlier when the due date comes near: ``Case.due`` → ``raise``).
- ``group`` / ``incident_reply``: grouped under an incident once; an incident's reply once per reply id.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from chalicelib.escalation import hours
from chalicelib.escalation.model import DUE_SOON, Case, RuleViolation, _entry, _with, iso
from chalicelib.escalation.model import reply as support_reply
from chalicelib.kernel import clock

EVENTS = ("settled", "failed", "delayed")
EVENT_TITLES = {"settled": "已到账", "failed": "未成功", "delayed": "到账延迟"}
DUE_MARGIN = dt.timedelta(hours=1)   # the first response is due this long before the repayment's due moment
QUESTION = "这条还款进展是否已解决您的问题？"


def _has_ref(case: Case, ref: str) -> bool:
    return any(entry.get("ref") == ref for entry in case.timeline)


def _with_ref(case: Case, entry: dict, ref: str, **changes) -> Case:
    return _with(case, {**entry, "ref": ref}, **changes)


# ---------------------------------------------------------------- a 工单 hears its repayment
def update_key(repayment_id: str, attempt: int, event: str) -> str:
    return f"{repayment_id}#{attempt}#{event}"


def hear(case: Case, now: dt.datetime, *, key: str, event: str) -> Case:
    if event not in EVENTS:
        raise ValueError(event)
    if _has_ref(case, key):
        raise RuleViolation("这条还款进展已记录。", "already_heard")
    if case.status == "closed":
        raise RuleViolation("工单已关闭。", "case_closed")
    entry = _entry(now, "repayment_update", "system", reason=f"关联还款{EVENT_TITLES[event]}",
                   from_step=case.step, to_step=case.step)
    asked = case.status in ("open", "waiting_user")
    update = {"key": key, "event": event, "at": iso(now), "asked": asked}
    return _with_ref(case, entry, key, update=update)


def answer_update(case: Case, now: dt.datetime, *, solved: bool) -> Case:
    """The owner answers ``QUESTION``: solved closes the 工单 (their consent on the timeline)."""
    if not case.update or not case.update.get("asked") or case.status not in ("open", "waiting_user"):
        raise RuleViolation("没有待您确认的还款进展。", "no_update_question")
    if not solved:
        entry = _entry(now, "update_not_solved", "user", from_step=case.step, to_step=case.step)
        return _with(case, entry, update=None)
    entry = _entry(now, "solved_by_update", "user", reason="用户确认还款进展已解决问题，同意关闭工单",
                   from_step=case.step, to_step=case.step)
    return _with(case, entry, update=None, status="closed", resolved_at=iso(now), reopen_until=None,
                 deadline=None, warn_at=None, clock_started_at=None)


# ---------------------------------------------------------------- priority and deadline follow the due date
def due_moment(due_date: str, time_zone: str) -> dt.datetime:
    """The end of the due day (local midnight after it), in UTC: paid before it is on time."""
    day = dt.date.fromisoformat(due_date) + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(0), tzinfo=clock.zone(time_zone)).astimezone(dt.UTC)


def due_soon(due_at: str, now: dt.datetime) -> bool:
    return clock.parse(due_at) - now <= DUE_SOON


def capped(deadline: dt.datetime, due_at: str, now: dt.datetime) -> dt.datetime:
    """``deadline``, or ``DUE_MARGIN`` before the due moment if that comes first and is still ahead."""
    cap = clock.parse(due_at) - DUE_MARGIN
    return min(deadline, cap) if cap > now else deadline


def with_due(case: Case, due_at: str, now: dt.datetime, clocks: hours.Clocks) -> Case:
    """A new 工单 about a repayment due at ``due_at``: remembered (for the sweep), raised at once if near."""
    case = dataclasses.replace(case, due_at=due_at)
    return raise_for_due(case, now, clocks) if due_soon(due_at, now) else case


def raise_for_due(case: Case, now: dt.datetime, clocks: hours.Clocks) -> Case:
    if not case.due_at or case.due_raised or not due_soon(case.due_at, now):
        raise RuleViolation("无需提升优先级。", "not_due")
    if case.status not in ("open", "waiting_user"):
        raise RuleViolation("工单已解决或关闭。", "case_not_open")
    local = clock.parse(case.due_at).astimezone(clocks.calendar.zone) - dt.timedelta(days=1)
    overdue = clock.parse(case.due_at) <= now
    reason = (f"关联还款已逾期（还款日 {local:%Y-%m-%d}），" if overdue
              else f"关联还款将于 {local:%Y-%m-%d} 到期，") + "优先级提升为 P1，首次答复时限提前"
    changes: dict = {"priority": "P1", "due_raised": True}
    if case.status == "open" and case.clock_started_at:
        step_clock = clocks.for_step(case.step, security=case.security, priority="P1")
        deadline = capped(step_clock.deadline(clock.parse(case.clock_started_at), case.used_seconds),
                          case.due_at, now)
        if case.deadline:
            deadline = min(deadline, clock.parse(case.deadline))
        warn_at = step_clock.warn_at(clock.parse(case.clock_started_at), case.used_seconds)
        changes.update(deadline=iso(deadline), warn_at=iso(min(warn_at, deadline)))
    entry = _entry(now, "priority_raised", "system", reason=reason, from_step=case.step, to_step=case.step)
    return _with(case, entry, **changes)


# ---------------------------------------------------------------- incidents
def group(case: Case, now: dt.datetime, *, incident_id: str, title: str) -> Case:
    if case.incident_id == incident_id:
        raise RuleViolation("已归入该故障事件。", "already_grouped")
    if case.status == "closed":
        raise RuleViolation("工单已关闭。", "case_closed")
    entry = _entry(now, "incident_grouped", "system", reason=f"归入故障事件 {incident_id}：{title}",
                   from_step=case.step, to_step=case.step)
    return _with(case, entry, incident_id=incident_id)


def incident_reply(case: Case, now: dt.datetime, *, reply_id: str, clocks: hours.Clocks, by: str,
                   by_name: str | None) -> Case:
    """The incident's one reply, as a support reply in this 工单 (meets its step's response), once."""
    ref = f"incident-reply:{reply_id}"
    if _has_ref(case, ref):
        raise RuleViolation("该统一答复已送达。", "already_replied")
    new = support_reply(case, now, clocks=clocks, by=by, await_user=False, by_name=by_name)
    last = {**new.timeline[-1], "ref": ref, "reason": "故障事件统一答复"}
    return dataclasses.replace(new, timeline=new.timeline[:-1] + (last,))
