"""Merging a duplicate 工单 into another of the same user, and undoing it within 24 h (issue #25 item 2).

Rules (pure, given the moment):
- ``merge(source, target)``: same user only, neither closed nor already merged, not into itself. The source
  is closed with a pointer (``merged_into``) and leaves the owner's list and the open queues; the target gets
  a ``merged_in`` entry and, when the source opened earlier at the same step, the source's step clock (the
  earlier first-response/resolution deadline). Both keep in ``merge_undo`` what an unmerge restores.
- ``unmerge(source, target)`` within ``UNDO_WINDOW`` of the merge: both as they were (the target's clock only
  while it is still open); later → ``RuleViolation`` ``unmerge_window_passed`` (409).

The use cases write both cases in one transaction, each conditional on the version read, with a plain
message to the owner on both conversations (no staff name) and the report events of both.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import unicodedata

from chalicelib.adapters import idempotency
from chalicelib.escalation import analytics, casework, hours, model, repository, show
from chalicelib.escalation.model import Case, RuleViolation
from chalicelib.escalation.store import ElementFailed, VersionConflict
from chalicelib.kernel import clock, refusals
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context

UNDO_WINDOW = dt.timedelta(hours=24)
_CLOCK = ("status", "step_started_at", "clock_started_at", "used_seconds", "deadline", "warn_at", "warned",
          "responded")
_STATE = (*_CLOCK, "resolved_at", "reopen_until")
_OPEN = ("open", "waiting_user")


def _mark(case: Case, now: dt.datetime, event: str, other: str, by: str, by_name: str | None, **changes) -> Case:
    entry = model._entry(now, event, "support", from_step=case.step, to_step=case.step, by=by, by_name=by_name)
    entry["other"] = other
    return dataclasses.replace(case, version=case.version + 1, timeline=case.timeline + (entry,), **changes)


def merge(source: Case, target: Case, now: dt.datetime, *, by: str, by_name: str | None = None) -> tuple[Case, Case]:
    """(the merged source, the kept target)."""
    if source.case_id == target.case_id:
        raise RuleViolation("不能把工单合并到它自己。", "merge_into_itself")
    if source.user_id != target.user_id:
        raise RuleViolation("只能合并同一用户的工单。", "merge_other_user")
    for case in (source, target):
        if case.merged_into:
            raise RuleViolation(f"{case.case_id} 已合并到 {case.merged_into}。", "already_merged")
        if case.status not in _OPEN:
            raise RuleViolation(f"{case.case_id} 已解决或关闭，不能合并。", "case_not_open")
    if target.merge_undo and now - clock.parse(target.merge_undo["at"]) <= UNDO_WINDOW:
        raise RuleViolation(f"{target.case_id} 24 小时内已合并过 {target.merge_undo['from']}，"
                            "请先撤销或 24 小时后再合并。", "merge_pending")
    at = model.iso(now)
    kept_before = {name: getattr(target, name) for name in _CLOCK}
    clock_fields = {}
    if source.created_at < target.created_at and source.step == target.step:
        clock_fields = {name: getattr(source, name) for name in _CLOCK}   # the earlier SLA clock
    merged = _mark(source, now, "merged", target.case_id, by, by_name, status="closed", merged_into=target.case_id,
                   deadline=None, warn_at=None, clock_started_at=None, reopen_until=None,
                   merge_undo={"at": at, "into": target.case_id, "state": {n: getattr(source, n) for n in _STATE}})
    kept = _mark(target, now, "merged_in", source.case_id, by, by_name, **clock_fields,
                 merge_undo={"at": at, "from": source.case_id, "clock": kept_before})
    return merged, kept


def unmerge(source: Case, target: Case, now: dt.datetime, *, by: str, by_name: str | None = None) -> tuple[Case, Case]:
    """(the source as it was, the target as it was) — within 24 h of the merge."""
    undo, kept_undo = source.merge_undo or {}, target.merge_undo or {}
    if source.merged_into != target.case_id or kept_undo.get("from") != source.case_id:
        raise RuleViolation(f"{source.case_id} 没有合并到 {target.case_id}，无需撤销。", "not_merged")
    if now - clock.parse(undo["at"]) > UNDO_WINDOW:
        raise RuleViolation("合并已超过 24 小时，不能撤销。如确属不同问题，请为用户新建工单。", "unmerge_window_passed")
    restored = _mark(source, now, "unmerged", target.case_id, by, by_name, merged_into=None, merge_undo=None,
                     **undo["state"])
    back = kept_undo["clock"] if target.status in _OPEN else {}
    kept = _mark(target, now, "unmerged_from", source.case_id, by, by_name, merge_undo=None, **back)
    return restored, kept


# ---------------------------------------------------------------- use cases
def _reference(value: str) -> str:
    """A reference as typed (lower case, spaces, full-width characters) in its stored form."""
    return unicodedata.normalize("NFKC", value or "").strip().upper()


_TOLD = {"merged": "您的工单 {here} 与 {other} 是同一个问题，我们已把它们合并，后续进展请在 {other} 中查看。",
         "merged_in": "您的工单 {other} 与 {here} 是同一个问题，我们已把它们合并到 {here} 一并处理。",
         "unmerged": "工单 {here} 已恢复单独处理，我们会分别答复您。",
         "unmerged_from": "工单 {other} 已恢复单独处理，我们会分别答复您。"}


def _told(ctx: Context, case: Case, other: str) -> dict:
    event = case.timeline[-1]["event"]
    return casework.entry(ctx, "support", _TOLD[event].format(here=case.case_id, other=other))


def _write(ctx: Context, pair: tuple[Case, Case], new: tuple[Case, Case], claim) -> idempotency.Outcome:
    """Both cases, each conditional on the version read, their messages and events: all or nothing."""
    (source, target), (new_source, new_target) = pair, new
    clocks = hours.clocks(ctx.settings)
    new_source, source_events = analytics.on_commit(source, new_source, ctx.now, clocks)
    said = _told(ctx, new_target, source.case_id)
    kept_view = show.case_view(ctx, new_target, staff=True, added=(said,))
    store = repository.store()
    other = store.pair_elements(new_source, expected_version=source.version,
                                said=[_told(ctx, new_source, target.case_id)])
    answered = casework.answer(claim, 200, kept_view)
    try:
        casework.commit(target, new_target, ctx=ctx, said=(said,), extra=[*other, *source_events, *answered])
    except (VersionConflict, ElementFailed):
        raise refusals.Conflicting("工单状态刚刚发生了变化，请刷新后重试。", code="version_conflict") from None
    return casework.Saved(kept_view, bool(answered)).outcome()


def merge_case(actor: Actor, ctx: Context, case_id: str, into: str,
               idempotency_key: str | None = None) -> idempotency.Outcome:
    """Staff merge ``case_id`` into ``into`` (a reference); answers the kept 工单 as staff see it."""
    def action(claim: idempotency.Claim | None) -> idempotency.Outcome:
        source = casework.load_workable(actor, case_id)
        target = casework.load_workable(actor, _reference(into))
        new = merge(source, target, ctx.now, by=actor.user_id, by_name=actor.username or None)
        return _write(ctx, (source, target), new, claim)
    return casework.once(actor, ctx, idempotency_key, "case_merge", {"case_id": case_id, "into": into}, action)


def unmerge_case(actor: Actor, ctx: Context, case_id: str, idempotency_key: str | None = None) -> idempotency.Outcome:
    """Staff undo the merge of ``case_id`` (the merged one) within 24 h; answers the kept 工单."""
    def action(claim: idempotency.Claim | None) -> idempotency.Outcome:
        casework.require_staff(actor)
        source = casework.load(case_id)
        if not source.merged_into:
            raise RuleViolation(f"{source.case_id} 没有被合并，无需撤销。", "not_merged")
        target = casework.load_workable(actor, source.merged_into)
        casework.require_step_role(actor, source)
        new = unmerge(source, target, ctx.now, by=actor.user_id, by_name=actor.username or None)
        return _write(ctx, (source, target), new, claim)
    return casework.once(actor, ctx, idempotency_key, "case_unmerge", {"case_id": case_id}, action)
