"""The knowledge-base editor in the agent workspace (``/agent/kb*``): the article list and editor
(``chalicelib/web/kb_editor.py``, over ``chalicelib/content``) and the contacts and quick-replies editors
(``chalicelib/web/kb_editions.py``, over ``chalicelib/editions``). Pages: the session's cookie, CSRF on every form,
303 after a change, refusals as pages; the role checks are the services' own, as for the API."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.edge import httpio, replies
from chalicelib.edge.lazy import lazy_import

edition_pages = lazy_import("chalicelib.web.kb_editions")

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
