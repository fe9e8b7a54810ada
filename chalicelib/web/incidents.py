"""The workspace's incident view (``/agent/incidents``): settlement incidents, the 工单 grouped under one, and a
lead's one reply to all of them (and closing it), over the same escalation services as the JSON API
(``/support/incidents*``): the same roles, the same once-per-key reply. Forms carry the CSRF token and answer 303."""
from __future__ import annotations

import secrets

from chalicelib.edge import pages
from chalicelib.edge.pages import Reply
from chalicelib.escalation import incident_schemas
from chalicelib.escalation import service as escalation
from chalicelib.escalation import steps as step_defs
from chalicelib.kernel.context import Context
from chalicelib.kernel.schema import as_body
from chalicelib.web import session
from chalicelib.web.agent import _common, _local, _validated

DONE = {"replied": "统一答复已发送到每个相关工单。", "closed": "故障事件已关闭。"}


@pages.page("agent")
def list_page(request) -> Reply:
    ws = session.require(request, "agent")
    ctx = Context.current()
    items = [as_body(i) for i in escalation.list_incidents(ws.actor).items]
    return pages.html("web/agent_incidents.html", title="故障事件", items=items, incident=None,
                      local_time=_local(ctx), **_common(ws))


@pages.page("agent")
def incident_page(request, incident_id: str) -> Reply:
    ws = session.require(request, "agent")
    ctx = Context.current()
    incident = as_body(escalation.get_incident(ws.actor, incident_id))
    done = DONE.get((request.query_params or {}).get("done", ""))
    return pages.html("web/agent_incidents.html", title=f"故障事件 {incident_id}", items=None, incident=incident,
                      done=done, lead=ws.actor.has_role("senior-support"), idempotency_key=secrets.token_urlsafe(16),
                      categories=step_defs.CATEGORY_TITLES, local_time=_local(ctx), **_common(ws))


def _posted(request):
    ws = session.require(request, "agent")
    form = pages.form(request)
    session.check_csrf(ws, form)       # before anything is read or changed
    return ws, form, Context.current()


@pages.page("agent")
def reply(request, incident_id: str) -> Reply:
    ws, form, ctx = _posted(request)
    body = _validated(incident_schemas.IncidentReply, {"message": form.get("message", "")})
    escalation.reply_all(ws.actor, ctx, incident_id, body.message, form.get("idempotency_key") or None)
    return pages.redirect(f"/agent/incidents/{incident_id}?done=replied")


@pages.page("agent")
def close(request, incident_id: str) -> Reply:
    ws, _, ctx = _posted(request)
    escalation.close_incident(ws.actor, ctx, incident_id)
    return pages.redirect(f"/agent/incidents/{incident_id}?done=closed")
