"""Contacts and quick replies edited through the API (``chalicelib/editions``): ``/support/kb/contacts*`` and
``/support/kb/macros*``, the same routes for each kind — read, save a draft (``If-Match`` → 412 when someone saved
since), submit, publish (four eyes for contacts), roll back, versions, one version, a diff. The workspace page
(``/agent/kb/{kind}``, ``chalicelib/web/kb_editions.py``) calls the same service."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.edge import errors, httpio
from chalicelib.edge.lazy import lazy_import, lazy_schemas
from chalicelib.edge.openapi import api_contract
from chalicelib.kernel.context import Context
from chalicelib.routes.auth import cognito_jwt

editions = lazy_import("chalicelib.editions.service")
schemas = lazy_schemas("chalicelib.editions.schemas")

bp = Blueprint(__name__)

KINDS = ("contacts", "macros")
IF_MATCH = {"If-Match": {"description": "the rev read (or `rev` in the body); someone saved since → 412",
                         "required": False, "schema": {"type": "string"}}}


def _rev(request, given: int | None) -> int:
    raw = (httpio.header(request, "if-match") or "").strip().strip('"').removeprefix("W/").strip('"')
    if raw:
        if not raw.isdigit() or len(raw) > 9:
            raise errors.ValidationFailed("If-Match 应为读取时的 rev（数字）。", code="invalid_if_match", field="rev")
        return int(raw)
    if given is None:
        raise errors.ValidationFailed("请带上读取时的版本：If-Match 或 rev。", code="rev_required", field="rev")
    return given


def _number(text: str) -> int:
    if not text.isdigit() or len(text) > 7:
        raise errors.NotFound("没有这一版。", code="version_not_found")
    return int(text)


def _add(kind: str) -> None:
    base = f"/support/kb/{kind}"
    title = {"contacts": "the official contact lines", "macros": "the quick replies"}[kind]

    @bp.route(base, methods=["GET"], authorizer=cognito_jwt, name=f"{kind}_edition")
    @api_contract(f"Editors: {title}, newest version and what the caller may do", tag="content",
                  responses={200: schemas.EditionView}, errors=(403,))
    def read():
        return httpio.json_response(editions.read(httpio.actor(bp.current_request), kind))

    @bp.route(base, methods=["PUT"], authorizer=cognito_jwt, name=f"{kind}_save")
    @api_contract(f"Editors: save {title} as a new draft version (checked; nothing invalid is stored)",
                  tag="content", body=schemas.EditionSave, headers=IF_MATCH, responses={200: schemas.EditionView},
                  errors=(400, 403, 412))
    def save():
        request = bp.current_request
        body = httpio.parse_body(request, schemas.EditionSave)
        rev = _rev(request, body.rev)
        return httpio.json_response(editions.save_draft(
            httpio.actor(request), Context.current(), kind, body.document, body.note, rev))

    @bp.route(f"{base}/submit", methods=["POST"], authorizer=cognito_jwt, name=f"{kind}_submit")
    @api_contract(f"Editors: submit the draft of {title} for review", tag="content", body=schemas.EditionAction,
                  headers=IF_MATCH, responses={200: schemas.EditionView}, errors=(400, 403, 409, 412))
    def submit():
        request = bp.current_request
        rev = _rev(request, httpio.parse_body(request, schemas.EditionAction).rev)
        return httpio.json_response(editions.submit(
            httpio.actor(request), Context.current(), kind, rev))

    @bp.route(f"{base}/publish", methods=["POST"], authorizer=cognito_jwt, name=f"{kind}_publish")
    @api_contract(f"Approvers: publish {title} in review (contacts: not by their last author)", tag="content",
                  body=schemas.EditionAction, headers=IF_MATCH, responses={200: schemas.EditionView},
                  errors=(400, 403, 409, 412))
    def publish():
        request = bp.current_request
        rev = _rev(request, httpio.parse_body(request, schemas.EditionAction).rev)
        return httpio.json_response(editions.publish(
            httpio.actor(request), Context.current(), kind, rev))

    @bp.route(f"{base}/rollback", methods=["POST"], authorizer=cognito_jwt, name=f"{kind}_rollback")
    @api_contract(f"Editors: an earlier version of {title} as a new draft", tag="content",
                  body=schemas.EditionRollback, headers=IF_MATCH, responses={200: schemas.EditionView},
                  errors=(400, 403, 404, 412))
    def rollback():
        request = bp.current_request
        body = httpio.parse_body(request, schemas.EditionRollback)
        rev = _rev(request, body.rev)
        return httpio.json_response(editions.rollback(
            httpio.actor(request), Context.current(), kind, body.version, rev))

    @bp.route(f"{base}/versions", methods=["GET"], authorizer=cognito_jwt, name=f"{kind}_versions")
    @api_contract(f"Editors: every version of {title} (who, when, note) and the audit records", tag="content",
                  responses={200: schemas.EditionVersionList}, errors=(403,))
    def versions():
        return httpio.json_response(editions.versions(httpio.actor(bp.current_request), kind))

    @bp.route(f"{base}/versions/{{number}}", methods=["GET"], authorizer=cognito_jwt, name=f"{kind}_version")
    @api_contract(f"Editors: one version of {title}", tag="content", responses={200: schemas.EditionVersionView},
                  errors=(403, 404))
    def version(number):
        return httpio.json_response(editions.version(httpio.actor(bp.current_request), kind, _number(number)))

    @bp.route(f"{base}/diff", methods=["GET"], authorizer=cognito_jwt, name=f"{kind}_diff")
    @api_contract(f"Editors: two versions of {title} compared (unified and side by side)", tag="content",
                  query=schemas.EditionDiffQuery, responses={200: schemas.EditionDiff}, errors=(400, 403, 404))
    def diff():
        request = bp.current_request
        query = httpio.parse_query(request, schemas.EditionDiffQuery)
        return httpio.json_response(editions.diff(httpio.actor(request), kind, query.older, query.newer))


for _kind in KINDS:
    _add(_kind)
