"""Make ``chalice local`` (and ``chalice.test.Client``) answer API Gateway's own errors as AWS will.

On AWS the template's gateway responses (``devtools.package.gateway_responses``)
give authorizer denials and unknown routes our JSON error shape; Chalice's
local emulator has its own bodies (``{"message": "Unauthorized"}``, a 403 for
unknown paths). This applies the same mapping locally, so clients, tests and
the schemathesis run see one contract everywhere. Chalice has no public hook for
it: the patch itself is ``chalicelib.private_hooks.patch_chalice_local``.
"""
from __future__ import annotations

import json

from chalice import local

_STATUS_FOR = {"UnauthorizedException": "UNAUTHORIZED", "AccessDeniedException": "ACCESS_DENIED",
               "MissingAuthenticationTokenException": "MISSING_AUTHENTICATION_TOKEN"}


def _gateway_error(exc: local.LocalGatewayException) -> local.LocalGatewayException:
    from devtools.package import gateway_responses
    try:
        if "error" in json.loads(exc.body or b"{}"):
            return exc  # already ours (our authorizer's 401)
    except ValueError:
        pass
    kind = (exc.headers or {}).get("x-amzn-ErrorType", "")
    if exc.CODE == 403 and b"Missing Authentication Token" in (exc.body or b""):
        kind = "MissingAuthenticationTokenException"
    response = gateway_responses().get(_STATUS_FOR.get(kind, ""), None)
    if response is None:
        return exc
    translated = type("GatewayResponse", (local.LocalGatewayException,), {"CODE": response["statusCode"]})(
        {**(exc.headers or {}), "Content-Type": "application/json; charset=utf-8"},
        response["responseTemplates"]["application/json"].encode())
    return translated


def patch() -> None:
    """Apply the mapping to Chalice's local emulator (its hook lives in ``chalicelib/private_hooks.py``)."""
    from chalicelib.private_hooks import patch_chalice_local

    patch_chalice_local(_gateway_error)
