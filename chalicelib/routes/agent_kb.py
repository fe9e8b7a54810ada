"""The knowledge-base editor in the agent workspace (``/agent/kb*``): the article list and editor
(``chalicelib/web/kb_editor.py``, over ``chalicelib/content``) and the contacts and quick-replies editors
(``chalicelib/web/kb_editions.py``, over ``chalicelib/editions``). Pages: the session's cookie, CSRF on every form,
303 after a change, refusals as pages; the role checks are the services' own, as for the API."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.edge import httpio, replies
from chalicelib.edge.lazy import lazy_import
from chalicelib.routes.page_table import add_page_routes

edition_pages = lazy_import("chalicelib.web.kb_editions")
editor_pages = lazy_import("chalicelib.web.kb_editor")

bp = Blueprint(__name__)

EDITION_KINDS = ("contacts", "macros")


def _edition_routes(kind: str) -> None:
    base = f"/agent/kb/{kind}"

    @bp.route(base, methods=["GET"], name=f"agent_kb_{kind}")
    @httpio.surface_errors
    def show():
        return replies.page(edition_pages.show(bp.current_request, kind))

    @bp.route(f"{base}/diff", methods=["GET"], name=f"agent_kb_{kind}_diff")
    @httpio.surface_errors
    def diff():
        return replies.page(edition_pages.diff(bp.current_request, kind))

    for action in ("save", "submit", "publish", "rollback"):
        def act(action=action):
            return replies.page(getattr(edition_pages, action)(bp.current_request, kind))
        bp.route(f"{base}/{action}", methods=["POST"], content_types=replies.FORM,
                 name=f"agent_kb_{kind}_{action}")(httpio.surface_errors(act))


for _kind in EDITION_KINDS:
    _edition_routes(_kind)


# ---------------------------------------------------------------- articles (chalicelib/web/kb_editor.py)
# METHOD  path  view name  function of chalicelib/web/kb_editor.py (/agent/kb/new?question=…: from the KB-gaps report)
add_page_routes(bp, editor_pages, """
    GET   /agent/kb                                  agent_kb               index
    GET   /agent/kb/new                              agent_kb_new           new_form
    POST  /agent/kb/new                              agent_kb_create        create
    GET   /agent/kb/articles/{slug}                  agent_kb_article       edit
    POST  /agent/kb/articles/{slug}/save             agent_kb_save          save
    GET   /agent/kb/articles/{slug}/diff             agent_kb_diff          diff
""")


@bp.route("/agent/kb/preview", methods=["POST"], content_types=["application/json"])
@httpio.surface_errors
@replies.answers_json
def agent_kb_preview():
    return replies.page_json(editor_pages.preview_json(bp.current_request))


def _workflow_route(action: str) -> None:
    def act(slug):
        return replies.page(editor_pages.workflow(bp.current_request, slug, action))
    bp.route(f"/agent/kb/articles/{{slug}}/{action}", methods=["POST"], content_types=replies.FORM,
             name=f"agent_kb_{action}")(httpio.surface_errors(act))


for _action in ("submit", "publish", "unpublish", "rollback"):
    _workflow_route(_action)
