"""Service notices (``chalicelib/status``): the staff API (``/support/notices``), the public ``GET /status`` for
client apps, and the workspace page where leads post and take down notices (``/agent/notices``,
``chalicelib/web/status_desk.py``). The role checks are the service's, the same for the API and the page."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.edge import replies
from chalicelib.edge.lazy import lazy_import, lazy_schemas
from chalicelib.edge.openapi import api_contract
from chalicelib.kernel.context import Context
from chalicelib.routes.auth import cognito_jwt
from chalicelib.routes.page_table import add_page_routes

status = lazy_import("chalicelib.status.service")
status_schemas = lazy_schemas("chalicelib.status.schemas")
desk = lazy_import("chalicelib.web.status_desk")

bp = Blueprint(__name__)


@bp.route("/status", methods=["GET"])
@api_contract("Service notices in force now, for client apps (public; cached for a few seconds)", tag="status",
              responses={200: status_schemas.StatusView})
def service_status():
    seconds = Context.current().settings.status_cache_seconds
    return replies.answer(bp.current_request, lambda call: status.public_status(call.context),
                          headers={"Cache-Control": f"public, max-age={seconds}"})


@bp.route("/support/notices", methods=["GET"], authorizer=cognito_jwt)
@api_contract("Service notices in force or scheduled, with who posted them (support roles)", tag="status",
              responses={200: status_schemas.StaffNotices}, errors=(403,))
def list_service_notices():
    return replies.answer(bp.current_request, lambda call: status.staff_list(call.who, call.context))


@bp.route("/support/notices", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Post a service notice with a scope, a start and an end (senior-support)", tag="status",
              body=status_schemas.NewNotice, responses={201: status_schemas.StaffNotice}, errors=(403, 409, 422))
def post_service_notice():
    return replies.answer(bp.current_request, lambda call: status.post(call.who, call.input, call.context),
                          body=status_schemas.NewNotice, status=201,
                          location=lambda posted: f"/support/notices/{posted['id']}")


@bp.route("/support/notices/{notice_id}", methods=["DELETE"], authorizer=cognito_jwt)
@api_contract("Take a service notice down (senior-support; 404 when unknown or already removed)", tag="status",
              responses={200: status_schemas.Deleted}, errors=(403, 404))
def delete_service_notice(notice_id):
    return replies.answer(bp.current_request, lambda call: status.remove(call.who, notice_id, call.context))


# METHOD  path  view name  function of chalicelib/web/ (the leads' notices page)
add_page_routes(bp, desk, """
    GET   /agent/notices                                       agent_notices             page
    POST  /agent/notices                                       agent_post_notice         create
    POST  /agent/notices/{notice_id}/delete                    agent_delete_notice       delete
""")
