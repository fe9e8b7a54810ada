"""How a case is shown: to its owner (the user's words, no staff names or internal reasons) or to staff
(the teams' words, with who acted, the notes and the owner's display name). Reads the conversation and
the notes from the store; changes nothing.
"""
from __future__ import annotations

from typing import Any

from chalicelib.escalation import follow_rules, notifications, repository, schemas, wording
from chalicelib.escalation import steps as step_defs
from chalicelib.escalation.model import Case
from chalicelib.kernel.context import Context


def summary(case: Case, *, staff: bool = False) -> schemas.CaseSummary:
    """A 工单 in a list: its subject (first words of the description); staff lists add the owner's display
    name and the assignee (the owner's own list names no staff)."""
    extra: dict[str, Any] = {}
    if staff:
        extra = dict(assignee=case.assignee, user_name=wording.display_name(case.username), update=_marker(case),
                     due_raised=case.due_raised or None, incident_id=case.incident_id)
    return schemas.CaseSummary(case_id=case.case_id, category=case.category, priority=case.priority, step=case.step,
                               status=case.status, deadline=case.deadline, created_at=case.created_at,
                               warn_at=case.warn_at, subject=wording.subject(case.description), **extra)


def _marker(case: Case) -> str | None:
    """The staff queue's marker of a repayment update the owner has not answered yet."""
    if not case.update:
        return None
    return f"还款{follow_rules.EVENT_TITLES.get(case.update.get('event', ''), '有更新')}"


def what_next(case: Case, time_zone: str) -> str:
    step = case.step_def
    following = step_defs.next_step(case.step)
    deadline = notifications.local_time(case.deadline, time_zone)
    if case.merged_into:
        return f"此工单已合并到 {case.merged_into}，后续进展请在 {case.merged_into} 中查看。"
    if case.status == "closed":
        return "工单已关闭。如有新的问题，请新建工单。"
    if case.status == "resolved":
        until = notifications.local_time(case.reopen_until, time_zone)
        return (f"客服已将工单标记为已解决。请确认问题是否解决；如未解决，您可以在 {until} 前重新打开"
                f"（回到「{step.title}」），逾期工单将自动关闭。")
    if case.status == "waiting_user":
        text = "客服已答复，正在等待您的回复，处理时限暂停计时；您回复后继续计时。"
        if following:
            text += f"如果答复没有解决问题，您可以申请升级至「{following.title}」。"
        return text
    if step.final:
        return (f"工单已进入最后一步「{step.title}」：负责团队将在 {deadline} 前联系您。"
                "您也可以通过下方的监管投诉和法律途径维护权益，并导出工单记录作为证据。")
    clock_kind = "（全天候计时）" if case.security else "（按工作时间计时）"
    text = f"「{step.title}」将在 {deadline} 前答复您{clock_kind}。"
    if following:
        text += f"如届时仍未答复，工单将自动升级至「{following.title}」；如答复未解决问题，您也可以随时申请升级。"
    return text


def staff_what_next(case: Case, time_zone: str) -> str:
    """``what_next`` in the teams' words (staff views): what the step's team owes, and by when."""
    step = case.step_def
    following = step_defs.next_step(case.step)
    if case.merged_into:
        return f"已合并到 {case.merged_into}（24 小时内可撤销合并）。"
    if case.status == "closed":
        return "工单已关闭。"
    if case.status == "resolved":
        until = notifications.local_time(case.reopen_until, time_zone)
        return f"已解决，待用户确认；用户可在 {until} 前重新打开（回到「{step.title}」），逾期自动关闭。"
    if case.status == "waiting_user":
        return "已答复，等待用户回复：计时暂停，用户回复后继续计时。"
    deadline = notifications.local_time(case.deadline, time_zone)
    clock_kind = "全天候计时" if case.security else "按工作时间计时"
    text = f"「{step.title}」须在 {deadline} 前答复用户（{clock_kind}）。"
    if following:
        text += f"逾期自动升级至「{following.title}」。"
    else:
        text += "这是最后一步：逾期会提醒负责团队。"
    return text


def timeline(case: Case, *, staff: bool) -> list[schemas.TimelineEntry]:
    """The case's events in the reader's words (``wording``): the owner's view leaves out what concerns only
    the teams and every staff-written reason and name; the staff view keeps everything, with who acted."""
    entries = []
    for entry in case.timeline:
        shown = {k: entry.get(k) for k in ("at", "event", "actor", "from", "to")}
        if staff:
            shown.update(text=wording.for_staff(entry), reason=entry.get("reason") or "",
                         by=entry.get("by"), by_name=entry.get("by_name"))
        else:
            text = wording.for_user(entry)
            if text is None:
                continue
            shown.update(text=text, reason=wording.user_reason(entry))
        entries.append(schemas.TimelineEntry.model_validate(shown))
    return entries


def message(stored: dict) -> schemas.ConversationEntry:
    return schemas.ConversationEntry(at=stored["at"], author=stored["author"], text=stored["text"],
                                     kind=stored.get("kind"), link=stored.get("link"))


def conversation(case: Case, added: tuple[dict, ...] = ()) -> list[schemas.ConversationEntry]:
    stored = repository.store().conversation(case.case_id, "MSG")
    return [message(m) for m in (*stored, *added)]


def question(case: Case) -> str | None:
    """Asked of the owner (and shown to staff) while a repayment update awaits their answer."""
    if case.update and case.update.get("asked") and case.status in ("open", "waiting_user"):
        return follow_rules.QUESTION
    return None


def legal(case: Case) -> schemas.LegalGuidance:
    return schemas.LegalGuidance(routes=[schemas.LegalRoute(**r) for r in step_defs.LEGAL_ROUTES],
                                 evidence_to_keep=list(step_defs.EVIDENCE_TO_KEEP),
                                 export_json=f"/support/cases/{case.case_id}/export",
                                 export_html=f"/support/cases/{case.case_id}/export.html")


def satisfaction(case: Case) -> schemas.Satisfaction | None:
    """Every field set (a rating without a comment is stored without the attribute)."""
    if not case.csat:
        return None
    return schemas.Satisfaction(rating=case.csat["rating"], comment=case.csat.get("comment"), at=case.csat["at"])


def case_view(ctx: Context, case: Case, *, staff: bool, added: tuple[dict, ...] = ()) -> schemas.CaseView:
    tz = ctx.settings.time_zone
    staff_only: dict[str, Any] = {}  # left unset on the owner's view (``as_body`` leaves unset fields out)
    if staff:
        staff_only = dict(assignee=case.assignee, user_id=case.user_id, user_name=wording.display_name(case.username),
                          incident_id=case.incident_id,
                          warn_at=case.warn_at,
                          notes=[schemas.InternalNote(at=n["at"], author=n["author"], text=n["text"])
                                 for n in repository.store().conversation(case.case_id, "NOTE")])
    return schemas.CaseView(
        case_id=case.case_id, reference=case.case_id, category=case.category,
        category_title=step_defs.CATEGORY_TITLES[case.category], description=case.description,
        repayment_id=case.repayment_id, merged_into=case.merged_into, priority=case.priority, step=case.step,
        step_title=case.step_def.title,
        step_description=(f"由 {case.step_def.team} 团队处理（需 {case.step_def.role} 角色）" if staff
                          else case.step_def.description),
        status=case.status, status_title=(wording.STAFF_STATUS if staff else wording.USER_STATUS)[case.status],
        deadline=case.deadline, deadline_local=notifications.local_time(case.deadline, tz),
        clock_paused=case.status == "waiting_user", reopen_until=case.reopen_until,
        what_next=staff_what_next(case, tz) if staff else what_next(case, tz), created_at=case.created_at,
        version=case.version,
        timeline=timeline(case, staff=staff), conversation=conversation(case, added),
        legal_guidance=legal(case) if case.step_def.final else None,
        satisfaction=satisfaction(case),
        update_question=question(case),
        **staff_only,
    )
