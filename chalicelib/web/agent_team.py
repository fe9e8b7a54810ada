"""The lead's team page (``/agent/team``, issue #25 item 3) and an agent's own status switch (the queue page).

Every action calls the escalation service the JSON API calls (``chalicelib/escalation/assignment.py``) with the
session's ``Actor``: the team view, another agent's status and capacity are the leads' (``require_lead``, the
same check as ``GET /support/agents``); a reassignment is ``assign`` (a registered agent, of the right step, with
room — conditional, 409 when they filled up meanwhile). Forms carry the CSRF token and answer 303 back.
Staff pages: agent names are shown here; users never see them.
"""
from __future__ import annotations

import re
from urllib.parse import urlencode

import pydantic

from chalicelib.edge import pages
from chalicelib.edge.pages import Reply
from chalicelib.escalation import agent_schemas, model
from chalicelib.escalation import service as escalation
from chalicelib.escalation import steps as step_defs
from chalicelib.escalation.agent_model import STATUS_TITLES
from chalicelib.kernel import refusals
from chalicelib.kernel.context import Context
from chalicelib.kernel.schema import as_body
from chalicelib.web import session
from chalicelib.web.agent import _common, _local

_REFERENCE = re.compile(model.REFERENCE_PATTERN)
_BACK = {"back": ("/agent/team", "回到团队页面"), "titles": {404: "找不到这个客服或工单", 409: "未能完成"}}
DONE = {"status": "已更改状态", "capacity": "已更改容量", "reassigned": "已改派工单"}


def _status(value: str) -> str:
    try:
        return agent_schemas.StatusChange(status=value).status  # type: ignore[arg-type]
    except pydantic.ValidationError:
        raise refusals.Invalid("status：请选择「在线接单」「暂离」或「下线」。", code="invalid_status",
                               field="status") from None


def _capacity(value: str) -> int:
    try:
        return agent_schemas.CapacityChange(capacity=int(value)).capacity
    except (ValueError, pydantic.ValidationError):
        raise refusals.Invalid("capacity：容量是 1 到 100 之间的整数。", code="invalid_capacity",
                               field="capacity") from None


def _act(request):
    ws = session.require(request, "agent")
    form = pages.form(request)
    session.check_csrf(ws, form)       # before anything is read or changed
    return ws, form, Context.current()


def _done(done: str, **more) -> Reply:
    return pages.redirect("/agent/team?" + urlencode({"done": done, **more}))


@pages.page("agent", **_BACK)
def team_page(request) -> Reply:
    ws = session.require(request, "agent")
    ctx = Context.current()
    team = as_body(escalation.team(ws.actor, ctx))     # leads only: the API's own check (403 page otherwise)
    query = request.query_params or {}
    done = DONE.get(query.get("done", ""))
    if done and (query.get("moved") or "0").isdigit() and int(query.get("moved") or 0):
        done += f"（{int(query['moved'])} 个工单随之移动）"
    steps = {role: [s.title for s in step_defs.STEPS if s.role == role] for role in {a["role"] for a in team["agents"]}}
    return pages.html("web/agent_team.html", title="团队", team=team, steps_of=steps, statuses=STATUS_TITLES,
                      done=done, local_time=_local(ctx), **_common(ws))


@pages.page("agent", **_BACK)
def set_status(request) -> Reply:
    """A lead sets an agent's status: away / offline hands their open 工单 back to the pool."""
    ws, form, ctx = _act(request)
    changed = escalation.set_status(ws.actor, ctx, form.get("name", ""), _status(form.get("status", "")))
    return _done("status", moved=changed.reassigned)


@pages.page("agent", **_BACK)
def set_capacity(request) -> Reply:
    ws, form, ctx = _act(request)
    changed = escalation.set_capacity(ws.actor, ctx, form.get("name", ""), _capacity(form.get("capacity", "")))
    return _done("capacity", moved=changed.reassigned)


@pages.page("agent", **_BACK)
def reassign(request) -> Reply:
    """Give a carried (or waiting) 工单 to another agent: the assign use case with the API's own checks."""
    ws, form, ctx = _act(request)
    case_id = escalation.normalize_reference(form.get("case_id", ""))
    if not _REFERENCE.match(case_id):
        raise refusals.Invalid("case_id：工单编号格式不对。", code="invalid_reference", field="case_id")
    assignee = form.get("assignee", "")
    if not assignee:
        raise refusals.Invalid("assignee：请选择改派给谁。", code="invalid_assignee", field="assignee")
    # No form key: giving a 工单 to the same agent twice changes nothing, and after a 409 (that agent filled up)
    # the lead picks someone else on the same form — a key would refuse that as a different request (422).
    escalation.assign(ws.actor, ctx, case_id, assignee, None)
    return _done("reassigned")


@pages.page("agent")
def my_status(request) -> Reply:
    """The agent's own switch on the queue page (available: take from the pool; away: hand back)."""
    ws, form, ctx = _act(request)
    changed = escalation.set_my_status(ws.actor, ctx, _status(form.get("status", "")))
    return pages.redirect("/agent?" + urlencode({"done": "status", "moved": changed.reassigned}))
