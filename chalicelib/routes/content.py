"""Help-centre articles as content (``chalicelib/content``, docs/content.md): ``/support/kb/articles*`` — drafts,
versions, the four-eyes review, publish/unpublish/rollback (each answered 202 with the index build's id)."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.edge import httpio, replies
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


def _if_match(call: replies.Call) -> int | None:
    """The version the editor started from (``httpio.if_match``, as for contacts and macros); None: any."""
    return httpio.if_match(call.request, "If-Match 应为文章的版本号，例如 3。")


@bp.route(ARTICLES, methods=["GET"], authorizer=cognito_jwt)
@api_contract("Knowledge-base articles with state, category and last change (editors: all; frontline: published)",
              tag="content", responses={200: schemas.ArticleList}, errors=(403,))
def list_kb_articles():
    return replies.answer(bp.current_request, lambda call: content.list_articles(call.who, call.context))


@bp.route(ARTICLES, methods=["POST"], authorizer=cognito_jwt)
@api_contract("Write a new article (kb-editor, senior-support): a draft, version 1 (a repeat with the same "
              "Idempotency-Key gets the first answer)", tag="content", body=schemas.NewArticle,
              headers=replies.OPTIONAL_IDEMPOTENCY_HEADER, responses={201: schemas.ArticleView},
              errors=(400, 403, 409, 413, 422))
def create_kb_article():
    return replies.replay(bp.current_request, "KB_ARTICLE", lambda call: content.create_article(
        call.who, call.input, call.context).model_dump(mode="json"), body=schemas.NewArticle, max_bytes=BIG,
        status=201, location=lambda made: f"{ARTICLES}/{made['slug']}")


@bp.route(ARTICLES + "/{slug}", methods=["GET"], authorizer=cognito_jwt)
@api_contract("One article: the newest version for editors, the published one for frontline agents", tag="content",
              responses={200: schemas.ArticleView}, errors=(403, 404))
def get_kb_article(slug):
    return replies.answer(bp.current_request, lambda call: content.get_article(call.who, slug, call.context))


@bp.route(ARTICLES + "/{slug}", methods=["PUT"], authorizer=cognito_jwt)
@api_contract("Save the draft as a new version; If-Match: <version> → 412 with the other's change when someone "
              "saved since (nothing stored, nothing lost)", tag="content", body=schemas.ArticleChange,
              headers=IF_MATCH, responses={200: schemas.ArticleView}, errors=(400, 403, 404, 409, 412, 413))
def save_kb_article(slug):
    return replies.answer(bp.current_request, lambda call: content.save_draft(
        call.who, slug, call.input, _if_match(call), call.context), body=schemas.ArticleChange, max_bytes=BIG)


@bp.route(ARTICLES + "/{slug}/submit", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Submit the draft for review", tag="content", body=schemas.SubmitBody,
              responses={200: schemas.ArticleView}, errors=(400, 403, 404, 409))
def submit_kb_article(slug):
    return replies.answer(bp.current_request, lambda call: content.submit(
        call.who, slug, call.input.note if call.input else None, call.context), body=schemas.SubmitBody, optional=True)


@bp.route(ARTICLES + "/{slug}/publish", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Publish the version in review (senior-support, not its author: four eyes); 202 with the index "
              "build's id", tag="content", responses={202: schemas.PublishResult}, errors=(403, 404, 409))
def publish_kb_article(slug):
    return replies.answer(bp.current_request, lambda call: content.publish(call.who, slug, call.context), status=202)


@bp.route(ARTICLES + "/{slug}/unpublish", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Take the article off the help centre; old links go to the replacement or show 已下线", tag="content",
              body=schemas.Unpublish, responses={202: schemas.PublishResult}, errors=(400, 403, 404, 409))
def unpublish_kb_article(slug):
    return replies.answer(bp.current_request, lambda call: content.unpublish(call.who, slug, call.input, call.context),
                          body=schemas.Unpublish, optional=True, status=202)


@bp.route(ARTICLES + "/{slug}/rollback", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Publish an earlier, once-published version again as a new version (senior-support)", tag="content",
              body=schemas.Rollback, responses={202: schemas.PublishResult}, errors=(400, 403, 404, 409))
def rollback_kb_article(slug):
    return replies.answer(bp.current_request, lambda call: content.rollback(call.who, slug, call.input, call.context),
                          body=schemas.Rollback, status=202)


@bp.route(ARTICLES + "/{slug}/versions", methods=["GET"], authorizer=cognito_jwt)
@api_contract("Every version of the article: who, when, the change note", tag="content",
              responses={200: schemas.VersionList}, errors=(403, 404))
def kb_article_versions(slug):
    return replies.answer(bp.current_request, lambda call: content.versions(call.who, slug, call.context))


@bp.route(ARTICLES + "/{slug}/versions/{version}", methods=["GET"], authorizer=cognito_jwt)
@api_contract("One version with its whole text", tag="content", responses={200: schemas.VersionDetail},
              errors=(403, 404))
def kb_article_version(slug, version):
    number = httpio.path_number(version, "这篇文章没有这个版本。", code="no_such_version")
    return replies.answer(bp.current_request, lambda call: content.version(call.who, slug, number, call.context))


@bp.route(ARTICLES + "/{slug}/diff", methods=["GET"], authorizer=cognito_jwt)
@api_contract("The difference between two versions (unified diff of fields and body)", tag="content",
              query=schemas.DiffQuery, responses={200: schemas.DiffView}, errors=(400, 403, 404))
def kb_article_diff(slug):
    return replies.answer(bp.current_request, lambda call: content.diff(
        call.who, slug, call.input.from_, call.input.to, call.context), query=schemas.DiffQuery)
