"""One vocabulary per audience: how a 工单's status and timeline events read to its owner and to staff.

The timeline stores facts (``event``, ``actor``, ``from``/``to`` step, ``reason``, and for staff
actions ``by`` / ``by_name``); the words are made here, at read time, once per audience:

- ``for_user``: plain sentences addressed to the owner ("您…", "客服…"). Events that concern only the
  teams (a deadline warning, an assignment) are not shown (``None``); a reason is quoted only when the
  owner typed it (their escalation or reopen reason) — never what staff wrote, never who did it.
- ``for_staff``: the teams' wording ("用户…", "等待用户回复"), complete: every event, every reason;
  who acted is shown by the page from ``by_name`` (a user name, never an id).

The user's display name for staff pages (``display_name``) is the owner's user name as stored on the
工单 when it was opened (the session's ``Actor.username``: no Cognito lookup per row), a phone-number
user name masked to 138****8000, and never an id.
"""
from __future__ import annotations

import re

from chalicelib.escalation import steps as step_defs

USER_STATUS = {"open": "处理中", "waiting_user": "等待您回复", "resolved": "已解决，待您确认", "closed": "已关闭"}
STAFF_STATUS = {"open": "处理中", "waiting_user": "等待用户回复", "resolved": "已解决，待用户确认", "closed": "已关闭"}

# Events only the teams need to know about: left out of the owner's timeline.
STAFF_ONLY_EVENTS = frozenset({"deadline_warning", "assigned", "mail_released"})
# Events whose reason the owner typed (so the owner's view may quote it back).
USER_TYPED_REASON = frozenset({"escalated", "reopened"})


def _title(step: str | None) -> str:
    return step_defs.get(step).title if step in step_defs.BY_NAME else "客服"


# Merging (``merging.py``): the same plain sentence for the owner and the teams; ``other`` is the other reference.
MERGE_EVENTS = {
    "merged": "此工单与 {other} 是同一个问题，已合并到 {other}，后续进展请在 {other} 中查看",
    "merged_in": "工单 {other} 与此工单是同一个问题，已合并到此工单一并处理",
    "unmerged": "已撤销与 {other} 的合并，此工单恢复单独处理",
    "unmerged_from": "已撤销 {other} 的合并，{other} 恢复单独处理",
}


def for_user(entry: dict) -> str | None:
    """The owner's sentence for one timeline entry, or ``None`` when the owner is not shown it."""
    event, actor = entry.get("event") or "", entry.get("actor") or ""
    to, here = _title(entry.get("to")), _title(entry.get("from") or entry.get("to"))
    if event in STAFF_ONLY_EVENTS:
        return None
    if event == "created":
        if entry.get("to") == "senior":
            return f"工单已受理：账户安全问题直接由「{to}」处理"
        return f"工单已受理，由「{to}」处理"
    if event == "escalated":
        if actor == "user":
            return f"您申请升级至「{to}」"
        if actor == "system":
            return f"「{here}」未在答复时限内答复，工单已自动升级至「{to}」"
        return f"工单已转至「{to}」处理"
    if event in MERGE_EVENTS:
        return MERGE_EVENTS[event].format(other=entry.get("other") or "另一个工单")
    return {
        "overdue": f"「{here}」已超过答复时限，我们已催促负责团队尽快答复您",
        "paused": "客服已答复，等待您回复（处理时限暂停计时）",
        "replied": "客服已答复",
        "resumed": "您已回复，处理时限继续计时",
        "user_message": "您补充了信息",
        "resolved": "客服已给出处理结果（见沟通记录），请确认问题是否解决",
        "confirmed": "您已确认问题解决",
        "reopened": f"您重新打开了工单，回到「{here}」",
        "closed": "7 天内未重新打开，工单已自动关闭",
        "unfrozen": "您的账户已解除还款冻结",
        "rated": "您已评价本次服务",
        "repayment_update": "关联的还款有新进展（见沟通记录）",
        "priority_raised": "关联还款临近还款日，我们已优先处理您的工单",
        "incident_grouped": "我们已知悉收款机构的问题，正在统一处理",
        "solved_by_update": "您确认还款进展已解决问题，工单已关闭",
        "update_not_solved": "您表示还款进展未解决问题，客服将继续处理",
    }.get(event, "工单有新进展")


def user_reason(entry: dict) -> str:
    """What the owner may read of an entry's reason: only the words the owner typed."""
    if entry.get("actor") == "user" and entry.get("event") in USER_TYPED_REASON:
        return entry.get("reason") or ""
    return ""


def for_staff(entry: dict) -> str:
    """The teams' sentence for one timeline entry: what happened, with every reason."""
    event, actor = entry.get("event") or "", entry.get("actor") or ""
    reason: str = (entry.get("reason") or "").strip()
    here, to = _title(entry.get("from") or entry.get("to")), _title(entry.get("to"))
    if event == "created":
        text = f"用户提交工单，进入「{to}」"
        return f"{text}（{reason}）" if reason else text
    if event == "escalated":
        who = {"user": "用户申请升级", "system": "超时自动升级"}.get(actor, "客服升级")
        return f"{who}：「{here}」→「{to}」" + (f"，原因：{reason}" if reason else "")
    if event in MERGE_EVENTS:
        return MERGE_EVENTS[event].format(other=entry.get("other") or "?") + (f"（{reason}）" if reason else "")
    if event == "assigned":
        return reason or "已分配处理人"
    if event == "paused":
        return "已答复用户，等待用户回复（暂停计时）"
    if event == "replied":
        return reason or "已答复用户"
    if event == "resolved":
        return "标记已解决" + (f"，解决说明：{reason}" if reason else "")
    if event == "reopened":
        return "用户重新打开工单" + (f"，原因：{reason}" if reason else "")
    return {
        "deadline_warning": f"「{here}」即将超过答复时限，已提醒负责团队",
        "overdue": f"「{here}」已超过答复时限，已提醒负责团队",
        "resumed": "用户已回复，恢复计时",
        "user_message": "用户补充了信息",
        "confirmed": reason or "用户确认问题已解决",
        "closed": "7 天内用户未重新打开，自动关闭",
        "unfrozen": "已解除账户还款冻结",
        "mail_released": reason or "组长放行了被隔离的邮件",
        "rated": f"用户评价：{reason}" if reason else "用户已评价",
        "repayment_update": reason or "关联还款有新进展",
        "priority_raised": reason or "临近还款日，优先级提升",
        "incident_grouped": reason or "已归入故障事件",
        "solved_by_update": "用户确认还款进展已解决问题（用户同意关闭）",
        "update_not_solved": "用户表示还款进展未解决问题",
    }.get(event, event)


_PHONE = re.compile(r"^(?:\+?86)?(1\d{10})$")
_ID_LIKE = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.I)
NO_NAME = "未具名用户"


def display_name(username: str | None) -> str:
    """How staff pages name a user: the user name, a phone-number user name masked, never an id."""
    name = (username or "").strip()
    phone = _PHONE.match(re.sub(r"[\s\-]", "", name))
    if phone:
        digits = phone.group(1)
        return f"{digits[:3]}****{digits[-4:]}"
    if not name or _ID_LIKE.match(name):
        return NO_NAME
    return name


SUBJECT_CHARS = 30


def subject(description: str, limit: int = SUBJECT_CHARS) -> str:
    """The first words of the user's description, on one line (how a 工单 is recognised in a queue)."""
    line = " ".join((description or "").split())
    return line if len(line) <= limit else line[:limit].rstrip() + "…"
