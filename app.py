"""RepayDesk: the Chalice app — the error middleware and the areas' blueprints.

Routes, schedules and queue handlers live in ``chalicelib/routes/``, one ``chalice.Blueprint`` per area (the
table in ``chalicelib/routes/__init__.py``); the bearer authorizer is ``chalicelib/routes/auth.py``. Each handler
parses its input (``chalicelib.edge.httpio``), calls one service function and shapes the response
(``chalicelib.edge.replies``). Rules live in ``chalicelib/<domain>/``.
"""
from __future__ import annotations

# First: importing coldstart pauses the collector and skips pydantic's plugin discovery (see the end).
from chalicelib.edge import coldstart

# isort: split
from chalicelib.adapters import deadline, unavailable
from chalicelib.edge import errors, httpio
from chalicelib.edge.lazy import lazy_import
from chalicelib.kernel import refusals
from chalicelib.kernel.logs import logger, user_hash
from chalicelib.routes import (
    agent_kb,
    agent_workspace,
    agents,
    assistant,
    auth,
    bills,
    cases,
    content,
    help_centre,
    incidents,
    kb_editions,
    knowledge_base,
    mail,
    operations,
    repayments,
    reports,
    status,
    user_pages,
)

# Services are imported on their first request, and the schemas of most areas on their first use
# (chalicelib/edge/lazy.py): a cold start pays only for the route it answers.
error_pages = lazy_import("chalicelib.edge.errorpages")   # imported only when a request fails

app = httpio.App(app_name="repaydesk")
app.debug = False  # never leak tracebacks to callers; errors are logged instead
app.api.binary_types = []  # everything we serve is text (JSON or HTML)


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
        why = unavailable(exc)   # throttled / unreachable: one mapping, in chalicelib/adapters/aws.py
        if why is not None:
            logger.warning("aws dependency unavailable", extra={"aws_error": why})
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


# ---------------------------------------------------------------- the areas (chalicelib/routes/)
# The handlers keep their function names: those of schedules and queues are the Lambda functions' names.
for area in (auth, operations, repayments, knowledge_base, help_centre, cases, agent_workspace, bills, user_pages,
             reports, status, content, assistant, incidents, kb_editions, agent_kb, agents, mail):
    app.register_blueprint(area.bp)


# ---------------------------------------------------------------- cold start (shared)
coldstart.after_imports()  # what was built above lives as long as the container: frozen, collector back on
