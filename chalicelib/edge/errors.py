"""The one error shape every endpoint answers with.

``{"error": {"code": "...", "message": "...", "field": "..."}}`` — ``code`` is for
programs (stable, English, snake_case), ``message`` is for the person holding the
phone (Simplified Chinese), ``field`` names the offending input when there is one.
"""
from __future__ import annotations

from chalice.app import ChaliceUnhandledError


# Chalice turns any other exception raised in a view into its own bare 500 before
# middleware sees it; ChaliceUnhandledError is the one it re-raises, so the
# ``errors_as_json`` middleware in app.py (every blueprint's routes) can render ours in the common shape.
class ApiError(ChaliceUnhandledError):
    status = 400
    code = "bad_request"
    message = "请求有误，请检查后重试。"

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 field: str | None = None, status: int | None = None,
                 headers: dict[str, str] | None = None, details: dict | None = None):
        super().__init__(message or self.message)
        if message:
            self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.field = field
        self.headers = headers or {}
        self.details = details

    def body(self) -> dict:
        error: dict = {"code": self.code, "message": self.message}
        if self.field:
            error["field"] = self.field
        if self.details:
            error.update(self.details)
        return {"error": error}


class BadRequest(ApiError):
    status, code, message = 400, "bad_request", "请求有误，请检查后重试。"


class ValidationFailed(ApiError):
    status, code, message = 400, "validation_error", "提交的内容不符合要求。"


class Unauthorized(ApiError):
    status, code, message = 401, "unauthorized", "请先登录（登录已失效或凭证无效）。"


class Forbidden(ApiError):
    status, code, message = 403, "forbidden", "您没有权限进行此操作。"


class NotFound(ApiError):
    status, code, message = 404, "not_found", "找不到您要的内容。"


class Conflict(ApiError):
    status, code, message = 409, "conflict", "状态已变化，请刷新后重试。"


class PreconditionFailed(ApiError):
    status, code, message = 412, "precondition_failed", "内容已被他人修改，请对比后再保存。"


class PayloadTooLarge(ApiError):
    status, code, message = 413, "payload_too_large", "提交的内容过大。"


class Unprocessable(ApiError):
    status, code, message = 422, "unprocessable", "请求无法处理。"


class Locked(ApiError):
    status, code, message = 423, "account_frozen", "账户已冻结。"


class TooManyRequests(ApiError):
    status, code, message = 429, "rate_limited", "操作过于频繁，请稍后再试。"


class ServiceUnavailable(ApiError):
    status, code, message = 503, "service_unavailable", "服务繁忙，请稍后重试。"


def from_domain(exc) -> ApiError:
    """A use case's refusal (``chalicelib.kernel.refusals``) as the HTTP error it answers: the one mapping."""
    from chalicelib.kernel import refusals

    status = {refusals.Invalid: ValidationFailed, refusals.Missing: NotFound, refusals.NotAllowed: Forbidden,
              refusals.Conflicting: Conflict, refusals.Outdated: PreconditionFailed, refusals.Rejected: Unprocessable,
              refusals.Frozen: Locked,
              refusals.Busy: ServiceUnavailable, refusals.Limited: TooManyRequests}
    http_error = next((cls for kind, cls in status.items() if isinstance(exc, kind)), Conflict)
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
    return http_error(exc.message, code=exc.code, field=exc.field, details=exc.details, headers=headers)
