"""The browser doors' page routes whose handler only hands the request (and the path's ids) to one function of a
pages module (``chalicelib/web/``) and answers its ``Reply``: registered from a table (``METHOD /path view_name
function``, a line a route) instead of a page of four-line handlers, as ``sign_in.py`` registers the sign-in
routes. The views keep their names (``my_case_reply``, ``agent_assign`` …); a route with a contract or logic of
its own stays a function in its area's module."""
from __future__ import annotations

import re

from chalice import Blueprint

from chalicelib.edge import httpio, replies


def rows(table: str) -> list[list[str]]:
    """The table's rows, one a line, fields apart by spaces; ``#`` starts a comment."""
    return [line.split() for line in (raw.split("#", 1)[0] for raw in table.splitlines()) if line.strip()]


def add_page_routes(bp: Blueprint, pages, table: str) -> None:
    """Browser-door routes whose handler only hands the request (and the path's ids, in order) to one function of
    ``pages`` (a module, or a ``lazy_import`` of one) and answers its ``Reply``. ``table``: a line a route,
    ``METHOD /path view_name function``, a fifth field ``script`` for a page script's JSON (``page_json``; its errors
    stay JSON, an impossible id is a JSON 404). A POST takes a form (``FORM``, CSRF-checked by ``pages``)."""
    for method, path, name, action, *kind in rows(table):
        if method not in ("GET", "POST") or not path.startswith("/") or kind not in ([], ["script"]):
            raise ValueError(f"a page route reads METHOD /path view_name function [script]: {method} {path} {kind}")
        script = kind == ["script"]
        ids = re.findall(r"{(\w+)}", path)

        def view(action: str = action, ids: list[str] = ids, script: bool = script, **found):
            reply = getattr(pages, action)(bp.current_request, *(found[arg] for arg in ids))
            return replies.page_json(reply) if script else replies.page(reply)
        view.__name__ = view.__qualname__ = name
        # a page script's JSON: its errors stay JSON and an impossible id is a JSON 404; a page checks its own ids
        guarded = httpio.surface_errors(replies.answers_json(view), path_ids=True) if script else \
            httpio.surface_errors(view)
        options = {"content_types": replies.FORM} if method == "POST" else {}
        bp.route(path, methods=[method], **options)(guarded)
