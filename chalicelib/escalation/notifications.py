"""What a case change tells the teams and the user, as outbox messages.

Rendered from Jinja2 text templates in ``templates/notifications/``. Message
ids are derived from the case and the version the change produced, so one
change can never enqueue its announcements twice, and team consumers dedup on
the ``message_id`` attribute the outbox sends along.

The team's queue message (via the step's SNS topic) carries ids and facts, not
the user's free-text description: the team reads that through the support API.
"""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from chalicelib.adapters import outbox
from chalicelib.config import PROJECT_DIR, Settings
from chalicelib.escalation import replymail
from chalicelib.escalation import steps as step_defs
from chalicelib.escalation.model import Case
from chalicelib.kernel import clock

if TYPE_CHECKING:  # for the annotation only; jinja2 loads with the first notification
    import jinja2

TEMPLATE_DIR = PROJECT_DIR / "templates"


@functools.cache
def environment() -> jinja2.Environment:
    import jinja2  # imported with the first notification rendered, not at cold start

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)), undefined=jinja2.StrictUndefined,
                              autoescape=jinja2.select_autoescape(["html"]), keep_trailing_newline=False)


def local_time(value: str | None, time_zone: str) -> str | None:
    """ISO UTC → '2026-11-24 17:30' in ``time_zone`` (the service's)."""
    if not value:
        return None
    return clock.parse(value).astimezone(clock.zone(time_zone)).strftime("%Y-%m-%d %H:%M")


def _context(case: Case, event: str, cfg: Settings, **extra) -> dict:
    return {"case": case, "event": event, "step": case.step_def,
            "category_title": step_defs.CATEGORY_TITLES[case.category],
            "deadline_local": local_time(case.deadline, cfg.time_zone),
            "reopen_until_local": local_time(case.reopen_until, cfg.time_zone),
            "time_zone": cfg.time_zone, "hotline": cfg.security_hotline, "security": False,
            "case_url": f"{cfg.public_base_url}/help/cases/{case.case_id}",
            "workspace_url": workspace_url(case, cfg),
            "reason": "", **extra}


def workspace_url(case: Case, cfg: Settings) -> str:
    """The 工单's page in the agent workspace (``PUBLIC_BASE_URL`` + ``/agent/cases/<ref>``)."""
    return f"{cfg.public_base_url}/agent/cases/{case.case_id}"


def render(name: str, **context) -> str:
    return environment().get_template(name).render(**context).strip()


def _id(case: Case, kind: str) -> str:
    return f"{case.case_id}-v{case.version}-{kind}"


def team_messages(case: Case, event: str, cfg: Settings, reason: str = "") -> list[outbox.Message]:
    """SNS (→ the team's SQS queue) and an SES e-mail to the team owning the case's step."""
    step = case.step_def
    payload = {"event": f"case.{event}", "case_id": case.case_id, "step": case.step, "team": step.team,
               "category": case.category, "priority": case.priority, "status": case.status,
               "deadline": case.deadline, "reason": reason, "version": case.version,
               "url": workspace_url(case, cfg)}
    subject = {"arrived": f"[{case.priority}] 新工单 {case.case_id} → {step.title}",
               "deadline_warning": f"[{case.priority}] 即将超时：{case.case_id}",
               "overdue": f"[{case.priority}] 已超时：{case.case_id}",
               "user_replied": f"[{case.priority}] 用户已回复：{case.case_id}（继续计时）"}[event]
    body = render("notifications/team_email.txt.j2", **_context(case, event, cfg, reason=reason))
    return [
        outbox.Message(channel="sns", target=step.topic(cfg), body=outbox.as_json(payload),
                       message_id=_id(case, f"sns-{event}")),
        outbox.Message(channel="email", target=step.team_email(cfg), subject=subject, body=body,
                       message_id=_id(case, f"email-{event}")),
    ]


def user_sms(case: Case, event: str, cfg: Settings, *, security: bool = False) -> outbox.Message:
    text = render("notifications/user_sms.txt.j2", **_context(case, event, cfg, security=security))
    return outbox.Message(channel="sms", target=case.username, body=text, message_id=_id(case, f"sms-{event}"))


USER_SUBJECTS = {"created": "已受理", "arrived": "已升级", "legal_guidance": "法律与监管指引",
                 "replied": "客服已回复", "resolved": "已解决，请确认"}
REPLYABLE = frozenset({"created", "arrived", "legal_guidance", "replied"})   # a resolved 工单 takes no messages


def user_email(case: Case, event: str, cfg: Settings, *, security: bool = False) -> outbox.Message:
    """The same news as the SMS, by e-mail to the owner's verified address (looked up when sent, never stored).
    While the 工单 takes messages it carries the 工单's signed reply address (``Reply-To``) and the line
    inviting a reply; every one threads under the 工单 (``Message-ID``/``References``, ``replymail.headers``)."""
    headers = replymail.headers(case.case_id, case.user_id, case.version, cfg)
    if event not in REPLYABLE:
        headers.pop("Reply-To", None)
    text = render("notifications/user_email.txt.j2",
                  **_context(case, event, cfg, security=security, reply_by_mail="Reply-To" in headers))
    return outbox.Message(channel="user_email", target=case.username, body=text,
                          subject=f"您的工单 {case.case_id}：{USER_SUBJECTS[event]}", headers=headers,
                          message_id=_id(case, f"mail-{event}"))


def user_messages(case: Case, event: str, cfg: Settings, *, security: bool = False) -> list[outbox.Message]:
    """What the owner is told of ``event``: an SMS and an e-mail."""
    return [user_sms(case, event, cfg, security=security), user_email(case, event, cfg, security=security)]


def arrival(case: Case, cfg: Settings, *, created: bool, reason: str = "") -> list[outbox.Message]:
    """A case arrived at its step: tell the team (topic + e-mail) and the user (SMS + e-mail)."""
    messages = team_messages(case, "arrived", cfg, reason)
    if created:
        messages += user_messages(case, "created", cfg, security=case.security)
    elif case.step_def.final:
        messages += user_messages(case, "legal_guidance", cfg)
    else:
        messages += user_messages(case, "arrived", cfg)
    return messages
