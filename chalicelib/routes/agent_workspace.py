"""The agent workspace (``chalicelib/web/agent.py``, over the escalation services) and staff sign-in
(``chalicelib/web/signin.py``, password or SSO). Server-rendered pages: the session in an HttpOnly cookie
(``chalicelib/web/session.py``), every form POST with a CSRF token and answered 303; refusals are pages."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.edge import httpio, replies
from chalicelib.edge.lazy import lazy_import
from chalicelib.routes.sign_in import add_sign_in_routes

signin = lazy_import("chalicelib.web.signin")
agent_pages = lazy_import("chalicelib.web.agent")
agent_search_pages = lazy_import("chalicelib.web.agent_search")

bp = Blueprint(__name__)


add_sign_in_routes(bp, "agent")


@bp.route("/agent/login/sso", methods=["GET"])
@httpio.surface_errors
def agent_login_sso():
    return replies.page(signin.sso_begin(bp.current_request))


@bp.route("/agent/callback", methods=["GET"])
@httpio.surface_errors
def agent_sso_callback():
    return replies.page(signin.sso_callback(bp.current_request))


@bp.route("/agent", methods=["GET"])
@httpio.surface_errors
def agent_queue():
    return replies.page(agent_pages.queue(bp.current_request))


@bp.route("/agent/search", methods=["GET"])
@httpio.surface_errors
def agent_search():
    return replies.page(agent_search_pages.search(bp.current_request))   # find a 工单


@bp.route("/agent/access", methods=["GET"])
@httpio.surface_errors
def agent_access():
    return replies.page(agent_search_pages.access(bp.current_request))   # the leads' access records


@bp.route("/agent/access.csv", methods=["GET"])
@httpio.surface_errors
def agent_access_csv():
    reply = agent_search_pages.access_csv(bp.current_request)
    return replies.csv_download("access-records.csv", reply.html) if reply.status == 200 else replies.page(reply)


@bp.route("/agent/cases/{case_id}", methods=["GET"])
@httpio.surface_errors
def agent_case(case_id):
    return replies.page(agent_pages.case_page(bp.current_request, case_id))


@bp.route("/agent/cases/{case_id}/updates", methods=["GET"])
@httpio.surface_errors(path_ids=True)   # a page script's JSON: 404 JSON for an impossible id
@replies.answers_json
def agent_case_updates(case_id):
    status, body = agent_pages.updates(bp.current_request, case_id)
    return httpio.json_response(body, status=status)


@bp.route("/agent/cases/{case_id}/assign", methods=["POST"], content_types=replies.FORM)
@httpio.surface_errors
def agent_assign(case_id):
    return replies.page(agent_pages.assign(bp.current_request, case_id))   # claim or assign


@bp.route("/agent/cases/{case_id}/notes", methods=["POST"], content_types=replies.FORM)
@httpio.surface_errors
def agent_note(case_id):
    return replies.page(agent_pages.note(bp.current_request, case_id))   # internal note


@bp.route("/agent/cases/{case_id}/reply", methods=["POST"], content_types=replies.FORM)
@httpio.surface_errors
def agent_reply(case_id):
    return replies.page(agent_pages.reply(bp.current_request, case_id))   # reply to the user


@bp.route("/agent/cases/{case_id}/escalate", methods=["POST"], content_types=replies.FORM)
@httpio.surface_errors
def agent_escalate(case_id):
    return replies.page(agent_pages.escalate(bp.current_request, case_id))   # escalate with a reason


@bp.route("/agent/cases/{case_id}/resolve", methods=["POST"], content_types=replies.FORM)
@httpio.surface_errors
def agent_resolve(case_id):
    return replies.page(agent_pages.resolve(bp.current_request, case_id))   # resolve with a summary


@bp.route("/agent/cases/{case_id}/unfreeze", methods=["POST"], content_types=replies.FORM)
@httpio.surface_errors
def agent_unfreeze(case_id):
    return replies.page(agent_pages.unfreeze(bp.current_request, case_id))   # lift a freeze (senior, confirmed)


@bp.route("/agent/cases/{case_id}/unfreeze", methods=["GET"])
@httpio.surface_errors
def agent_unfreeze_confirm(case_id):
    return replies.page(agent_pages.unfreeze_confirm(bp.current_request, case_id))


@bp.route("/agent/cases/{case_id}/attachments/{attachment_id}", methods=["GET"])
@httpio.surface_errors
def agent_attachment(case_id, attachment_id):
    return replies.page(agent_pages.attachment_download(bp.current_request, case_id, attachment_id))   # 303 to S3
