"""The bearer-token authorizer, a blueprint of its own so that every area's routes can name it
(``authorizer=cognito_jwt``) without importing ``app.py``; ``app.py`` registers it like the others."""
from __future__ import annotations

from chalice import AuthResponse, Blueprint

from chalicelib.edge import httpio
from chalicelib.edge.lazy import lazy_import
from chalicelib.kernel.logs import logger

auth = lazy_import("chalicelib.edge.auth")   # the token verifier: imported by the first request that needs it

bp = Blueprint(__name__)


@bp.authorizer(ttl_seconds=300)
def cognito_jwt(auth_request):
    """Verifies the Cognito bearer JWT; roles travel on as a JSON list (httpio.roles_context / httpio.actor)."""
    try:
        claims = auth.verify(auth.bearer_token(auth_request.token))
    except auth.InvalidToken as exc:
        logger.info("token rejected", extra={"reason": str(exc)})
        raise auth.unauthorized_error() from None
    return AuthResponse(routes=["*"], principal_id=claims.sub,
                        context={"username": claims.username, "groups": httpio.roles_context(claims.groups)})
