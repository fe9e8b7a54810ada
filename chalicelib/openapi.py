"""The OpenAPI 3.1 contract, generated from the pydantic models the handlers validate with.

Each route in ``app.py`` declares its models with ``@api_contract(...)`` placed
*under* ``@app.route``; the handler parses with the very same classes
(``http.parse_body(request, Body)``), so the document cannot drift from the code.
``document(app)`` walks ``app.routes`` and builds the spec served at ``/openapi.json``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pydantic

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                       "field": {"type": "string"}},
    }},
}
_ERROR_TEXT = {400: "Bad input", 401: "Missing or invalid token", 403: "Not allowed for this role",
               404: "Not found (or not yours)", 409: "Conflict with the current state",
               413: "Body over 64 KiB", 415: "Body is not JSON", 422: "Unprocessable",
               423: "Account frozen", 429: "Rate limited", 503: "Dependency unavailable, retry later"}


@dataclass
class Contract:
    summary: str
    tag: str
    body: type[pydantic.BaseModel] | None = None
    query: type[pydantic.BaseModel] | None = None
    responses: dict[int, type[pydantic.BaseModel] | None] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    headers: dict[str, dict] = field(default_factory=dict)  # request header name -> {"required", "schema", "description"}
    html: bool = False


_CONTRACTS: dict[Callable, Contract] = {}


def api_contract(summary: str, *, tag: str, body=None, query=None, responses=None, errors=(),
                 headers=None, html: bool = False):
    """Record a route's request/response models (returns the function unchanged)."""
    def record(func):
        _CONTRACTS[func] = Contract(summary=summary, tag=tag, body=body, query=query,
                                    responses=dict(responses or {}), errors=tuple(errors),
                                    headers=dict(headers or {}), html=html)
        return func
    return record


def contract_for(func) -> Contract | None:
    return _CONTRACTS.get(func)


def _schema(model: type[pydantic.BaseModel], components: dict) -> dict:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _input_schema(model: type[pydantic.BaseModel], components: dict) -> dict:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode="validation")
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def document(app, *, title: str = "RepayDesk API", version: str = "1.0.0") -> dict[str, Any]:
    components: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, Any] = {}
    for path, methods in sorted(app.routes.items()):
        for method, entry in sorted(methods.items()):
            contract = contract_for(entry.view_function)
            if contract is None:
                continue
            operation: dict[str, Any] = {
                "operationId": entry.view_name,
                "summary": contract.summary,
                "tags": [contract.tag],
                "parameters": [],
                "responses": {},
            }
            for name in entry.view_args:
                operation["parameters"].append({"name": name, "in": "path", "required": True,
                                                "schema": {"type": "string", "minLength": 1}})
            if contract.query is not None:
                schema = contract.query.model_json_schema()
                required = set(schema.get("required", []))
                for name, prop in schema.get("properties", {}).items():
                    operation["parameters"].append({"name": name, "in": "query", "required": name in required,
                                                    "schema": prop})
            for name, spec in contract.headers.items():
                operation["parameters"].append({"name": name, "in": "header", **spec})
            if contract.body is not None:
                operation["requestBody"] = {"required": True, "content": {
                    "application/json": {"schema": _input_schema(contract.body, components)}}}
            for status, model in contract.responses.items():
                if contract.html:
                    content = {"text/html": {"schema": {"type": "string"}}}
                elif model is None:
                    content = None
                else:
                    content = {"application/json": {"schema": _schema(model, components)}}
                operation["responses"][str(status)] = {"description": model.__doc__.strip().splitlines()[0]
                                                       if model is not None and model.__doc__ else "OK",
                                                       **({"content": content} if content else {})}
            codes = set(contract.errors)
            if entry.authorizer is not None:
                codes.add(401)
                operation["security"] = [{"bearer": []}]
            if contract.body is not None:
                codes.update({400, 413})
            for status in sorted(codes):
                operation["responses"][str(status)] = {
                    "description": _ERROR_TEXT.get(status, "Error"),
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            if not operation["parameters"]:
                del operation["parameters"]
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version,
                 "description": "Repayments, Chinese self-service knowledge base and step-based escalation."},
        "paths": paths,
        "components": {"schemas": components,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }
