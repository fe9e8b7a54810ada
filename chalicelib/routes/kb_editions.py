"""Contacts and quick replies edited through the API (``chalicelib/editions``): ``/support/kb/contacts*`` and
``/support/kb/macros*``, the same routes for each kind — read, save a draft (``If-Match`` → 412 when someone saved
since), submit, publish (four eyes for contacts), roll back, versions, one version, a diff. The workspace page
(``/agent/kb/{kind}``, ``chalicelib/web/kb_editions.py``) calls the same service."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.edge import errors, httpio, replies
from chalicelib.edge.lazy import lazy_import, lazy_schemas
from chalicelib.edge.openapi import api_contract
from chalicelib.routes.auth import cognito_jwt

editions = lazy_import("chalicelib.editions.service")
schemas = lazy_schemas("chalicelib.editions.schemas")

bp = Blueprint(__name__)

KINDS = ("contacts", "macros")
IF_MATCH = {"If-Match": {"description": "the rev read (or `rev` in the body); someone saved since → 412",
                         "required": False, "schema": {"type": "string"}}}


def _rev(call: replies.Call) -> int:
    """The rev the caller read: ``If-Match`` (``httpio.if_match``, as for articles), else ``rev`` in the body."""
    rev = httpio.if_match(call.request, "If-Match 应为读取时的 rev（数字）。", field="rev")
    if rev is None:
        rev = call.input.rev
    if rev is None:
        raise errors.ValidationFailed("请带上读取时的版本：If-Match 或 rev。", code="rev_required", field="rev")
    return rev


def _add(kind: str) -> None:
    base = f"/support/kb/{kind}"
    title = {"contacts": "the official contact lines", "macros": "the quick replies"}[kind]

    def route(path: str, method: str, name: str, summary: str, responses=schemas.EditionView, **contract):
        """An editors' route of this kind: signed in, its contract under the ``content`` tag, named ``<kind>_<name>``
        (the OpenAPI operationId, as before)."""
        def added(view):
            return bp.route(base + path, methods=[method], authorizer=cognito_jwt, name=f"{kind}_{name}")(
                api_contract(summary, tag="content", responses={200: responses}, **contract)(view))
        return added

    @route("", "GET", "edition", f"Editors: {title}, newest version and what the caller may do", errors=(403,))
    def read():
        return replies.answer(bp.current_request, lambda call: editions.read(call.who, kind))

    @route("", "PUT", "save", f"Editors: save {title} as a new draft version (checked; nothing invalid is stored)",
           body=schemas.EditionSave, headers=IF_MATCH, errors=(400, 403, 412))
    def save():
        return replies.answer(bp.current_request, lambda call: editions.save_draft(
            call.who, call.context, kind, call.input.document, call.input.note, _rev(call)), body=schemas.EditionSave)

    for action, summary in (("submit", f"Editors: submit the draft of {title} for review"),
                            ("publish", f"Approvers: publish {title} in review (contacts: not by their last author)")):
        def moved(action: str = action):
            use = getattr(editions, action)
            return replies.answer(bp.current_request, lambda call: use(call.who, call.context, kind, _rev(call)),
                                  body=schemas.EditionAction)
        route(f"/{action}", "POST", action, summary, body=schemas.EditionAction, headers=IF_MATCH,
              errors=(400, 403, 409, 412))(moved)

    @route("/rollback", "POST", "rollback", f"Editors: an earlier version of {title} as a new draft",
           body=schemas.EditionRollback, headers=IF_MATCH, errors=(400, 403, 404, 412))
    def rollback():
        return replies.answer(bp.current_request, lambda call: editions.rollback(
            call.who, call.context, kind, call.input.version, _rev(call)), body=schemas.EditionRollback)

    @route("/versions", "GET", "versions", f"Editors: every version of {title} (who, when, note) and the audit "
           "records", responses=schemas.EditionVersionList, errors=(403,))
    def versions():
        return replies.answer(bp.current_request, lambda call: editions.versions(call.who, kind))

    @route("/versions/{number}", "GET", "version", f"Editors: one version of {title}",
           responses=schemas.EditionVersionView, errors=(403, 404))
    def version(number):
        number = httpio.path_number(number, "没有这一版。", code="version_not_found")
        return replies.answer(bp.current_request, lambda call: editions.version(call.who, kind, number))

    @route("/diff", "GET", "diff", f"Editors: two versions of {title} compared (unified and side by side)",
           responses=schemas.EditionDiff, query=schemas.EditionDiffQuery, errors=(400, 403, 404))
    def diff():
        return replies.answer(bp.current_request, lambda call: editions.diff(
            call.who, kind, call.input.older, call.input.newer), query=schemas.EditionDiffQuery)


for _kind in KINDS:
    _add(_kind)
