"""Cases and the rules that move them: plain data, no AWS.

A case sits at one step with one status:

- ``open``          the step's team owes a response; the step clock runs;
- ``waiting_user``  support replied and waits on the user; the clock is paused
                    (a user message resumes it with the time that was left);
- ``resolved``      support resolved it; the user confirms or reopens within 7 days
                    (a reopen returns to the same step with a fresh clock);
- ``closed``        confirmed, or the reopen window passed.

Every change returns a new ``Case`` with ``version + 1`` and one more timeline
entry; the store writes it only if the stored version is still the old one.
Rules are given the moment (``now``) and, where a step clock is involved, the
``hours.Clocks`` to count with: nothing here reads the clock or the settings.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Literal, overload

from chalicelib.escalation import hours, wording
from chalicelib.escalation import steps as step_defs
from chalicelib.kernel import clock

DUE_SOON = dt.timedelta(hours=48)    # a 工单 whose repayment is due within this (or overdue) is raised
STATUS_TITLES = wording.USER_STATUS   # the owner's words; staff views use ``wording.STAFF_STATUS``
ACTORS = ("user", "support", "system")
# Crockford base32: no I, L, O, U — nothing to misread when quoting a reference on the phone.
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_PATTERN = r"^RD-\d{8}-[0-9A-HJKMNP-TV-Z]{4}$"
Status = Literal["open", "waiting_user", "resolved", "closed"]


class RuleViolation(Exception):
    """The requested change is not allowed in the case's current state (→ 409).

    ``not_before`` (ISO time), when set, is the moment the change becomes allowed.
    """

    def __init__(self, message: str, code: str = "invalid_state", not_before: str | None = None):
        super().__init__(message)
        self.code = code
        self.not_before = not_before


def new_reference(now: dt.datetime, tz_name: str) -> str:
    day = now.astimezone(clock.zone(tz_name)).strftime("%Y%m%d")
    return f"RD-{day}-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(4))


@overload
def iso(moment: dt.datetime) -> str: ...
@overload
def iso(moment: None) -> None: ...
def iso(moment: dt.datetime | None) -> str | None:
    return clock.isoformat(moment) if moment else None


def parse(value: str | None) -> dt.datetime | None:
    return clock.parse(value) if value else None


@dataclass(frozen=True)
class Case:
    case_id: str
    user_id: str
    username: str
    category: step_defs.Category
    description: str
    priority: step_defs.Priority
    step: step_defs.StepName
    status: Status
    created_at: str
    repayment_id: str | None = None
    version: int = 0
    step_started_at: str | None = None
    clock_started_at: str | None = None   # when the running clock last (re)started
    used_seconds: float = 0.0             # step clock used before the last pause
    deadline: str | None = None           # None while paused, resolved or closed
    warn_at: str | None = None
    warned: bool = False
    responded: bool = False               # the step's team has replied at this step
    overdue: bool = False                 # final step only: the team was told it is late
    assignee: str | None = None
    resolved_at: str | None = None
    reopen_until: str | None = None
    frozen: bool = False                  # account_security: repayments frozen for this case
    csat: dict | None = None              # the owner's satisfaction: {"rating" 1–5, "comment"?, "at"}; set once
    timeline: tuple[dict, ...] = field(default_factory=tuple)
    breaches: tuple[str, ...] = ()        # SLA breaches recorded once each (hours.breaches_due): step:<step>,
    #                                       first_response, resolution
    # Support that follows the money (``following.py``, docs/escalation.md "Support that follows the money"):
    due_at: str | None = None             # the linked repayment's due moment (end of its due day, UTC ISO)
    due_raised: bool = False              # priority raised because the due date is near (or past)
    update: dict | None = None            # the latest repayment update awaiting the owner's answer (+ staff marker)
    incident_id: str | None = None        # grouped under a settlement incident
    merged_into: str | None = None        # closed by a merge into this reference (``merging.py``)
    merge_undo: dict | None = None        # what an unmerge within 24 h restores (``merging.py``)
    phone4: str | None = None             # the owner's phone's last four digits at opening (search by phone;
    #                                       never the number: ``phones.py``)

    @property
    def security(self) -> bool:
        return self.category == "account_security"

    @property
    def step_def(self) -> step_defs.Step:
        return step_defs.get(self.step)

    def due(self) -> tuple[str, str] | None:
        """(kind, ISO time) of the next thing the sweep must do for this case, if any."""
        step_due = self._step_due()
        if self.status in ("open", "waiting_user") and self.due_at and not self.due_raised:
            raise_at = iso(clock.parse(self.due_at) - DUE_SOON)
            if step_due is None or raise_at < step_due[1]:
                return "raise", raise_at     # the due date comes near: raise the priority (``following``)
        return step_due

    def _step_due(self) -> tuple[str, str] | None:
        if self.status == "open" and self.deadline:
            if self.overdue:  # final step, team already alerted: nothing more for the sweep
                return None
            if not self.warned and self.warn_at and self.warn_at < self.deadline:
                return "warn", self.warn_at
            return "lapse", self.deadline
        if self.status == "resolved" and self.reopen_until:
            return "autoclose", self.reopen_until
        return None


def _entry(now: dt.datetime, event: str, actor: str, *, reason: str = "", from_step: str | None = None,
           to_step: str | None = None, by: str | None = None, by_name: str | None = None) -> dict:
    if actor not in ACTORS:
        raise ValueError(actor)
    entry = {"at": iso(now), "event": event, "actor": actor, "reason": reason,
             "from": from_step, "to": to_step}
    if by:
        entry["by"] = by  # staff user id (internal)
    if by_name:
        entry["by_name"] = by_name  # staff user name (internal): what staff pages show, never the id
    return entry


def _with(case: Case, entry: dict, **changes) -> Case:
    return dataclasses.replace(case, version=case.version + 1, timeline=case.timeline + (entry,), **changes)


def _arrival(case: Case, step_name: str, now: dt.datetime, clocks: hours.Clocks) -> dict:
    step_clock = clocks.for_step(step_name, security=case.security, priority=case.priority)
    return dict(step=step_name, status="open", step_started_at=iso(now), clock_started_at=iso(now),
                used_seconds=0.0, deadline=iso(step_clock.deadline(now)), warn_at=iso(step_clock.warn_at(now)),
                warned=False, responded=False, overdue=False, assignee=None, resolved_at=None, reopen_until=None)


def open_case(*, case_id: str, user_id: str, username: str, category: step_defs.Category, description: str,
              repayment_id: str | None, now: dt.datetime, clocks: hours.Clocks) -> Case:
    start = step_defs.START_STEP.get(category, step_defs.STEPS[0].name)
    case = Case(case_id=case_id, user_id=user_id, username=username, category=category,
                description=description, repayment_id=repayment_id, priority=step_defs.PRIORITY[category],
                step=start, status="open", created_at=iso(now), version=0)
    reason = "账户安全工单直接转高级客服处理" if case.security else ""
    entry = _entry(now, "created", "user", reason=reason, to_step=start)
    return dataclasses.replace(case, version=1, timeline=(entry,), **_arrival(case, start, now, clocks),
                               frozen=case.security)


_ANSWERS = ("replied", "paused", "resolved")   # timeline events by which a step's team answered
_ARRIVALS = ("created", "escalated", "reopened")  # events that start a step afresh (``_arrival``)


def answered_at_step(case: Case) -> bool:
    """The current step's team has answered (replied or resolved) since the case last arrived at it."""
    for entry in reversed(case.timeline):
        if entry.get("event") in _ANSWERS and entry.get("actor") == "support":
            return True
        if entry.get("event") in _ARRIVALS:
            return False
    return False


def lapsed(case: Case, now: dt.datetime) -> bool:
    return case.status == "open" and bool(case.deadline and clock.parse(case.deadline) <= now)


def escalate(case: Case, now: dt.datetime, *, clocks: hours.Clocks, actor: str, reason: str,
             by: str | None = None, by_name: str | None = None) -> Case:
    """Move to the next step (user says not solved, support escalates, or the limit lapsed).

    The owner moves a case one step only once that step's team has answered or its limit has
    lapsed, so no team is skipped; staff (and the sweep) escalate at will.
    """
    if case.status == "closed":
        raise RuleViolation("工单已关闭，无法升级。如有新问题请新建工单。", "case_closed")
    if case.status == "resolved" and actor == "user" and not within_reopen_window(case, now):
        raise RuleViolation("已超过 7 天的重新打开期限，请新建工单。", "reopen_window_passed")
    following = step_defs.next_step(case.step)
    if following is None:
        raise RuleViolation("工单已处于最后一步（法律与监管指引），无法继续升级。", "final_step")
    if actor == "user" and not answered_at_step(case) and not lapsed(case, now):
        raise RuleViolation(f"「{case.step_def.title}」还没有答复您。请等待答复后再申请升级；"
                            "如到答复时限仍未答复，您也可以申请升级（系统届时也会自动升级）。",
                            "step_not_answered", not_before=case.deadline)
    entry = _entry(now, "escalated", actor, reason=reason, from_step=case.step, to_step=following.name, by=by,
                   by_name=by_name)
    return _with(case, entry, **_arrival(case, following.name, now, clocks))


def lapse(case: Case, now: dt.datetime, clocks: hours.Clocks) -> Case:
    """The step's limit passed without a support response: the system escalates, or (final step) flags it."""
    if case.status != "open" or not case.deadline or clock.parse(case.deadline) > now:
        raise RuleViolation("时限未到。", "not_due")
    reason = f"{case.step_def.title}未在时限内答复，系统自动升级"
    if case.step_def.final:
        entry = _entry(now, "overdue", "system", reason=f"{case.step_def.title}已超过答复时限，已提醒负责团队",
                       from_step=case.step, to_step=case.step)
        return _with(case, entry, overdue=True)
    return escalate(case, now, clocks=clocks, actor="system", reason=reason)


def warn(case: Case, now: dt.datetime) -> Case:
    if case.status != "open" or case.warned or not case.warn_at or clock.parse(case.warn_at) > now:
        raise RuleViolation("无需提醒。", "not_due")
    entry = _entry(now, "deadline_warning", "system", reason="即将超过答复时限，已提醒负责团队",
                   from_step=case.step, to_step=case.step)
    return _with(case, entry, warned=True)


def assign(case: Case, now: dt.datetime, *, assignee: str, by: str | None, by_name: str | None = None,
           reason: str = "") -> Case:
    """Assign to ``assignee``: by staff (``by``), or by the round-robin (``by=None``: the system)."""
    if case.status == "closed":
        raise RuleViolation("工单已关闭。", "case_closed")
    entry = _entry(now, "assigned", "support" if by else "system", reason=reason or f"分配给 {assignee}",
                   from_step=case.step, to_step=case.step, by=by, by_name=by_name)
    return _with(case, entry, assignee=assignee)


def hand_back(case: Case, now: dt.datetime, *, reason: str) -> Case:
    """The assignee stops carrying the case (away, offline): back to the pool, a staff-only timeline entry."""
    entry = _entry(now, "assigned", "system", reason=f"退回待分配：{reason}", from_step=case.step, to_step=case.step)
    return _with(case, entry, assignee=None)


def _pause(case: Case, now: dt.datetime, clocks: hours.Clocks) -> dict:
    """Stop the clock, keeping the time used so far."""
    if case.status != "open" or not case.clock_started_at:
        return {}
    step_clock = clocks.for_step(case.step, security=case.security, priority=case.priority)
    used = case.used_seconds + step_clock.used(clock.parse(case.clock_started_at), now)
    return dict(status="waiting_user", used_seconds=used, deadline=None, warn_at=None, clock_started_at=None)


def reply(case: Case, now: dt.datetime, *, clocks: hours.Clocks, by: str, await_user: bool,
          by_name: str | None = None) -> Case:
    """A support reply (shown to the user) is the step's response.

    Waiting on the user pauses the clock (the used time is kept for when the user
    answers); a holding reply ("正在核查") meets the limit and starts a fresh one.
    """
    if case.status in ("resolved", "closed"):
        raise RuleViolation("工单已解决或关闭，无法回复。", "case_not_open")
    changes: dict = {"responded": True}
    if case.status == "waiting_user":
        event, reason = "replied", "客服已补充答复，继续等待用户回复"
    elif await_user:
        changes.update(_pause(case, now, clocks))
        event, reason = "paused", "客服已答复，等待用户回复（计时暂停）"
    else:
        # The limit was met by this response; the team owes the next one within a fresh limit.
        step_clock = clocks.for_step(case.step, security=case.security, priority=case.priority)
        changes.update(clock_started_at=iso(now), used_seconds=0.0, deadline=iso(step_clock.deadline(now)),
                       warn_at=iso(step_clock.warn_at(now)), warned=False)
        event, reason = "replied", "客服已答复（处理中），下一次答复时限重新计算"
    entry = _entry(now, event, "support", reason=reason, from_step=case.step, to_step=case.step, by=by,
                   by_name=by_name)
    return _with(case, entry, **changes)


def user_message(case: Case, now: dt.datetime, clocks: hours.Clocks) -> Case:
    """The user adds information; a paused clock resumes with the time that was left."""
    if case.status in ("resolved", "closed"):
        raise RuleViolation("工单已解决或关闭；如问题未解决，请重新打开工单。", "case_not_open")
    if case.status != "waiting_user":
        entry = _entry(now, "user_message", "user", reason="用户补充了信息", from_step=case.step, to_step=case.step)
        return _with(case, entry)
    step_clock = clocks.for_step(case.step, security=case.security, priority=case.priority)
    entry = _entry(now, "resumed", "user", reason="用户已回复，继续计时", from_step=case.step, to_step=case.step)
    warned = case.warned
    return _with(case, entry, status="open", clock_started_at=iso(now),
                 deadline=iso(step_clock.deadline(now, case.used_seconds)),
                 warn_at=None if warned else iso(step_clock.warn_at(now, case.used_seconds)),
                 warned=warned, responded=False)


def resolve(case: Case, now: dt.datetime, *, by: str, summary: str, by_name: str | None = None) -> Case:
    if case.status in ("resolved", "closed"):
        raise RuleViolation("工单已解决或关闭。", "case_not_open")
    entry = _entry(now, "resolved", "support", reason=summary, from_step=case.step, to_step=case.step, by=by,
                   by_name=by_name)
    return _with(case, entry, status="resolved", responded=True, deadline=None, warn_at=None,
                 clock_started_at=None, resolved_at=iso(now), reopen_until=iso(now + step_defs.REOPEN_WINDOW))


def within_reopen_window(case: Case, now: dt.datetime) -> bool:
    return case.status == "resolved" and bool(case.reopen_until and now <= clock.parse(case.reopen_until))


CSAT_RATINGS = range(1, 6)


def _csat(rating: int, comment: str | None, now: dt.datetime) -> dict:
    if rating not in CSAT_RATINGS:
        raise ValueError(rating)
    return {"rating": rating, "comment": comment or None, "at": iso(now)}


def confirm(case: Case, now: dt.datetime, *, rating: int | None = None, comment: str | None = None) -> Case:
    """The owner confirms it is solved (closed), optionally rating the service 1–5 with a comment."""
    if case.status != "resolved":
        raise RuleViolation("只有已解决的工单可以确认。", "case_not_resolved")
    reason = "用户确认问题已解决" + (f"（满意度 {rating}/5）" if rating is not None else "")
    entry = _entry(now, "confirmed", "user", reason=reason, from_step=case.step, to_step=case.step)
    changes = {"csat": _csat(rating, comment, now)} if rating is not None else {}
    return _with(case, entry, status="closed", reopen_until=None, **changes)


def rate(case: Case, now: dt.datetime, *, rating: int, comment: str | None = None) -> Case:
    """A closed case the owner has not rated yet (confirmed without a rating, or closed by the sweep)."""
    if case.status != "closed":
        raise RuleViolation("工单关闭后才能评价；已解决的工单请在确认时评价。", "case_not_closed")
    if case.csat is not None:
        raise RuleViolation("您已经评价过这个工单了。", "already_rated")
    entry = _entry(now, "rated", "user", reason=f"满意度 {rating}/5", from_step=case.step, to_step=case.step)
    return _with(case, entry, csat=_csat(rating, comment, now))


def reopen(case: Case, now: dt.datetime, *, clocks: hours.Clocks, reason: str) -> Case:
    if case.status != "resolved":
        raise RuleViolation("只有已解决的工单可以重新打开。", "case_not_resolved")
    if not within_reopen_window(case, now):
        raise RuleViolation("已超过 7 天的重新打开期限，请新建工单。", "reopen_window_passed")
    entry = _entry(now, "reopened", "user", reason=reason, from_step=case.step, to_step=case.step)
    return _with(case, entry, **_arrival(case, case.step, now, clocks))


def autoclose(case: Case, now: dt.datetime) -> Case:
    if case.status != "resolved" or within_reopen_window(case, now):
        raise RuleViolation("未到自动关闭时间。", "not_due")
    entry = _entry(now, "closed", "system", reason="7 天内未重新打开，工单自动关闭", from_step=case.step,
                   to_step=case.step)
    return _with(case, entry, status="closed", reopen_until=None)


def unfrozen(case: Case, now: dt.datetime, *, by: str, by_name: str | None = None) -> Case:
    entry = _entry(now, "unfrozen", "support", reason="高级客服已解除账户冻结", from_step=case.step,
                   to_step=case.step, by=by, by_name=by_name)
    return _with(case, entry, frozen=False)


def mail_released(case: Case, now: dt.datetime, *, by: str, by_name: str | None, reason: str) -> Case:
    """A lead released a quarantined e-mail into the 工单 (after ``user_message`` added it): a staff-only entry."""
    entry = _entry(now, "mail_released", "support", reason=reason, from_step=case.step, to_step=case.step, by=by,
                   by_name=by_name)
    return _with(case, entry)
