"""Make ``chalice local`` (and ``chalice.test.Client``) answer API Gateway's own errors as AWS will.

On AWS the template's gateway responses (``devtools.package.gateway_responses``)
give authorizer denials and unknown routes our JSON error shape; Chalice's
local emulator has its own bodies (``{"message": "Unauthorized"}``, a 403 for
unknown paths). This applies the same mapping locally, so clients, tests and
the schemathesis run see one contract everywhere.
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
    if getattr(local.LocalGateway, "_repaydesk_gateway_responses", False):
        return
    original = local.LocalGateway.handle_request

    def handle_request(self, method, path, headers, body):
        try:
            return original(self, method, path, headers, body)
        except local.LocalGatewayException as exc:
            raise _gateway_error(exc) from None

    local.LocalGateway.handle_request = handle_request
    local.LocalGateway._repaydesk_gateway_responses = True
    # The stdlib server answers methods it has no do_X for with a bare 501; API Gateway
    # hands them to the API like any other method (which then says 405 or 404).
    def any_method(self, name):
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)

    local.ChaliceRequestHandler.__getattr__ = any_method
