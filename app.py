"""RepayDesk HTTP API and event handlers: a table of routes.

Each handler parses its input (``chalicelib.edge.httpio``), calls one service
function and shapes the response. Rules live in ``chalicelib/<domain>/``.
Sections: shared, repay, search, escalation — each domain edits only its own.
"""
from __future__ import annotations

from chalicelib.edge import coldstart

coldstart.before_imports()  # collector paused, pydantic's plugin discovery skipped; see the end

from chalice import AuthResponse, Cron, Rate  # noqa: E402

from chalicelib.adapters import aws, deadline, ratelimit  # noqa: E402
from chalicelib.kernel import refusals
from chalicelib.edge import errors, httpio
from chalicelib.kernel.context import Context  # noqa: E402
from chalicelib.edge.lazy import lazy_import, lazy_schemas  # noqa: E402
from chalicelib.edge.openapi import api_contract, document, render_docs  # noqa: E402
from chalicelib.edge.schemas import Health, Me  # noqa: E402
from chalicelib.kernel.logs import logger, user_hash  # noqa: E402

# Services are imported on their first request, and the repay and escalation schemas on their
# first use (chalicelib/edge/lazy.py): a cold start pays only for the route it answers.
auth = lazy_import("chalicelib.edge.auth")
outbox = lazy_import("chalicelib.adapters.outbox")
error_pages = lazy_import("chalicelib.edge.errorpages")   # imported only when a request fails

app = httpio.App(app_name="repaydesk")
app.debug = False  # never leak tracebacks to callers; errors are logged instead
app.api.binary_types = []  # everything we serve is text (JSON or HTML)


# ---------------------------------------------------------------- shared
@app.authorizer(ttl_seconds=300)
def cognito_jwt(auth_request):
    """Verifies the Cognito bearer JWT; roles travel on as a JSON list (httpio.roles_context / httpio.actor)."""
    try:
        claims = auth.verify(auth.bearer_token(auth_request.token))
    except auth.InvalidToken as exc:
        logger.info("token rejected", extra={"reason": str(exc)})
        raise auth.unauthorized_error() from None
    return AuthResponse(routes=["*"], principal_id=claims.sub,
                        context={"username": claims.username, "groups": httpio.roles_context(claims.groups)})


@app.middleware("http")
def errors_as_json(event, get_response):
    """Every failure leaves in one shape, nothing as a bare 500: the common JSON error for API callers, an HTML
    page (status kept, the request id, a way back) for a browser (``chalicelib/edge/errorpages.py`` decides)."""
    context = event.context or {}
    user = (context.get("authorizer") or {}).get("principalId")
    request_id = _request_id(context)
    logger.append_keys(request_id=request_id, user=user_hash(user) if user else None,
                       route=f"{event.method} {context.get('resourcePath')}")
    httpio.new_response()   # a page's script nonce is drawn afresh for each request (httpio.csp_nonce)
    try:
        return _for_the_caller(event, request_id, _shaped(event, get_response))
    finally:
        logger.remove_keys(["request_id", "user", "route"])


def _shaped(event, get_response):
    try:
        with deadline.request_budget(_remaining_ms()):  # a hung AWS dependency: 503 within the budget
            return httpio.in_error_shape(get_response(event))
    except errors.ApiError as exc:
        logger.info("request refused", extra={"status": exc.status, "code": exc.code})
        return httpio.error_response(exc)
    except httpio.UnexpectedError as wrapped:
        exc = wrapped.original
        if isinstance(exc, refusals.DomainError):   # a use case refused: its status comes from one mapping
            refusal = errors.from_domain(exc)
            logger.info("request refused", extra={"status": refusal.status, "code": refusal.code})
            return httpio.error_response(refusal)
        unavailable = aws.unavailable(exc)   # throttled / unreachable: one mapping, in chalicelib/adapters/aws.py
        if unavailable is not None:
            logger.warning("aws dependency unavailable", extra={"aws_error": unavailable})
            return httpio.error_response(errors.ServiceUnavailable(headers={"Retry-After": "2"}))
        logger.error("unhandled error", exc_info=exc)
        return httpio.error_response(errors.ApiError("服务内部错误，请稍后重试。", code="internal_error", status=500))


def _for_the_caller(event, request_id: str, response):
    """A JSON error as an HTML page when a browser is asking (the JSON stays for API callers)."""
    if response.status_code < 400:
        return response
    error = error_pages.json_error(response)
    path = (event.context or {}).get("resourcePath") or event.path or ""
    entry = app.routes.get(path, {}).get(event.method)
    headers = event.headers or {}
    if error is None or not error_pages.wants_page(headers.get("accept"), path, entry):
        return response
    return error_pages.page(response.status_code, error.get("message"), request_id, path=path,
                            referer=headers.get("referer"), host=headers.get("host"), headers=response.headers)


def _request_id(context: dict) -> str:
    """API Gateway's request id (what the logs carry); locally the Lambda context's, else a fresh one."""
    found = context.get("requestId") or getattr(app.lambda_context, "aws_request_id", None)
    if not found:
        import uuid
        found = str(uuid.uuid4())
    return str(found)


def _remaining_ms() -> int | None:
    context = app.lambda_context
    return context.get_remaining_time_in_millis() if context is not None else None


def _caller():
    """The signed-in caller as the domain's ``Actor`` (the one way every route gets it)."""
    return httpio.actor(app.current_request)


@app.route("/health", methods=["GET"])
@api_contract("Liveness probe", tag="shared", responses={200: Health})
def health():
    return httpio.json_response({"status": "ok"})


@app.route("/me", methods=["GET"], authorizer=cognito_jwt)
@api_contract("Who the bearer token belongs to", tag="shared", responses={200: Me})
def me():
    who = _caller()
    return httpio.json_response({"user_id": who.user_id, "username": who.username, "roles": sorted(who.roles)})


@app.route("/openapi.json", methods=["GET"])
@httpio.surface_errors
def openapi_json():
    return httpio.json_response(document(app), headers={"Cache-Control": "public, max-age=300"})


@app.route("/docs", methods=["GET"])
@httpio.surface_errors
def api_docs():
    return httpio.html_response(render_docs(document(app)))


@app.schedule(Rate(1, unit=Rate.MINUTES))
def drain_outbox(event):
    """Deliver outbox messages that could not be sent at the moment of their state change."""
    sent = outbox.drain()
    if sent:
        logger.info("outbox drained", extra={"sent": sent})


# ---------------------------------------------------------------- repay
from urllib.parse import urlencode  # noqa: E402

from chalicelib.config import settings as _settings  # noqa: E402  (kept with the routes that use it)
repay_schemas = lazy_schemas("chalicelib.repay.schemas")

repay = lazy_import("chalicelib.repay.service")

_IDEMPOTENCY_HEADER = {"Idempotency-Key": {
    "required": True, "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "1–255 printable ASCII characters; the same key with the same body replays the first answer "
                   "(header Idempotent-Replayed: true) for 24 h"}}


@app.route("/repayments/quote", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Fee breakdown, total and expected arrival for a repayment (warns when it would arrive after due_date)",
              tag="repay", body=repay_schemas.RepaymentRequest, responses={200: repay_schemas.QuoteView})
def quote_repayment():
    request = httpio.parse_body(app.current_request, repay_schemas.RepaymentRequest)
    return httpio.json_response(repay.quote(_caller(), request, repay.current()))


@app.route("/repayments", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Make a repayment (exactly once per Idempotency-Key); large amounts answer 202 verification_required",
              tag="repay", body=repay_schemas.RepaymentRequest, headers=_IDEMPOTENCY_HEADER,
              responses={201: repay_schemas.RepaymentView, 202: repay_schemas.RepaymentView},
              errors=(409, 422, 423, 429))
def create_repayment():
    request = httpio.parse_body(app.current_request, repay_schemas.RepaymentRequest)
    caller = _caller()
    created = repay.create(caller, _idempotency_key(), request, repay.current(),   # a known key replays first
                           limit=lambda: ratelimit.hit("repayment_create", caller.user_id))
    return _idempotent_response(created, {"Location": f"/repayments/{created.body['id']}"})


def _idempotency_key() -> str | None:
    return httpio.header(app.current_request, "Idempotency-Key")


# Optional on the owner's other changes: with a key, a repeat replays the first answer.
_OPTIONAL_IDEMPOTENCY_HEADER = {"Idempotency-Key": {**_IDEMPOTENCY_HEADER["Idempotency-Key"], "required": False}}


def _idempotent_response(outcome, headers: dict[str, str] | None = None):
    """An answer under an Idempotency-Key: a replay says so (``Idempotent-Replayed: true``)."""
    headers = dict(headers or {})
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    return httpio.json_response(outcome.body, status=outcome.status_code, headers=headers)


@app.route("/repayments", methods=["GET"], authorizer=cognito_jwt)
@api_contract("The caller's repayments, newest first (filters status, kind; opaque cursor)", tag="repay",
              query=repay_schemas.ListQuery, responses={200: repay_schemas.RepaymentPage}, errors=(400,))
def list_repayments():
    query = httpio.parse_query(app.current_request, repay_schemas.ListQuery)
    return httpio.json_response(repay.history(_caller(), query, repay.current()))


@app.route("/repayments/{repayment_id}", methods=["GET"], authorizer=cognito_jwt)
@api_contract("One repayment: status, fee, expected and actual arrival, timeline", tag="repay",
              responses={200: repay_schemas.RepaymentView}, errors=(404,))
def get_repayment(repayment_id):
    return httpio.json_response(repay.get(_caller(), repayment_id, repay.current()))


@app.route("/repayments/{repayment_id}/verify", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Confirm a large repayment with the SMS code (5 minutes, 5 attempts, then cancelled)", tag="repay",
              body=repay_schemas.VerifyRequest, headers=_OPTIONAL_IDEMPOTENCY_HEADER,
              responses={200: repay_schemas.RepaymentView}, errors=(400, 404, 409, 422, 423, 429))
def verify_repayment(repayment_id):
    request = httpio.parse_body(app.current_request, repay_schemas.VerifyRequest)
    caller = _caller()
    return _idempotent_response(repay.once(
        caller, _idempotency_key(), f"VERIFY#{repayment_id}", request.model_dump(),
        lambda: repay.verify(caller, repayment_id, request, repay.current(),
                             before_check=lambda: ratelimit.hit("repayment_verify", caller.user_id))))


@app.route("/repayments/{repayment_id}/retry", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Retry a repayment that failed for a retryable reason (exactly once per Idempotency-Key; "
              "repeating it is harmless)", tag="repay", headers=_IDEMPOTENCY_HEADER,
              responses={200: repay_schemas.RepaymentView}, errors=(400, 404, 409, 422, 423))
def retry_repayment(repayment_id):
    caller = _caller()
    retried = repay.retry(caller, _idempotency_key(), repayment_id, repay.current())
    return _idempotent_response(retried)


@app.route("/repayments/{repayment_id}/resend-code", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Text a new SMS code for a repayment awaiting verification; the old code stops working "
              "(3 per repayment, one per minute: 429 + Retry-After)", tag="repay", headers=_OPTIONAL_IDEMPOTENCY_HEADER,
              responses={200: repay_schemas.RepaymentView}, errors=(400, 404, 409, 422, 423, 429))
def resend_repayment_code(repayment_id):
    caller = _caller()
    return _idempotent_response(repay.once(caller, _idempotency_key(), f"RESEND#{repayment_id}", {},
                                           lambda: repay.resend_code(caller, repayment_id, repay.current())))


@app.route("/repayments/{repayment_id}/cancel", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Cancel a repayment still waiting for its SMS code (nothing is charged; repeating it is harmless; "
              "processing or settled: 409)", tag="repay", headers=_OPTIONAL_IDEMPOTENCY_HEADER,
              responses={200: repay_schemas.RepaymentView}, errors=(400, 404, 409, 422))
def cancel_repayment(repayment_id):
    caller = _caller()
    return _idempotent_response(repay.once(caller, _idempotency_key(), f"CANCEL#{repayment_id}", {},
                                           lambda: repay.cancel(caller, repayment_id, repay.current())))


@app.route("/repayments/{repayment_id}/receipt", methods=["GET"], authorizer=cognito_jwt)
@api_contract("电子回单 of a succeeded repayment with its verification code (409 until it succeeded)", tag="repay",
              responses={200: repay_schemas.ReceiptView}, errors=(404, 409, 503))
def repayment_receipt(repayment_id):
    return httpio.json_response(repay.receipt(_caller(), repayment_id, repay.current()))


@app.route("/repayments/{repayment_id}/receipt.html", methods=["GET"], authorizer=cognito_jwt)
@api_contract("电子回单 as a printable page (HTML)", tag="repay", responses={200: None}, errors=(404, 409, 503),
              html=True, path_ids=True)
def repayment_receipt_html(repayment_id):
    return httpio.html_response(repay.receipt_html(_caller(), repayment_id, repay.current()),
                              headers={"Cache-Control": "no-store"})


@app.route("/receipts/verify", methods=["GET"])
@api_contract("Was this receipt issued by RepayDesk? (public; serial and code as printed; rate-limited per IP)",
              tag="repay", query=repay_schemas.ReceiptQuery, responses={200: repay_schemas.ReceiptCheck},
              errors=(400, 429, 503))
def verify_receipt():
    if error_pages.prefers_html(httpio.header(app.current_request, "Accept")):   # a person opened the address: the page
        return Response(body="", status_code=303, headers={
            "Location": "/help/receipts/verify?" + urlencode(app.current_request.query_params or {}),
            "Cache-Control": "no-store", "Vary": "Accept"})
    query = httpio.parse_query(app.current_request, repay_schemas.ReceiptQuery)
    ratelimit.hit("receipt_verify", httpio.client_key(app.current_request))
    return httpio.json_response(repay.verify_receipt(query.serial, query.code, repay.current()))


@app.schedule(Rate(1, unit=Rate.MINUTES))
def expire_verifications(event):
    """Cancel repayments whose SMS code lapsed (allowance given back), not only when someone reads them."""
    cancelled = repay.expire_lapsed(repay.current())
    if cancelled:
        logger.info("expired verifications swept", extra={"cancelled": cancelled})


@app.on_sqs_message(queue=_settings().settlement_queue, batch_size=10)
def settle_repayments(event):
    """Settlement worker: each record names one repayment attempt; duplicates and retries are no-ops."""
    failed = 0
    for record in event:
        try:
            repay.settle(record.body, repay.current())
        except Exception:
            logger.exception("settlement failed; the batch will be redelivered")
            failed += 1
    if failed:  # settled records are skipped on redelivery (conditional on status and attempt)
        raise RuntimeError(f"{failed} settlement message(s) failed")


# ---------------------------------------------------------------- search
# knowledge-base API (chalicelib/search): search, articles, categories, feedback, gaps
from chalicelib.search import schemas as kb_schemas, service as kb  # noqa: E402


@app.route("/kb/search", methods=["GET"])
@api_contract("Search the knowledge base (Chinese, colloquial, typos and pinyin welcome)", tag="search",
              query=kb_schemas.SearchQuery, responses={200: kb_schemas.SearchResponse}, errors=(400, 503))
def kb_search():
    query = httpio.parse_query(app.current_request, kb_schemas.SearchQuery)
    return httpio.json_response(kb.search(query.q, category=query.category, limit=query.limit))


@app.route("/kb/articles/{slug}", methods=["GET"])
@api_contract("One article: rendered HTML body, other ways to ask, related articles", tag="search",
              responses={200: kb_schemas.ArticleResponse}, errors=(404, 503))
def kb_article(slug):
    article = kb.get_article(slug)
    if article is None:
        raise errors.NotFound("没有这篇文章。", code="article_not_found")
    kb.record_view(slug)
    return httpio.json_response(article, headers={"Cache-Control": "public, max-age=300"})


@app.route("/kb/categories", methods=["GET"])
@api_contract("Article categories with Chinese names and counts", tag="search",
              responses={200: kb_schemas.CategoriesResponse}, errors=(503,))
def kb_categories():
    return httpio.json_response(kb.categories(), headers={"Cache-Control": "public, max-age=300"})


@app.route("/kb/articles/{slug}/feedback", methods=["POST"])
@api_contract("Was this article helpful? (anonymous; optional comment)", tag="search",
              body=kb_schemas.FeedbackBody, responses={201: kb_schemas.FeedbackResponse}, errors=(404, 409, 429, 503))
def kb_feedback(slug):
    body = httpio.parse_body(app.current_request, kb_schemas.FeedbackBody)
    ratelimit.hit("kb_feedback", httpio.client_key(app.current_request))
    kb.record_feedback(slug, helpful=body.helpful, comment=body.comment, user_id=None, query=body.query)
    return httpio.json_response({"status": "recorded"}, status=201)


@app.route("/kb/signals", methods=["POST"])
@api_contract("What a search led to: a result opened or a case opened afterwards (anonymous)", tag="search",
              body=kb_schemas.SignalBody, responses={202: kb_schemas.SignalResponse}, errors=(429, 503))
def kb_signal():
    body = httpio.parse_body(app.current_request, kb_schemas.SignalBody)
    ratelimit.hit("kb_signal", httpio.client_key(app.current_request))
    kb.record_signal(body.query, body.slug, body.kind)
    return httpio.json_response({"status": "accepted"}, status=202)


@app.route("/support/kb-gaps", methods=["GET"], authorizer=cognito_jwt)
@api_contract("Top zero-result queries and least helpful articles (support roles)", tag="search",
              query=kb_schemas.GapsQuery, responses={200: kb_schemas.GapsResponse}, errors=(400, 403))
def kb_gaps():
    httpio.require_role(_caller(), "support", "senior-support")
    query = httpio.parse_query(app.current_request, kb_schemas.GapsQuery)
    return httpio.json_response(kb.kb_gaps(query.limit, days=query.days))


kb_relearn = lazy_import("chalicelib.search.relearn")


@app.schedule(Rate(1, unit=Rate.DAYS))
def relearn_kb(event):
    """Rebuild the learned search model from the last 30 days' signals into KB_LEARNED_URI (S3)."""
    kb_relearn.rebuild()


# help centre and contacts
help_pages = lazy_import("chalicelib.helpcentre.pages")
help_schemas = lazy_schemas("chalicelib.helpcentre.schemas")
help_door = lazy_import("chalicelib.web.helpdoor")   # whether a help page's reader is signed in (the header)
contacts = lazy_import("chalicelib.search.contacts")
contact_schemas = lazy_schemas("chalicelib.search.contacts")


def _html(page: help_pages.Page):
    return httpio.html_response(page.html, status=page.status, headers=page.headers)


@app.route("/contacts", methods=["GET"])
@api_contract("The wallet's official contact channels and the public regulator lines", tag="search",
              responses={200: contact_schemas.ContactDirectory})
def list_contacts():
    return httpio.json_response(contacts.directory().model_dump(mode="json"),
                              headers={"Cache-Control": "public, max-age=300"})


@app.route("/contacts/verify", methods=["GET"])
@api_contract("Whether a phone number is one of the wallet's official numbers (scam check)", tag="search",
              query=contact_schemas.VerifyQuery, responses={200: contact_schemas.NumberCheck}, errors=(400,))
def verify_contact_number():
    query = httpio.parse_query(app.current_request, contact_schemas.VerifyQuery)
    return httpio.json_response(contacts.verify_number(query.number).model_dump(mode="json"))


@app.route("/help", methods=["GET"])
@api_contract("Help centre home page (HTML); 503 page with the hotline if the index is unavailable", tag="search",
              responses={200: None, 503: None}, html=True)
def help_home():
    return _html(help_pages.home(viewer=help_door.viewer(app.current_request)))


@app.route("/help/search", methods=["GET"])
@api_contract("Help centre search results (HTML); an empty or over-long question is a 400 page", tag="search",
              query=help_schemas.HelpSearchQuery, responses={200: None, 400: None, 503: None}, html=True)
def help_search():
    return _html(help_pages.search(httpio.parse_query(app.current_request, help_schemas.HelpSearchQuery),
                                   viewer=help_door.viewer(app.current_request)))


@app.route("/help/articles/{slug}", methods=["GET"])
@api_contract("One help article with feedback buttons (HTML); unknown slug is a 404 page; ?q= (the search that "
              "led here) is recorded as a click signal", tag="search",
              query=help_schemas.ArticlePageQuery, responses={200: None, 404: None, 503: None}, html=True)
def help_article(slug):
    return _html(help_pages.article(slug, httpio.parse_query(app.current_request, help_schemas.ArticlePageQuery),
                                    viewer=help_door.viewer(app.current_request)))


@app.route("/help/contact", methods=["GET"])
@api_contract("Official channels, hours and the number checker (HTML)", tag="search",
              query=help_schemas.ContactPageQuery, responses={200: None, 400: None}, html=True)
def help_contact():
    return _html(help_pages.contact(httpio.parse_query(app.current_request, help_schemas.ContactPageQuery),
                                    viewer=help_door.viewer(app.current_request)))


# ---------------------------------------------------------------- escalation
# step-based escalation (chalicelib/escalation): cases, support queues, the sweep
esc_schemas = lazy_schemas("chalicelib.escalation.schemas")

escalation = lazy_import("chalicelib.escalation.service")


@app.route("/support/suggestions", methods=["GET"], authorizer=cognito_jwt)
@api_contract("Knowledge-base articles that may already answer the question (before opening a case)",
              tag="escalation", query=esc_schemas.SuggestionQuery, responses={200: esc_schemas.Suggestions},
              errors=(400, 503))
def case_suggestions():
    query = httpio.parse_query(app.current_request, esc_schemas.SuggestionQuery)
    return httpio.json_response(escalation.suggestions(query.q, _caller()))


@app.route("/support/cases", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Open a case (account_security starts at senior with P1 and freezes repayments at once)",
              tag="escalation", body=esc_schemas.NewCase, headers=_OPTIONAL_IDEMPOTENCY_HEADER,
              responses={201: esc_schemas.CaseView}, errors=(409, 422, 429, 503))
def open_case():
    body = httpio.parse_body(app.current_request, esc_schemas.NewCase)
    who = _caller()
    opened = escalation.open_case(who, Context.current(), category=body.category, description=body.description,
                                  repayment_id=body.repayment_id, idempotency_key=_idempotency_key(),
                                  # each case texts the user and e-mails a team; a known key replays first
                                  limit=lambda: ratelimit.hit("case_open", who.user_id))
    return _idempotent_response(opened, {"Location": f"/support/cases/{opened.body['case_id']}"})


@app.route("/support/cases", methods=["GET"], authorizer=cognito_jwt)
@api_contract("The caller's cases, newest first", tag="escalation", responses={200: esc_schemas.CaseList})
def my_cases():
    return httpio.json_response(escalation.list_mine(_caller()))


@app.route("/support/cases/{case_id}", methods=["GET"], authorizer=cognito_jwt)
@api_contract("A case: step, status, deadline, timeline and what happens next (staff also see notes)",
              tag="escalation", responses={200: esc_schemas.CaseView}, errors=(404,))
def get_case(case_id):
    return httpio.json_response(escalation.get_case(_caller(), Context.current(), case_id))


@app.route("/support/cases/{case_id}/escalate", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Move the case one step up, once per Idempotency-Key (the owner: not solved — once the step has "
              "answered or its limit has lapsed, else 409 step_not_answered; staff: escalate)", tag="escalation",
              body=esc_schemas.Reason, headers=_IDEMPOTENCY_HEADER, responses={200: esc_schemas.CaseView},
              errors=(400, 403, 404, 409, 422))
def escalate_case(case_id):
    body = httpio.parse_body(app.current_request, esc_schemas.Reason)
    moved = escalation.escalate(_caller(), Context.current(), case_id, body.reason, _idempotency_key())
    return _idempotent_response(moved)


@app.route("/support/cases/{case_id}/messages", methods=["POST"], authorizer=cognito_jwt)
@api_contract("The owner adds information (resumes a clock paused while waiting on the user)", tag="escalation",
              body=esc_schemas.UserMessage, headers=_OPTIONAL_IDEMPOTENCY_HEADER,
              responses={200: esc_schemas.CaseView}, errors=(403, 404, 409, 422))
def case_user_message(case_id):
    body = httpio.parse_body(app.current_request, esc_schemas.UserMessage)
    added = escalation.add_user_message(_caller(), Context.current(), case_id, body.message, _idempotency_key())
    return _idempotent_response(added)


@app.route("/support/cases/{case_id}/confirm", methods=["POST"], authorizer=cognito_jwt)
@api_contract("The owner confirms a resolved case is solved (closes it); with a body, rates it 1–5 with an "
              "optional comment (stored once, shown to staff)", tag="escalation", body=esc_schemas.Confirm,
              headers=_OPTIONAL_IDEMPOTENCY_HEADER, responses={200: esc_schemas.CaseView},
              errors=(400, 403, 404, 409, 422))
def confirm_case(case_id):
    request = app.current_request
    body = httpio.parse_body(request, esc_schemas.Confirm) if (request.raw_body or b"").strip() else None
    return _idempotent_response(escalation.confirm(
        _caller(), Context.current(), case_id, _idempotency_key(),
        rating=body.rating if body else None, comment=body.comment if body else None))


@app.route("/support/cases/{case_id}/satisfaction", methods=["POST"], authorizer=cognito_jwt)
@api_contract("The owner rates a closed case 1–5 (once; a case confirmed with a rating is already rated: 409)",
              tag="escalation", body=esc_schemas.Confirm, responses={200: esc_schemas.CaseView},
              errors=(400, 403, 404, 409, 422))
def rate_case(case_id):
    body = httpio.parse_body(app.current_request, esc_schemas.Confirm)
    return httpio.json_response(escalation.rate(_caller(), Context.current(), case_id, body.rating, body.comment))


@app.route("/support/cases/{case_id}/messages", methods=["GET"], authorizer=cognito_jwt)
@api_contract("The owner's conversation after a cursor (poll with ?after=<cursor> for new replies)",
              tag="escalation", query=esc_schemas.MessagesQuery, responses={200: esc_schemas.NewMessages},
              errors=(400, 403, 404))
def case_messages_since(case_id):
    query = httpio.parse_query(app.current_request, esc_schemas.MessagesQuery)
    return httpio.json_response(escalation.messages_since(_caller(), Context.current(), case_id, query.after))


@app.route("/support/cases/{case_id}/attachments", methods=["POST"], authorizer=cognito_jwt)
@api_contract("A presigned S3 POST for one evidence file (PNG/JPEG/WebP/PDF, at most 10 MB) on the owner's own "
              "case; upload it straight to S3", tag="escalation", body=esc_schemas.AttachmentRequest,
              responses={201: esc_schemas.AttachmentUpload}, errors=(400, 403, 404, 409, 422, 429))
def case_attachment_upload(case_id):
    body = httpio.parse_body(app.current_request, esc_schemas.AttachmentRequest)
    caller = _caller()
    ratelimit.hit("attachment_upload", caller.user_id)
    granted = escalation.attachment_upload(caller, Context.current(), case_id, body.filename, body.content_type,
                                           body.size)
    return httpio.json_response(granted, status=201)


@app.route("/support/cases/{case_id}/attachments", methods=["GET"], authorizer=cognito_jwt)
@api_contract("A case's evidence attachments with short-lived download links (owner and staff)",
              tag="escalation", responses={200: esc_schemas.AttachmentList}, errors=(404,))
def case_attachments(case_id):
    return httpio.json_response(escalation.list_attachments(_caller(), Context.current(), case_id))


@app.route("/support/cases/{case_id}/reopen", methods=["POST"], authorizer=cognito_jwt)
@api_contract("The owner reopens a resolved case within 7 days (back to the step it was in)", tag="escalation",
              body=esc_schemas.Reason, headers=_OPTIONAL_IDEMPOTENCY_HEADER, responses={200: esc_schemas.CaseView},
              errors=(403, 404, 409, 422))
def reopen_case(case_id):
    body = httpio.parse_body(app.current_request, esc_schemas.Reason)
    reopened = escalation.reopen(_caller(), Context.current(), case_id, body.reason, _idempotency_key())
    return _idempotent_response(reopened)


@app.route("/support/cases/{case_id}/export", methods=["GET"], authorizer=cognito_jwt)
@api_contract("The case as JSON to attach to a complaint (with regulator/legal routes and evidence list)",
              tag="escalation", responses={200: esc_schemas.CaseExport}, errors=(404,))
def export_case(case_id):
    view = escalation.export(_caller(), Context.current(), case_id)
    return httpio.json_response(view, headers={
        "Content-Disposition": f'attachment; filename="{view.reference}.json"'})


@app.route("/support/cases/{case_id}/export.html", methods=["GET"], authorizer=cognito_jwt)
@api_contract("The case as a printable page (HTML)", tag="escalation", responses={200: None}, errors=(404,),
              html=True, path_ids=True)
def export_case_html(case_id):
    return httpio.html_response(escalation.export_html(_caller(), Context.current(), case_id))


@app.route("/support/cases/{case_id}/assign", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Assign the case (to the caller unless assignee is given); support roles", tag="escalation",
              body=esc_schemas.Assign, headers=_OPTIONAL_IDEMPOTENCY_HEADER, responses={200: esc_schemas.CaseView},
              errors=(403, 404, 409, 422))
def assign_case(case_id):
    body = httpio.parse_body(app.current_request, esc_schemas.Assign)
    return _idempotent_response(escalation.assign(_caller(), Context.current(), case_id, body.assignee,
                                                  _idempotency_key()))


@app.route("/support/cases/{case_id}/notes", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Add an internal note (never shown to the user); support roles", tag="escalation",
              body=esc_schemas.Note, headers=_OPTIONAL_IDEMPOTENCY_HEADER, responses={201: esc_schemas.NoteAdded},
              errors=(403, 404, 409, 422))
def note_case(case_id):
    body = httpio.parse_body(app.current_request, esc_schemas.Note)
    return _idempotent_response(escalation.add_note(_caller(), Context.current(), case_id, body.text,
                                                    _idempotency_key()))


@app.route("/support/cases/{case_id}/reply", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Reply to the user (the step's response; await_user pauses the clock); support roles",
              tag="escalation", body=esc_schemas.Reply, headers=_OPTIONAL_IDEMPOTENCY_HEADER,
              responses={200: esc_schemas.CaseView}, errors=(403, 404, 409, 422))
def reply_case(case_id):
    body = httpio.parse_body(app.current_request, esc_schemas.Reply)
    replied = escalation.reply(_caller(), Context.current(), case_id, body.message, body.await_user,
                               _idempotency_key())
    return _idempotent_response(replied)


@app.route("/support/cases/{case_id}/resolve", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Resolve the case (the user may confirm or reopen within 7 days); support roles",
              tag="escalation", body=esc_schemas.Resolve, headers=_OPTIONAL_IDEMPOTENCY_HEADER,
              responses={200: esc_schemas.CaseView}, errors=(403, 404, 409, 422))
def resolve_case(case_id):
    body = httpio.parse_body(app.current_request, esc_schemas.Resolve)
    return _idempotent_response(escalation.resolve(_caller(), Context.current(), case_id, body.summary,
                                                   _idempotency_key()))


@app.route("/support/queues/{step}", methods=["GET"], authorizer=cognito_jwt)
@api_contract("Open cases of a step, nearest deadline first (opaque cursor); support roles", tag="escalation",
              query=esc_schemas.QueueQuery, responses={200: esc_schemas.QueuePage}, errors=(400, 403, 404))
def support_queue(step):
    query = httpio.parse_query(app.current_request, esc_schemas.QueueQuery)
    return httpio.json_response(escalation.queue(_caller(), step, limit=query.limit, cursor=query.cursor))


@app.route("/support/accounts/{user_id}/unfreeze", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Lift a security freeze on a user's repayments (senior-support only)", tag="escalation",
              responses={200: esc_schemas.AccountFreeze}, errors=(400, 403))
def unfreeze_account(user_id):
    return httpio.json_response(escalation.unfreeze(_caller(), Context.current(), user_id))


@app.schedule(Rate(1, unit=Rate.MINUTES))
def escalation_sweep(event):
    """Warn teams before deadlines, escalate lapsed steps, auto-close resolved cases after 7 days."""
    escalation.sweep(Context.current())


# --- browser: sign-in and agent workspace ---
# Server-rendered pages (chalicelib/web/): sessions in an HttpOnly cookie (chalicelib/web/session.py), every
# form POST with a CSRF token and answered 303; refusals are pages (chalicelib/edge/pages.py), never JSON.
from chalice import Response  # noqa: E402

web_pages = lazy_import("chalicelib.edge.pages")
signin = lazy_import("chalicelib.web.signin")

_FORM = ["application/x-www-form-urlencoded"]


def _answers_json(view):
    """A browser-door route that answers a page's script in JSON: its errors stay JSON too (errorpages.py)."""
    view.answers_json = True
    return view


def _web(reply):
    """A page's ``Reply`` as the response (cookies as separate Set-Cookie headers, never cached or framed)."""
    headers = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
               **reply.headers}
    if reply.cookies:
        headers["Set-Cookie"] = list(reply.cookies)
    if reply.status == 303:
        return Response(body="", status_code=303, headers=headers)
    return httpio.html_response(reply.html, status=reply.status, headers=headers)


@app.route("/agent/login", methods=["GET"])
@httpio.surface_errors
def agent_login_page():
    return _web(signin.login_page(app.current_request, door="agent"))


@app.route("/agent/login", methods=["POST"], content_types=_FORM)
@httpio.surface_errors
def agent_login():
    return _web(signin.login(app.current_request, door="agent"))


@app.route("/agent/login/new-password", methods=["POST"], content_types=_FORM)
@httpio.surface_errors
def agent_new_password():
    return _web(signin.new_password(app.current_request, door="agent"))


@app.route("/agent/logout", methods=["POST"], content_types=_FORM)
@httpio.surface_errors
def agent_logout():
    return _web(signin.logout(app.current_request, door="agent"))


@app.route("/agent/login/sso", methods=["GET"])
@httpio.surface_errors
def agent_login_sso():
    return _web(signin.sso_begin(app.current_request))


@app.route("/agent/callback", methods=["GET"])
@httpio.surface_errors
def agent_sso_callback():
    return _web(signin.sso_callback(app.current_request))


@app.route("/help/login", methods=["GET"])
@httpio.surface_errors
def help_login_page():
    return _web(signin.login_page(app.current_request, door="help"))


@app.route("/help/login", methods=["POST"], content_types=_FORM)
@httpio.surface_errors
def help_login():
    return _web(signin.login(app.current_request, door="help"))


@app.route("/help/login/new-password", methods=["POST"], content_types=_FORM)
@httpio.surface_errors
def help_new_password():
    return _web(signin.new_password(app.current_request, door="help"))


@app.route("/help/logout", methods=["POST"], content_types=_FORM)
@httpio.surface_errors
def help_logout():
    return _web(signin.logout(app.current_request, door="help"))


@app.route("/help/session", methods=["POST"], content_types=["application/json", *_FORM])
@httpio.surface_errors
@_answers_json
def help_webview_session():
    """The wallet app's WebView: its bearer token for a help-centre session cookie (303 to ?next=)."""
    return _web(signin.webview_session(app.current_request))


# the agent workspace (chalicelib/web/agent.py) over the escalation services
agent_pages = lazy_import("chalicelib.web.agent")
staff_repay_schemas = lazy_schemas("chalicelib.repay.schemas")


@app.route("/agent", methods=["GET"])
@httpio.surface_errors
def agent_queue():
    return _web(agent_pages.queue(app.current_request))


@app.route("/agent/cases/{case_id}", methods=["GET"])
@httpio.surface_errors
def agent_case(case_id):
    return _web(agent_pages.case_page(app.current_request, case_id))


@app.route("/agent/cases/{case_id}/updates", methods=["GET"])
@httpio.surface_errors(path_ids=True)   # a page script's JSON: 404 JSON for an impossible id
@_answers_json
def agent_case_updates(case_id):
    status, body = agent_pages.updates(app.current_request, case_id)
    return httpio.json_response(body, status=status)


@app.route("/agent/cases/{case_id}/assign", methods=["POST"], content_types=_FORM)
@httpio.surface_errors
def agent_assign(case_id):
    return _web(agent_pages.assign(app.current_request, case_id))   # claim or assign


@app.route("/agent/cases/{case_id}/notes", methods=["POST"], content_types=_FORM)
@httpio.surface_errors
def agent_note(case_id):
    return _web(agent_pages.note(app.current_request, case_id))   # internal note


@app.route("/agent/cases/{case_id}/reply", methods=["POST"], content_types=_FORM)
@httpio.surface_errors
def agent_reply(case_id):
    return _web(agent_pages.reply(app.current_request, case_id))   # reply to the user


@app.route("/agent/cases/{case_id}/escalate", methods=["POST"], content_types=_FORM)
@httpio.surface_errors
def agent_escalate(case_id):
    return _web(agent_pages.escalate(app.current_request, case_id))   # escalate with a reason


@app.route("/agent/cases/{case_id}/resolve", methods=["POST"], content_types=_FORM)
@httpio.surface_errors
def agent_resolve(case_id):
    return _web(agent_pages.resolve(app.current_request, case_id))   # resolve with a summary


@app.route("/agent/cases/{case_id}/unfreeze", methods=["POST"], content_types=_FORM)
@httpio.surface_errors
def agent_unfreeze(case_id):
    return _web(agent_pages.unfreeze(app.current_request, case_id))   # lift a freeze (senior, confirmed)


@app.route("/agent/cases/{case_id}/unfreeze", methods=["GET"])
@httpio.surface_errors
def agent_unfreeze_confirm(case_id):
    return _web(agent_pages.unfreeze_confirm(app.current_request, case_id))


@app.route("/agent/cases/{case_id}/attachments/{attachment_id}", methods=["GET"])
@httpio.surface_errors
def agent_attachment(case_id, attachment_id):
    return _web(agent_pages.attachment_download(app.current_request, case_id, attachment_id))   # 303 to S3


@app.route("/support/cases/{case_id}/repayments", methods=["GET"], authorizer=cognito_jwt)
@api_contract("The repayment(s) behind a case, for staff who may act on its step; each read leaves an access "
              "record (who, whose data, when; card last-4 only)", tag="escalation",
              responses={200: staff_repay_schemas.StaffRepayments}, errors=(403, 404))
def case_repayments(case_id):
    return httpio.json_response(escalation.case_repayments(_caller(), Context.current(), case_id))


# --- bills, schedules, reminders ---
# saved bills, the catalogue, scheduled and automatic repayments, the reminder sweep (chalicelib/bills)
bills_schemas = lazy_schemas("chalicelib.bills.schemas")
bills = lazy_import("chalicelib.bills.service")


@app.route("/catalogue", methods=["GET"])
@api_contract("Card issuers, licensed loan platforms and billers per city (versioned configuration)", tag="bills",
              query=bills_schemas.CatalogueQuery, responses={200: bills_schemas.CatalogueView}, errors=(400, 404))
def bill_catalogue():
    query = httpio.parse_query(app.current_request, bills_schemas.CatalogueQuery)
    return httpio.json_response(bills.catalogue(query, bills.current()), headers={"Cache-Control": "public, max-age=300"})


@app.route("/bills/lookup", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Look up a utility account at its biller: amount due and the masked account holder", tag="bills",
              body=bills_schemas.LookupBody, responses={200: bills_schemas.LookupView}, errors=(400, 422))
def lookup_bill():
    body = httpio.parse_body(app.current_request, bills_schemas.LookupBody)
    return httpio.json_response(bills.lookup(_caller(), body, bills.current()))


@app.route("/bills", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Save a bill (card: issuer + last 4 + token, never the number; loan; utility) with its due day "
              "and reminder preference", tag="bills", body=bills_schemas.NewBill,
              headers=_OPTIONAL_IDEMPOTENCY_HEADER, responses={201: bills_schemas.BillView}, errors=(400, 409, 422))
def save_bill():
    body = httpio.parse_body(app.current_request, bills_schemas.NewBill)
    caller = _caller()
    saved = bills.once(caller, _idempotency_key(), "BILL", body.model_dump(mode="json"),
                       lambda: (201, bills.create_bill(caller, body, bills.current())))
    return _idempotent_response(saved, {"Location": f"/bills/{saved.body['id']}"})


@app.route("/bills", methods=["GET"], authorizer=cognito_jwt)
@api_contract("The caller's saved bills, newest first (opaque cursor)", tag="bills", query=bills_schemas.PageQuery,
              responses={200: bills_schemas.BillPage}, errors=(400,))
def list_bills():
    query = httpio.parse_query(app.current_request, bills_schemas.PageQuery)
    return httpio.json_response(bills.list_bills(_caller(), query, bills.current()))


@app.route("/bills/{bill_id}", methods=["GET"], authorizer=cognito_jwt)
@api_contract("One saved bill: next due date and next reminder", tag="bills",
              responses={200: bills_schemas.BillView}, errors=(404,))
def get_bill(bill_id):
    return httpio.json_response(bills.get_bill(_caller(), bill_id, bills.current()))


@app.route("/bills/{bill_id}", methods=["PATCH"], authorizer=cognito_jwt)
@api_contract("Change a bill's due day or date, reminders on/off, or name", tag="bills",
              body=bills_schemas.BillChange, responses={200: bills_schemas.BillView}, errors=(400, 404, 409, 422))
def change_bill(bill_id):
    body = httpio.parse_body(app.current_request, bills_schemas.BillChange)
    return httpio.json_response(bills.update_bill(_caller(), bill_id, body, bills.current()))


@app.route("/bills/{bill_id}", methods=["DELETE"], authorizer=cognito_jwt)
@api_contract("Delete a saved bill (409 while a schedule of it is open)", tag="bills",
              responses={200: bills_schemas.Deleted}, errors=(404, 409))
def delete_bill(bill_id):
    return httpio.json_response(bills.delete_bill(_caller(), bill_id, bills.current()))


@app.route("/bills/{bill_id}/schedules", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Schedule a repayment of the bill: on a date, to arrive by the due date, or monthly autopay "
              "(utilities); above the step-up threshold it waits for the SMS code", tag="bills",
              body=bills_schemas.NewSchedule, headers=_OPTIONAL_IDEMPOTENCY_HEADER,
              responses={201: bills_schemas.ScheduleView}, errors=(400, 404, 409, 422))
def schedule_repayment(bill_id):
    body = httpio.parse_body(app.current_request, bills_schemas.NewSchedule)
    caller = _caller()
    made = bills.once(caller, _idempotency_key(), f"SCHEDULE#{bill_id}", body.model_dump(mode="json"),
                      lambda: (201, bills.create_schedule(caller, bill_id, body, bills.current())))
    return _idempotent_response(made, {"Location": f"/schedules/{made.body['id']}"})


@app.route("/schedules", methods=["GET"], authorizer=cognito_jwt)
@api_contract("The caller's scheduled repayments, newest first, each with its history", tag="bills",
              query=bills_schemas.PageQuery, responses={200: bills_schemas.SchedulePage}, errors=(400,))
def list_schedules():
    query = httpio.parse_query(app.current_request, bills_schemas.PageQuery)
    return httpio.json_response(bills.list_schedules(_caller(), query, bills.current()))


@app.route("/schedules/{schedule_id}", methods=["GET"], authorizer=cognito_jwt)
@api_contract("One scheduled repayment: when it runs and what ran", tag="bills",
              responses={200: bills_schemas.ScheduleView}, errors=(404,))
def get_schedule(schedule_id):
    return httpio.json_response(bills.get_schedule(_caller(), schedule_id, bills.current()))


@app.route("/schedules/{schedule_id}", methods=["PATCH"], authorizer=cognito_jwt)
@api_contract("Change a schedule until it starts (amount, date; 409 once started)", tag="bills",
              body=bills_schemas.ScheduleChange, responses={200: bills_schemas.ScheduleView},
              errors=(400, 404, 409, 422))
def change_schedule(schedule_id):
    body = httpio.parse_body(app.current_request, bills_schemas.ScheduleChange)
    return httpio.json_response(bills.change_schedule(_caller(), schedule_id, body, bills.current()))


@app.route("/schedules/{schedule_id}/verify", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Confirm a large schedule with the SMS code (once; its runs need none)", tag="bills",
              body=bills_schemas.CodeBody, responses={200: bills_schemas.ScheduleView}, errors=(400, 404, 409, 422))
def verify_schedule(schedule_id):
    body = httpio.parse_body(app.current_request, bills_schemas.CodeBody)
    return httpio.json_response(bills.verify_schedule(_caller(), schedule_id, body.code, bills.current()))


@app.route("/schedules/{schedule_id}/cancel", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Cancel a schedule until it starts (repeating it is harmless; 409 once started)", tag="bills",
              responses={200: bills_schemas.ScheduleView}, errors=(404, 409))
def cancel_schedule(schedule_id):
    return httpio.json_response(bills.cancel_schedule(_caller(), schedule_id, bills.current()))


@app.route("/notices", methods=["GET"], authorizer=cognito_jwt)
@api_contract("The caller's in-app notices (reminders, repayment outcomes, schedule news; the SMS's words), "
              "newest first, with the unread count", tag="bills", query=bills_schemas.PageQuery,
              responses={200: bills_schemas.NoticePage}, errors=(400,))
def list_notices():
    query = httpio.parse_query(app.current_request, bills_schemas.PageQuery)
    return httpio.json_response(bills.list_notices(_caller(), query, bills.current()))


@app.route("/notices/unread", methods=["GET"], authorizer=cognito_jwt)
@api_contract("How many of the caller's notices are unread (the app's badge)", tag="bills",
              responses={200: bills_schemas.UnreadView})
def unread_notices():
    return httpio.json_response(bills.unread_notices(_caller(), bills.current()))


@app.route("/notices/{notice_id}/read", methods=["POST"], authorizer=cognito_jwt)
@api_contract("Mark one of the caller's notices read (repeating it is harmless)", tag="bills",
              responses={200: bills_schemas.InboxNotice}, errors=(404,))
def read_notice(notice_id):
    return httpio.json_response(bills.read_notice(_caller(), notice_id, bills.current()))


@app.schedule(Rate(1, unit=Rate.MINUTES))
def bills_sweep(event):
    """Fan-out: one message per wake shard to the bills wake queue; the workers below do the sweeping."""
    bills.fan_out(bills.current())


@app.on_sqs_message(queue=_settings().bills_wake_queue, batch_size=1)
def bills_wake(event):
    """One shard of due-date reminders and scheduled repayments (sparse, time-bucketed index; no Scan), within
    the time budget; throughput grows with WAKE_SHARDS. An exception redelivers the message (safe: conditional)."""
    context = getattr(event, "context", None)
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    for record in event:
        bills.work(record.body, bills.current(),
                   time_left=(lambda: remaining() / 1000 - 10) if remaining else None)


# --- browser: 我的工单 ---
# The wallet user's own 工单 (chalicelib/web/mycases.py) on the escalation services, with the help-door session:
# list, open (suggestions while typing; a suggestion opened counts as a deflection), one 工单 (reply, confirm
# with a rating, reopen, escalate, attachments to S3, new messages polled). Form POSTs check CSRF and answer 303.
mycases = lazy_import("chalicelib.web.mycases")


@app.route("/help/cases", methods=["GET"])
@httpio.surface_errors
def my_cases_page():
    return _web(mycases.list_page(app.current_request))


@app.route("/help/cases", methods=["POST"], content_types=_FORM)
@httpio.surface_errors
def my_case_create():
    return _web(mycases.create(app.current_request))


@app.route("/help/cases/new", methods=["GET"])
@httpio.surface_errors
def my_case_new():
    return _web(mycases.new_page(app.current_request))


@app.route("/help/cases/suggestions", methods=["GET"])
@httpio.surface_errors
@_answers_json
def my_case_suggestions():
    return _web_json(mycases.suggestions(app.current_request))


@app.route("/help/cases/deflections", methods=["POST"], content_types=_FORM)
@httpio.surface_errors
@_answers_json
def my_case_deflection():
    return _web_json(mycases.deflection(app.current_request))


@app.route("/help/cases/{case_id}", methods=["GET"])
@api_contract("「我的工单」: one 工单 as a page (HTML; the help-door session cookie, without one 303 to /help/login; "
              "someone else's 工单 is a 404 page)", tag="escalation", responses={200: None, 404: None}, html=True)
def my_case_page(case_id):
    return _web(mycases.case_page(app.current_request, case_id))


@app.route("/help/cases/{case_id}/reply", methods=["POST"], content_types=_FORM)
@httpio.surface_errors
def my_case_reply(case_id):
    return _web(mycases.reply(app.current_request, case_id))


@app.route("/help/cases/{case_id}/confirm", methods=["POST"], content_types=_FORM)
@httpio.surface_errors
def my_case_confirm(case_id):
    return _web(mycases.confirm(app.current_request, case_id))


@app.route("/help/cases/{case_id}/satisfaction", methods=["POST"], content_types=_FORM)
@httpio.surface_errors
def my_case_rate(case_id):
    return _web(mycases.rate(app.current_request, case_id))


@app.route("/help/cases/{case_id}/reopen", methods=["POST"], content_types=_FORM)
@httpio.surface_errors
def my_case_reopen(case_id):
    return _web(mycases.reopen(app.current_request, case_id))


@app.route("/help/cases/{case_id}/escalate", methods=["POST"], content_types=_FORM)
@httpio.surface_errors
def my_case_escalate(case_id):
    return _web(mycases.escalate(app.current_request, case_id))


@app.route("/help/cases/{case_id}/attachments", methods=["POST"], content_types=_FORM)
@httpio.surface_errors(path_ids=True)   # a page script's JSON: 404 JSON for an impossible id
@_answers_json
def my_case_attachment_grant(case_id):
    """The page's script asks for a presigned S3 POST (JSON), then uploads the file straight to S3."""
    return _web_json(mycases.attachment_grant(app.current_request, case_id))


@app.route("/help/cases/{case_id}/messages", methods=["GET"])
@httpio.surface_errors(path_ids=True)   # a page script's JSON: 404 JSON for an impossible id
@_answers_json
def my_case_messages(case_id):
    return _web_json(mycases.messages(app.current_request, case_id))


@app.route("/help/cases/{case_id}/export.html", methods=["GET"])
@httpio.surface_errors
def my_case_export(case_id):
    return _web(mycases.export_page(app.current_request, case_id))


@app.route("/help/cases/{case_id}/attachments/{attachment_id}", methods=["GET"])
@httpio.surface_errors
def my_case_attachment(case_id, attachment_id):
    return _web(mycases.attachment_download(app.current_request, case_id, attachment_id))


# --- browser: 我的还款 ---
# The wallet user's money in the help centre (chalicelib/web/mymoney.py), with the help-door session, on the same
# services as the JSON API: repayments (list, detail, retry, the receipt), saved bills and reminders, the notices
# inbox; and the public receipt check a printed receipt's address opens. Form POSTs check CSRF and answer 303.
mymoney = lazy_import("chalicelib.web.mymoney")


@app.route("/help/repayments", methods=["GET"])
@httpio.surface_errors
def my_repayments_page():
    return _web(mymoney.list_page(app.current_request))


@app.route("/help/repayments/{repayment_id}", methods=["GET"])
@httpio.surface_errors
def my_repayment_page(repayment_id):
    return _web(mymoney.detail_page(app.current_request, repayment_id))


@app.route("/help/repayments/{repayment_id}/retry", methods=["POST"], content_types=_FORM)
@httpio.surface_errors
def my_repayment_retry(repayment_id):
    return _web(mymoney.retry(app.current_request, repayment_id))


@app.route("/help/repayments/{repayment_id}/receipt", methods=["GET"])
@httpio.surface_errors
def my_repayment_receipt(repayment_id):
    return _web(mymoney.receipt_page(app.current_request, repayment_id))


@app.route("/help/bills", methods=["GET"])
@httpio.surface_errors
def my_bills_page():
    return _web(mymoney.bills_page(app.current_request))


@app.route("/help/bills/{bill_id}/reminders", methods=["POST"], content_types=_FORM)
@httpio.surface_errors
def my_bill_reminders(bill_id):
    return _web(mymoney.bill_reminders(app.current_request, bill_id))


@app.route("/help/notices", methods=["GET"])
@httpio.surface_errors
def my_notices_page():
    return _web(mymoney.notices_page(app.current_request))


@app.route("/help/notices/{notice_id}/read", methods=["POST"], content_types=_FORM)
@httpio.surface_errors
def my_notice_read(notice_id):
    return _web(mymoney.read_notice(app.current_request, notice_id))


@app.route("/help/receipts/verify", methods=["GET"])
@api_contract("Check a receipt as a page (HTML, public): the form, prefilled from ?serial=&code= as printed on the "
              "receipt, and the answer; rate-limited per IP as GET /receipts/verify (the JSON check)", tag="repay",
              query=help_schemas.ReceiptCheckPageQuery, responses={200: None, 400: None, 429: None, 503: None},
              html=True)
def receipt_check_page():
    request = app.current_request
    return _web(mymoney.receipt_check_page(httpio.parse_query(request, help_schemas.ReceiptCheckPageQuery),
                                           httpio.client_key(request), viewer=help_door.viewer(request)))


def _web_json(reply):
    """A page script's JSON answer (the same session; never cached)."""
    if reply.status == 204:
        return Response(body="", status_code=204, headers={"Cache-Control": "no-store"})
    return Response(body=reply.html, status_code=reply.status,
                    headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", **reply.headers})


# --- reports ---
# Senior support's reports (chalicelib/insight, #15): JSON twins with a CSV of any table, the page in the
# agent workspace, and the schedule that folds the events (chalicelib/adapters/events.py) into hourly rollups.
insight = lazy_import("chalicelib.insight.service")
insight_pages = lazy_import("chalicelib.insight.pages")
insight_rollup = lazy_import("chalicelib.insight.rollup")
insight_schemas = lazy_schemas("chalicelib.insight.schemas")


@app.route("/support/reports/{report}", methods=["GET"], authorizer=cognito_jwt)
@api_contract("A report (cases, satisfaction, self-service) over a date range with category/step filters; "
              "?format=csv&table= downloads one table; senior-support only", tag="reports",
              query=insight_schemas.ReportQuery, responses={200: insight_schemas.Report}, errors=(400, 403, 404),
              csv=True)
def support_report(report):
    query = httpio.parse_query(app.current_request, insight_schemas.ReportQuery)
    if query.format == "csv":
        filename, text = insight.csv_download(_caller(), Context.current(), report, query)
        return Response(body=text, status_code=200, headers={
            "Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="{filename}"'})
    return httpio.json_response(insight.report(_caller(), Context.current(), report, query))


@app.route("/agent/reports", methods=["GET"])
@httpio.surface_errors
def agent_reports():
    """The reports page (senior support, signed in to the workspace): charts, tables, date range, CSV links."""
    return _web(insight_pages.reports(app.current_request))


@app.schedule(Cron("2/5", "*", "*", "*", "?", "*"))  # minute 2, 7, 12 …: a slot is final 2 min after it ends
def aggregate_events(event):
    """Summarise each 5-minute slot's events once it is final; merge hours and finished days; deflection."""
    remaining = getattr(getattr(event, "context", None), "get_remaining_time_in_millis", None)
    budget = insight_rollup.budget(remaining() if remaining else None)
    done = insight_rollup.run(Context.current(), budget_seconds=budget)
    logger.info("events aggregated", extra=done)


# ---------------------------------------------------------------- cold start (shared)
coldstart.after_imports()  # what was built above lives as long as the container: frozen, collector back on
