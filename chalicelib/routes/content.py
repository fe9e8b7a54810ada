"""Help-centre articles as content (``chalicelib/content``, docs/content.md): ``/support/kb/articles*`` — drafts,
versions, the four-eyes review, publish/unpublish/rollback (each answered 202 with the index build's id)."""
from __future__ import annotations

import re

from chalice import Blueprint

from chalicelib.edge import errors, httpio, replies
from chalicelib.edge.lazy import lazy_import, lazy_schemas
from chalicelib.edge.openapi import api_contract
from chalicelib.routes.auth import cognito_jwt

content = lazy_import("chalicelib.content.service")
schemas = lazy_schemas("chalicelib.content.schemas")

bp = Blueprint(__name__)
ARTICLES = "/support/kb/articles"
BIG = 640 * 1024   # = content.schemas.MAX_REQUEST_BYTES: a 100 kB article, JSON-escaped
IF_MATCH = {"If-Match": {"required": False, "schema": {"type": "string", "pattern": r'^(W/)?"?\d{1,9}"?$'},
                         "description": "the version the editor started from; someone saved since → 412"}}
_VERSION = re.compile(r'^(?:W/)?"?(\d{1,9})"?$')


def _if_match(request) -> int | None:
    raw = httpio.header(request, "If-Match")
    if raw is None or raw.strip() == "*":
        return None
    found = _VERSION.match(raw.strip())
    if not found:
        raise errors.BadRequest("If-Match 应为文章的版本号，例如 3。", code="invalid_if_match", field="If-Match")
    return int(found.group(1))


def _version(text: str) -> int:
    if not text.isdigit() or len(text) > 9:
        raise errors.NotFound("这篇文章没有这个版本。", code="no_such_version")
    return int(text)


@bp.route(ARTICLES, methods=["GET"], authorizer=cognito_jwt)
@api_contract("Knowledge-base articles with state, category and last change (editors: all; frontline: published)",
              tag="content", responses={200: schemas.ArticleList}, errors=(403,))
def list_kb_articles():
    return httpio.json_response(content.list_articles(httpio.actor(bp.current_request), content.current()))


@bp.route(ARTICLES, methods=["POST"], authorizer=cognito_jwt)
@api_contract("Write a new article (kb-editor, senior-support): a draft, version 1 (a repeat with the same "
              "Idempotency-Key gets the first answer)", tag="content", body=schemas.NewArticle,
              headers=replies.OPTIONAL_IDEMPOTENCY_HEADER, responses={201: schemas.ArticleView},
              errors=(400, 403, 409, 413, 422))
def create_kb_article():
    request = bp.current_request
    body = httpio.parse_body(request, schemas.NewArticle, max_bytes=BIG)
    caller = httpio.actor(request)
    return replies.replay_once(request, "KB_ARTICLE", body.model_dump(mode="json"),
                               lambda: content.create_article(caller, body, content.current()).model_dump(mode="json"),
                               status=201, headers=lambda made: {"Location": f"{ARTICLES}/{made['slug']}"})


@bp.route(ARTICLES + "/{slug}", methods=["GET"], authorizer=cognito_jwt)
@api_contract("One article: the newest version for editors, the published one for frontline agents", tag="content",
              responses={200: schemas.ArticleView}, errors=(403, 404))
def get_kb_article(slug):
    return httpio.json_response(content.get_article(httpio.actor(bp.current_request), slug, content.current()))


@bp.route(ARTICLES + "/{slug}", methods=["PUT"], authorizer=cognito_jwt)
@api_contract("Save the draft as a new version; If-Match: <version> → 412 with the other's change when someone "
              "saved since (nothing stored, nothing lost)", tag="content", body=schemas.ArticleChange,
              headers=IF_MATCH, responses={200: schemas.ArticleView}, errors=(400, 403, 404, 409, 412, 413))
def save_kb_article(slug):
    request = bp.current_request
    body = httpio.parse_body(request, schemas.ArticleChange, max_bytes=BIG)
    expected = _if_match(request)
    return httpio.json_response(content.save_draft(httpio.actor(request), slug, body, expected, content.current()))


@bp.route(ARTICLES + "/{slug}/submit", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Submit the draft for review", tag="content", body=schemas.SubmitBody,
              responses={200: schemas.ArticleView}, errors=(400, 403, 404, 409))
def submit_kb_article(slug):
    request = bp.current_request
    body = httpio.parse_optional_body(request, schemas.SubmitBody)
    note = body.note if body else None
    return httpio.json_response(content.submit(httpio.actor(request), slug, note, content.current()))


@bp.route(ARTICLES + "/{slug}/publish", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Publish the version in review (senior-support, not its author: four eyes); 202 with the index "
              "build's id", tag="content", responses={202: schemas.PublishResult}, errors=(403, 404, 409))
def publish_kb_article(slug):
    published = content.publish(httpio.actor(bp.current_request), slug, content.current())
    return httpio.json_response(published, status=202)


@bp.route(ARTICLES + "/{slug}/unpublish", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Take the article off the help centre; old links go to the replacement or show 已下线", tag="content",
              body=schemas.Unpublish, responses={202: schemas.PublishResult}, errors=(400, 403, 404, 409))
def unpublish_kb_article(slug):
    request = bp.current_request
    body = httpio.parse_optional_body(request, schemas.Unpublish)
    return httpio.json_response(content.unpublish(httpio.actor(request), slug, body, content.current()), status=202)


@bp.route(ARTICLES + "/{slug}/rollback", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Publish an earlier, once-published version again as a new version (senior-support)", tag="content",
              body=schemas.Rollback, responses={202: schemas.PublishResult}, errors=(400, 403, 404, 409))
def rollback_kb_article(slug):
    request = bp.current_request
    body = httpio.parse_body(request, schemas.Rollback)
    return httpio.json_response(content.rollback(httpio.actor(request), slug, body, content.current()), status=202)


@bp.route(ARTICLES + "/{slug}/versions", methods=["GET"], authorizer=cognito_jwt)
@api_contract("Every version of the article: who, when, the change note", tag="content",
              responses={200: schemas.VersionList}, errors=(403, 404))
def kb_article_versions(slug):
    return httpio.json_response(content.versions(httpio.actor(bp.current_request), slug, content.current()))


@bp.route(ARTICLES + "/{slug}/versions/{version}", methods=["GET"], authorizer=cognito_jwt)
@api_contract("One version with its whole text", tag="content", responses={200: schemas.VersionDetail},
              errors=(403, 404))
def kb_article_version(slug, version):
    request = bp.current_request
    return httpio.json_response(content.version(httpio.actor(request), slug, _version(version), content.current()))


@bp.route(ARTICLES + "/{slug}/diff", methods=["GET"], authorizer=cognito_jwt)
@api_contract("The difference between two versions (unified diff of fields and body)", tag="content",
              query=schemas.DiffQuery, responses={200: schemas.DiffView}, errors=(400, 403, 404))
def kb_article_diff(slug):
    request = bp.current_request
    query = httpio.parse_query(request, schemas.DiffQuery)
    return httpio.json_response(content.diff(httpio.actor(request), slug, query.from_, query.to, content.current()))
