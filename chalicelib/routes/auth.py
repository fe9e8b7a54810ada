"""The bearer-token authorizer, a blueprint of its own so that every area's routes can name it
(``authorizer=cognito_jwt``) without importing ``app.py``; ``app.py`` registers it like the others."""
from __future__ import annotations

from chalice import AuthResponse, Blueprint

from chalicelib import adapters
from chalicelib.edge import httpio
from chalicelib.edge.lazy import lazy_import
from chalicelib.kernel.actor import MFA_REQUIRED_ROLES
from chalicelib.kernel.logs import logger

auth = lazy_import("chalicelib.edge.auth")   # the token verifier: imported by the first request that needs it
cognito = lazy_import("chalicelib.web.cognito")   # a staff token's second factor (docs/front-doors.md)

bp = Blueprint(__name__)


@bp.authorizer(ttl_seconds=300)
def cognito_jwt(auth_request):
    """Verifies the Cognito bearer JWT; roles travel on as a JSON list (httpio.roles_context / httpio.actor). A staff
    account's token is refused (401) unless the account has its authenticator enrolled (``cognito.totp_enrolled``)."""
    try:
        claims = auth.verify(auth.bearer_token(auth_request.token))
    except auth.InvalidToken as exc:
        logger.info("token rejected", extra={"reason": str(exc)})
        raise auth.unauthorized_error() from None
    if MFA_REQUIRED_ROLES.intersection(claims.groups) and not _second_factor(claims.username):
        logger.info("staff token without two-factor refused")
        raise auth.unauthorized_error("员工账号须先启用两步验证：请在客服工作台登录并按提示绑定身份验证器。")
    return AuthResponse(routes=["*"], principal_id=claims.sub,
                        context={"username": claims.username, "groups": httpio.roles_context(claims.groups)})


def _second_factor(username: str) -> bool:
    """Whether the staff account has its authenticator enrolled. Cognito throttled or unreachable: refused (401,
    "try again") — an authorizer cannot answer 503, and an error would reach the client as a 500; never let in."""
    try:
        return cognito.totp_enrolled(username)
    except Exception as exc:
        reason = adapters.unavailable(exc)
        if reason is None:
            raise
        logger.warning("two-factor check unavailable: token refused", extra={"reason": reason})
        raise auth.unauthorized_error("暂时无法核验两步验证，请稍后重试。") from None
