"""The agent workspace (``chalicelib/web/agent.py``, over the escalation services) and staff sign-in
(``chalicelib/web/signin.py``, password or SSO). Server-rendered pages: the session in an HttpOnly cookie
(``chalicelib/web/session.py``), every form POST with a CSRF token and answered 303; refusals are pages."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.edge import httpio, replies
from chalicelib.edge.lazy import lazy_import
from chalicelib.routes.page_table import add_page_routes
from chalicelib.routes.sign_in import add_sign_in_routes

signin = lazy_import("chalicelib.web.signin")
agent_pages = lazy_import("chalicelib.web.agent")

bp = Blueprint(__name__)


add_sign_in_routes(bp, "agent")


# METHOD  path  view name  function of chalicelib/web/signin.py / agent.py
add_page_routes(bp, signin, """
    GET   /agent/login/sso                                     agent_login_sso           sso_begin
    GET   /agent/callback                                      agent_sso_callback        sso_callback
""")
add_page_routes(bp, agent_pages, """
    GET   /agent                                               agent_queue               queue
    GET   /agent/cases/{case_id}                               agent_case                case_page
    POST  /agent/cases/{case_id}/assign                        agent_assign              assign     # claim or assign
    POST  /agent/cases/{case_id}/notes                         agent_note                note       # internal note
    POST  /agent/cases/{case_id}/reply                         agent_reply               reply      # to the user
    POST  /agent/cases/{case_id}/escalate                      agent_escalate            escalate   # with a reason
    POST  /agent/cases/{case_id}/resolve                       agent_resolve             resolve    # with a summary
    POST  /agent/cases/{case_id}/unfreeze                      agent_unfreeze            unfreeze   # senior, confirmed
    POST  /agent/cases/{case_id}/merge                         agent_merge               merge      # into a reference
    POST  /agent/cases/{case_id}/unmerge                       agent_unmerge             unmerge    # within 24 h
    GET   /agent/cases/{case_id}/unfreeze                      agent_unfreeze_confirm    unfreeze_confirm
    GET   /agent/cases/{case_id}/attachments/{attachment_id}   agent_attachment          attachment_download  # → S3
""")


@bp.route("/agent/cases/{case_id}/updates", methods=["GET"])
@httpio.surface_errors(path_ids=True)   # a page script's JSON: 404 JSON for an impossible id
@replies.answers_json
def agent_case_updates(case_id):
    status, body = agent_pages.updates(bp.current_request, case_id)
    return httpio.json_response(body, status=status)
