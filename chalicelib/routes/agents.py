"""Assignment (#25 item 3, ``chalicelib/escalation/assignment.py``): an agent's own status, the lead's team
view and capacities, presence on a 工单; the lead's reset of a member's two-factor sign-in (``web/staff_mfa.py``).
Assigning a 工单 is ``POST /support/cases/{id}/assign`` (cases.py)."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.edge import replies
from chalicelib.edge.lazy import lazy_import, lazy_schemas
from chalicelib.edge.openapi import api_contract
from chalicelib.routes.auth import cognito_jwt

escalation = lazy_import("chalicelib.escalation.service")
staff_mfa = lazy_import("chalicelib.web.staff_mfa")
schemas = lazy_schemas("chalicelib.escalation.agent_schemas")
mfa_schemas = lazy_schemas("chalicelib.web.staff_mfa_schemas")

bp = Blueprint(__name__)


@bp.route("/support/agents/me", methods=["GET"], authorizer=cognito_jwt)
@api_contract("The caller as an agent: status, capacity, open load (registered on first call); support roles",
              tag="assignment", responses={200: schemas.AgentView}, errors=(403,))
def my_agent_status():
    return replies.answer(bp.current_request, lambda call: escalation.me(call.who, call.context))


@bp.route("/support/agents/me", methods=["PUT"], authorizer=cognito_jwt)
@api_contract("Set the caller's status: available pulls waiting 工单, away/offline hands open ones back",
              tag="assignment", body=schemas.StatusChange, responses={200: schemas.AgentView}, errors=(403, 422))
def set_my_agent_status():
    return replies.answer(bp.current_request, lambda call: escalation.set_my_status(
        call.who, call.context, call.input.status), body=schemas.StatusChange)


@bp.route("/support/agents", methods=["GET"], authorizer=cognito_jwt)
@api_contract("Every agent's status, capacity and open load, and how many 工单 wait; leads (senior-support)",
              tag="assignment", responses={200: schemas.AgentList}, errors=(403,))
def team_agents():
    return replies.answer(bp.current_request, lambda call: escalation.team(call.who, call.context))


@bp.route("/support/agents/{name}", methods=["PUT"], authorizer=cognito_jwt)
@api_contract("Set an agent's capacity; leads (senior-support)", tag="assignment", body=schemas.CapacityChange,
              responses={200: schemas.AgentView}, errors=(403, 404, 422))
def set_agent_capacity(name):
    return replies.answer(bp.current_request, lambda call: escalation.set_capacity(
        call.who, call.context, name, call.input.capacity), body=schemas.CapacityChange)


@bp.route("/support/agents/{name}/status", methods=["PUT"], authorizer=cognito_jwt)
@api_contract("Set an agent's status (away/offline hands their open 工单 back to the pool); leads (senior-support)",
              tag="assignment", body=schemas.StatusChange, responses={200: schemas.AgentView}, errors=(403, 404, 422))
def set_agent_status(name):
    return replies.answer(bp.current_request, lambda call: escalation.set_status(
        call.who, call.context, name, call.input.status), body=schemas.StatusChange)


@bp.route("/support/cases/{case_id}/presence", methods=["POST"], authorizer=cognito_jwt)
@api_contract("The caller is viewing (or typing on) this 工单; answers who else is, fresh within 10 s; staff",
              tag="assignment", body=schemas.Presence, responses={200: schemas.PresenceView}, errors=(403, 404, 422))
def case_presence(case_id):
    return replies.answer(bp.current_request, lambda call: escalation.presence(
        call.who, call.context, case_id, call.input.typing), body=schemas.Presence)


@bp.route("/support/staff/{username}/mfa-reset", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Reset a staff member's two-factor sign-in (they enrol a new authenticator at their next sign-in; "
              "an access record); leads (senior-support), never their own", tag="assignment",
              responses={200: mfa_schemas.MfaReset}, errors=(403, 404, 422))
def reset_staff_mfa(username):
    return replies.answer(bp.current_request, lambda call: staff_mfa.reset(call.who, call.context, username))
