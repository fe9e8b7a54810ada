"""The knowledge-base API (``chalicelib/search``): search, articles, categories, feedback and signals; the official
contact channels and the number check; the daily relearn of the search model; the live index's builds (a publish's
status, the build function)."""
from __future__ import annotations

import json

from chalice import Blueprint, Rate

from chalicelib.adapters import ratelimit
from chalicelib.config import settings
from chalicelib.edge import httpio
from chalicelib.edge.lazy import lazy_import, lazy_schemas
from chalicelib.edge.openapi import api_contract
from chalicelib.kernel.logs import logger
from chalicelib.routes.auth import cognito_jwt
from chalicelib.search import schemas as kb_schemas  # search is the route a cold start answers
from chalicelib.search import service as kb

contacts = lazy_import("chalicelib.search.contacts")
contact_schemas = lazy_schemas("chalicelib.search.contacts")   # its models, by name until first used
kb_relearn = lazy_import("chalicelib.search.relearn")
kb_builds = lazy_import("chalicelib.search.builds")

bp = Blueprint(__name__)


@bp.route("/kb/search", methods=["GET"])
@api_contract("Search the knowledge base (Chinese, colloquial, typos and pinyin welcome)", tag="search",
              query=kb_schemas.SearchQuery, responses={200: kb_schemas.SearchResponse}, errors=(400, 503))
def kb_search():
    query = httpio.parse_query(bp.current_request, kb_schemas.SearchQuery)
    return httpio.json_response(kb.search(query.q, category=query.category, limit=query.limit))


@bp.route("/kb/articles/{slug}", methods=["GET"])
@api_contract("One article: rendered HTML body, other ways to ask, related articles", tag="search",
              responses={200: kb_schemas.ArticleResponse}, errors=(404, 503))
def kb_article(slug):
    return httpio.json_response(kb.read_article(slug), headers={"Cache-Control": "public, max-age=300"})


@bp.route("/kb/categories", methods=["GET"])
@api_contract("Article categories with Chinese names and counts", tag="search",
              responses={200: kb_schemas.CategoriesResponse}, errors=(503,))
def kb_categories():
    return httpio.json_response(kb.categories(), headers={"Cache-Control": "public, max-age=300"})


@bp.route("/kb/articles/{slug}/feedback", methods=["POST"])
@api_contract("Was this article helpful? (anonymous; optional comment)", tag="search",
              body=kb_schemas.FeedbackBody, responses={201: kb_schemas.FeedbackResponse}, errors=(404, 409, 429, 503))
def kb_feedback(slug):
    request = bp.current_request
    body = httpio.parse_body(request, kb_schemas.FeedbackBody)
    ratelimit.hit("kb_feedback", httpio.client_key(request))
    kb.record_feedback(slug, helpful=body.helpful, comment=body.comment, user_id=None, query=body.query)
    return httpio.json_response({"status": "recorded"}, status=201)


@bp.route("/kb/signals", methods=["POST"])
@api_contract("What a search led to: a result opened or a case opened afterwards (anonymous)", tag="search",
              body=kb_schemas.SignalBody, responses={202: kb_schemas.SignalResponse}, errors=(429, 503))
def kb_signal():
    request = bp.current_request
    body = httpio.parse_body(request, kb_schemas.SignalBody)
    ratelimit.hit("kb_signal", httpio.client_key(request))
    kb.record_signal(body.query, body.slug, body.kind)
    return httpio.json_response({"status": "accepted"}, status=202)


@bp.route("/contacts", methods=["GET"])
@api_contract("The wallet's official contact channels and the public regulator lines", tag="search",
              responses={200: contact_schemas.ContactDirectory})
def list_contacts():
    # A few seconds only: a number changed in the workspace (chalicelib/editions) must not stay cached for minutes.
    return httpio.json_response(contacts.directory().model_dump(mode="json"),
                                headers={"Cache-Control": "public, max-age=10"})


@bp.route("/contacts/verify", methods=["GET"])
@api_contract("Whether a phone number is one of the wallet's official numbers (scam check)", tag="search",
              query=contact_schemas.VerifyQuery, responses={200: contact_schemas.NumberCheck}, errors=(400,))
def verify_contact_number():
    query = httpio.parse_query(bp.current_request, contact_schemas.VerifyQuery)
    return httpio.json_response(contacts.verify_number(query.number).model_dump(mode="json"))


@bp.schedule(Rate(1, unit=Rate.DAYS))
def relearn_kb(event):
    """Rebuild the learned search model from the last 30 days' signals into KB_LEARNED_URI (S3)."""
    kb_relearn.rebuild()


@bp.route("/support/kb/builds/{build_id}", methods=["GET"], authorizer=cognito_jwt)
@api_contract("Where a publish stands: its index build queued, building, live or failed (and why); staff only",
              tag="search", responses={200: kb_schemas.BuildStatus}, errors=(403, 404))
def kb_build_status(build_id):
    httpio.require_role(httpio.actor(bp.current_request), "support", "senior-support", "kb-editor")
    return httpio.json_response(kb.build_status(build_id))


@bp.on_sqs_message(queue=settings().kb_build_queue, batch_size=1, maximum_concurrency=2)  # CPU-bound builds
def build_kb_index(event):
    """Rebuild the index from the published articles, write it to S3, move the live pointer forward only
    (chalicelib/search/builds.py). An unexpected error is raised: SQS redelivers, then dead-letters."""
    for record in event:
        try:
            build_id = json.loads(record.body)["build"]
        except (ValueError, KeyError, TypeError):
            logger.warning("kb build message unreadable, dropped")
            continue
        kb_builds.run(build_id)
