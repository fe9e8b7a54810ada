"""A 工单 exported for a complaint: JSON and a printable page, in the owner's words (no staff names or
internal reasons), with the legal routes, the evidence to keep and the attachments' names."""
from __future__ import annotations

from chalicelib.edge.render import render
from chalicelib.escalation import attachments, casework, evidence, model, notifications, schemas, show
from chalicelib.escalation import steps as step_defs
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.clock import isoformat
from chalicelib.kernel.context import Context
from chalicelib.kernel.schema import as_body


def export(actor: Actor, ctx: Context, case_id: str) -> schemas.CaseExport:
    case = casework.load_visible(actor, case_id)
    return schemas.CaseExport(
        reference=case.case_id, exported_at=isoformat(ctx.now), category=case.category,
        category_title=step_defs.CATEGORY_TITLES[case.category], description=case.description,
        repayment_id=case.repayment_id, priority=case.priority, created_at=case.created_at,
        step=case.step, step_title=case.step_def.title, status=case.status,
        status_title=model.STATUS_TITLES[case.status], timeline=show.timeline(case, staff=False),
        conversation=show.conversation(case), legal_routes=[schemas.LegalRoute(**r) for r in step_defs.LEGAL_ROUTES],
        evidence_to_keep=list(step_defs.EVIDENCE_TO_KEEP),
        satisfaction=show.satisfaction(case),
        attachments=[schemas.AttachmentInfo(**evidence.info(s)) for s in attachments.list_case(case.case_id)],
        accessed_by=_who_looked(case.user_id),
    )


_ROLE_TITLES = {"senior-support": "高级客服", "support": "客服"}
_WHAT = {"staff_read_repayments": "查看了您的还款记录", "staff_searched_cases": "按用户名查找了您的工单",
         "staff_searched_by_phone": "按手机号后四位和日期查找了您的工单"}


def _who_looked(user_id: str) -> list[schemas.AccessSeen]:
    """The owner's access records (repay domain), newest first, as a role and a time — never a staff name."""
    from chalicelib.repay import service as repay_service  # cold start: the repay domain loads only when needed
    return [schemas.AccessSeen(at=r["at"], role_title=_ROLE_TITLES.get(r.get("staff_role") or "support", "客服"),
                               what=_WHAT.get(r.get("event", ""), "查看了您的资料"))
            for r in repay_service.access_log(user_id)]


def export_html(actor: Actor, ctx: Context, case_id: str) -> str:
    # Same Jinja2 environment (autoescape on) as the help centre.
    tz = ctx.settings.time_zone
    return render("escalation/case_export.html", local_time=lambda value: notifications.local_time(value, tz),
                  time_zone=tz, export=as_body(export(actor, ctx, case_id)))
