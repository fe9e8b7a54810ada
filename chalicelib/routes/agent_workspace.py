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
incident_pages = lazy_import("chalicelib.web.incidents")
agent_search_pages = lazy_import("chalicelib.web.agent_search")
team_pages = lazy_import("chalicelib.web.agent_team")
staff_mfa_pages = lazy_import("chalicelib.web.staff_mfa")

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
add_page_routes(bp, incident_pages, """
    GET   /agent/incidents                                     agent_incidents           list_page
    GET   /agent/incidents/{incident_id}                       agent_incident            incident_page
    POST  /agent/incidents/{incident_id}/reply                 agent_incident_reply      reply      # to every 工单
    POST  /agent/incidents/{incident_id}/close                 agent_incident_close      close
""")
add_page_routes(bp, team_pages, """
    GET   /agent/team                                          agent_team                team_page  # leads
    POST  /agent/team/status                                   agent_team_status         set_status
    POST  /agent/team/capacity                                 agent_team_capacity       set_capacity
    POST  /agent/team/reassign                                 agent_team_reassign       reassign
    POST  /agent/status                                        agent_my_status           my_status  # own switch
""")
add_page_routes(bp, agent_search_pages, """
    GET   /agent/search                                        agent_search              search     # find a 工单
    GET   /agent/access                                        agent_access              access     # access records
""")
add_page_routes(bp, staff_mfa_pages, """
    GET   /agent/staff/{username}/mfa-reset                    agent_mfa_reset_form      reset_form  # lead only
    POST  /agent/staff/{username}/mfa-reset                    agent_mfa_reset           reset_post  # lead only
""")


@bp.route("/agent/access.csv", methods=["GET"])
@httpio.surface_errors
def agent_access_csv():
    reply = agent_search_pages.access_csv(bp.current_request)
    return replies.csv_download("access-records.csv", reply.html) if reply.status == 200 else replies.page(reply)


@bp.route("/agent/cases/{case_id}/updates", methods=["GET"])
@httpio.surface_errors(path_ids=True)   # a page script's JSON: 404 JSON for an impossible id
@replies.answers_json
def agent_case_updates(case_id):
    status, body = agent_pages.updates(bp.current_request, case_id)
    return httpio.json_response(body, status=status)
