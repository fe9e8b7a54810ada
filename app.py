"""RepayDesk HTTP API and event handlers: a table of routes.

Each handler parses its input (``chalicelib.http``), calls one service
function and shapes the response. Rules live in ``chalicelib/<domain>/``.
Sections: shared, repay, search, escalation — each domain edits only its own.
"""
from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError
from chalice import AuthResponse, Chalice, Rate

from chalicelib import auth, errors, http, outbox
from chalicelib.openapi import api_contract, document, render_docs
from chalicelib.models import Health, Me
from chalicelib.logs import logger, user_hash

app = Chalice(app_name="repaydesk")
app.debug = False  # never leak tracebacks to callers; errors are logged instead
app.api.binary_types = []  # everything we serve is text (JSON or HTML)

_RETRYABLE_AWS_ERRORS = {
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
    "InternalServerError", "ServiceUnavailable", "InternalFailure", "TransactionInProgressException",
}


# ---------------------------------------------------------------- shared
@app.authorizer(ttl_seconds=300)
def cognito_jwt(auth_request):
    """Verifies the Cognito bearer JWT; roles travel on as a comma list."""
    try:
        claims = auth.verify(auth.bearer_token(auth_request.token))
    except auth.InvalidToken as exc:
        logger.info("token rejected", extra={"reason": str(exc)})
        raise auth.unauthorized_error() from None
    return AuthResponse(routes=["*"], principal_id=claims.sub,
                        context={"username": claims.username, "groups": ",".join(claims.groups)})


@app.middleware("http")
def errors_as_json(event, get_response):
    """Every failure leaves as the common JSON error shape; nothing escapes as a bare 500."""
    context = event.context or {}
    user = (context.get("authorizer") or {}).get("principalId")
    logger.append_keys(request_id=context.get("requestId"), user=user_hash(user) if user else None,
                       route=f"{event.method} {context.get('resourcePath')}")
    try:
        return get_response(event)
    except errors.ApiError as exc:
        logger.info("request refused", extra={"status": exc.status, "code": exc.code})
        return http.error_response(exc)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _RETRYABLE_AWS_ERRORS:
            logger.warning("aws dependency unavailable", extra={"aws_error": code})
            return http.error_response(errors.ServiceUnavailable(headers={"Retry-After": "2"}))
        logger.exception("unexpected aws error", extra={"aws_error": code})
        return http.error_response(errors.ApiError("服务内部错误，请稍后重试。", code="internal_error", status=500))
    except BotoCoreError:
        logger.exception("aws dependency unreachable")
        return http.error_response(errors.ServiceUnavailable(headers={"Retry-After": "2"}))
    except Exception:
        logger.exception("unhandled error")
        return http.error_response(errors.ApiError("服务内部错误，请稍后重试。", code="internal_error", status=500))
    finally:
        logger.remove_keys(["request_id", "user", "route"])


@app.route("/health", methods=["GET"])
@api_contract("Liveness probe", tag="shared", responses={200: Health})
def health():
    return http.json_response({"status": "ok"})


@app.route("/me", methods=["GET"], authorizer=cognito_jwt)
@api_contract("Who the bearer token belongs to", tag="shared", responses={200: Me})
def me():
    who = http.principal(app.current_request)
    return http.json_response({"user_id": who.user_id, "username": who.username, "roles": sorted(who.roles)})


@app.route("/openapi.json", methods=["GET"])
def openapi_json():
    return http.json_response(document(app), headers={"Cache-Control": "public, max-age=300"})


@app.route("/docs", methods=["GET"])
def api_docs():
    return http.html_response(render_docs(document(app)))


@app.schedule(Rate(1, unit=Rate.MINUTES))
def drain_outbox(event):
    """Deliver outbox messages that could not be sent at the moment of their state change."""
    sent = outbox.drain()
    if sent:
        logger.info("outbox drained", extra={"sent": sent})


# ---------------------------------------------------------------- repay


# ---------------------------------------------------------------- search
# knowledge-base API (chalicelib/search): search, articles, categories, feedback, gaps
from chalicelib.search import schemas as kb_schemas, service as kb  # noqa: E402


@app.route("/kb/search", methods=["GET"])
@api_contract("Search the knowledge base (Chinese, colloquial, typos and pinyin welcome)", tag="search",
              query=kb_schemas.SearchQuery, responses={200: kb_schemas.SearchResponse}, errors=(400, 503))
def kb_search():
    query = http.parse_query(app.current_request, kb_schemas.SearchQuery)
    return http.json_response(kb.search(query.q, category=query.category, limit=query.limit))


@app.route("/kb/articles/{slug}", methods=["GET"])
@api_contract("One article: rendered HTML body, other ways to ask, related articles", tag="search",
              responses={200: kb_schemas.ArticleResponse}, errors=(404, 503))
def kb_article(slug):
    article = kb.get_article(slug)
    if article is None:
        raise errors.NotFound("没有这篇文章。", code="article_not_found")
    return http.json_response(article, headers={"Cache-Control": "public, max-age=300"})


@app.route("/kb/categories", methods=["GET"])
@api_contract("Article categories with Chinese names and counts", tag="search",
              responses={200: kb_schemas.CategoriesResponse}, errors=(503,))
def kb_categories():
    return http.json_response({"categories": kb.categories()}, headers={"Cache-Control": "public, max-age=300"})


@app.route("/kb/articles/{slug}/feedback", methods=["POST"])
@api_contract("Was this article helpful? (anonymous; optional comment)", tag="search",
              body=kb_schemas.FeedbackBody, responses={201: kb_schemas.FeedbackResponse}, errors=(404, 409, 503))
def kb_feedback(slug):
    body = http.parse_body(app.current_request, kb_schemas.FeedbackBody)
    kb.record_feedback(slug, helpful=body.helpful, comment=body.comment, user_id=None)
    return http.json_response({"status": "recorded"}, status=201)


@app.route("/support/kb-gaps", methods=["GET"], authorizer=cognito_jwt)
@api_contract("Top zero-result queries and least helpful articles (support roles)", tag="search",
              query=kb_schemas.GapsQuery, responses={200: kb_schemas.GapsResponse}, errors=(400, 403))
def kb_gaps():
    http.require_role(http.principal(app.current_request), "support", "senior-support")
    query = http.parse_query(app.current_request, kb_schemas.GapsQuery)
    return http.json_response(kb.kb_gaps(query.limit, days=query.days))


# help centre and contacts
from chalicelib.helpcentre import pages as help_pages  # noqa: E402  (kept with the routes that use it)
from chalicelib.helpcentre.schemas import ContactPageQuery, HelpSearchQuery  # noqa: E402
from chalicelib.search import contacts  # noqa: E402


def _html(page: help_pages.Page):
    return http.html_response(page.html, status=page.status)


@app.route("/contacts", methods=["GET"])
@api_contract("The wallet's official contact channels and the public regulator lines", tag="search",
              responses={200: contacts.ContactDirectory})
def list_contacts():
    return http.json_response(contacts.directory().model_dump(mode="json"),
                              headers={"Cache-Control": "public, max-age=300"})


@app.route("/contacts/verify", methods=["GET"])
@api_contract("Whether a phone number is one of the wallet's official numbers (scam check)", tag="search",
              query=contacts.VerifyQuery, responses={200: contacts.NumberCheck}, errors=(400,))
def verify_contact_number():
    query = http.parse_query(app.current_request, contacts.VerifyQuery)
    return http.json_response(contacts.verify_number(query.number).model_dump(mode="json"))


@app.route("/help", methods=["GET"])
@api_contract("Help centre home page (HTML)", tag="search", responses={200: None}, html=True)
def help_home():
    return _html(help_pages.home())


@app.route("/help/search", methods=["GET"])
@api_contract("Help centre search results (HTML); an empty or over-long question is a 400 page", tag="search",
              query=HelpSearchQuery, responses={200: None, 400: None}, html=True)
def help_search():
    return _html(help_pages.search(http.parse_query(app.current_request, HelpSearchQuery)))


@app.route("/help/articles/{slug}", methods=["GET"])
@api_contract("One help article with feedback buttons (HTML); unknown slug is a 404 page", tag="search",
              responses={200: None, 404: None}, html=True)
def help_article(slug):
    return _html(help_pages.article(slug))


@app.route("/help/contact", methods=["GET"])
@api_contract("Official channels, hours and the number checker (HTML)", tag="search",
              query=ContactPageQuery, responses={200: None, 400: None}, html=True)
def help_contact():
    return _html(help_pages.contact(http.parse_query(app.current_request, ContactPageQuery)))


# ---------------------------------------------------------------- escalation
