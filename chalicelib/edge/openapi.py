"""The OpenAPI 3.1 contract, generated from the pydantic models the handlers validate with.

Each route (``chalicelib/routes/``) declares its models with ``@api_contract(...)`` placed
*under* ``@bp.route``; the handler parses with the very same classes
(``http.parse_body(request, Body)``), so the document cannot drift from the code.
``document(app)`` walks ``app.routes`` and builds the spec served at ``/openapi.json``.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pydantic

from chalicelib.edge.httpio import PATH_ID_CHARS, PATH_ID_MAX, surface_errors
from chalicelib.edge.lazy import ModelRef, resolved

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
               412: "Changed since the version named in If-Match",
               413: "Body over 64 KiB", 415: "Body is not JSON", 422: "Unprocessable",
               423: "Account frozen", 429: "Rate limited", 503: "Dependency unavailable, retry later"}


@dataclass
class Contract:
    summary: str
    tag: str
    # A model class, or a ``chalicelib.edge.lazy.ModelRef`` to one (imported when first needed).
    body: type[pydantic.BaseModel] | ModelRef | None = None
    query: type[pydantic.BaseModel] | ModelRef | None = None
    responses: dict[int, type[pydantic.BaseModel] | ModelRef | None] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    # request header name -> {"required", "schema", "description"}
    headers: dict[str, dict] = field(default_factory=dict)
    html: bool = False
    csv: bool = False   # a 200 may also be text/csv (?format=csv)
    path_ids: bool = True   # path parameters checked first (http.check_path_ids): 404 otherwise


_CONTRACTS: dict[Callable, Contract] = {}


def api_contract(summary: str, *, tag: str, body=None, query=None, responses=None, errors=(),
                 headers=None, html: bool = False, csv: bool = False, path_ids: bool | None = None):
    """Record a route's request/response models; the route runs with every unexpected
    exception carried to the error middleware (``http.surface_errors``) and its path parameters checked
    first (``http.check_path_ids``; ``path_ids`` defaults to ``not html``: a browser page answers its own
    404 page). ``csv``: a 200 may also be ``text/csv`` (``?format=csv``)."""
    def record(func):
        _CONTRACTS[func] = Contract(summary=summary, tag=tag, body=body, query=query,
                                    responses=dict(responses or {}), errors=tuple(errors),
                                    headers=dict(headers or {}), html=html, csv=csv,
                                    path_ids=not html if path_ids is None else path_ids)
        # JSON routes check their path ids first (404 before any AWS call); pages answer their own 404.
        return surface_errors(func, path_ids=_CONTRACTS[func].path_ids)
    return record


def contract_for(func) -> Contract | None:
    # Routes are registered wrapped (``http.surface_errors``); the contract names the original.
    return _CONTRACTS.get(func) or _CONTRACTS.get(getattr(func, "__wrapped__", None))


def _schema(model: type[pydantic.BaseModel], components: dict, mode: str = "serialization") -> dict:
    """Register ``model`` (and the models it uses) as components; return a reference to it.

    Request bodies use pydantic's "validation" view (what is accepted), responses its
    "serialization" view (what is sent).
    """
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode=mode)
    for name, sub in schema.pop("$defs", {}).items():
        _register(components, name, sub)
    _register(components, model.__name__, schema)
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _register(components: dict, name: str, schema: dict) -> None:
    """Components are keyed by class name: two different models of one name (say repay's and bills'
    ``NoticeView``) would silently describe one route with the other's schema, so that is refused."""
    known = components.get(name)
    if known is not None and known.get("properties", {}).keys() != schema.get("properties", {}).keys():
        raise ValueError(f"two different models are both called {name!r} in the API contract: rename one")
    components[name] = schema


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
                operation["parameters"].append({"name": name, "in": "path", "required": True, "schema": {
                    "type": "string", "minLength": 1, "maxLength": PATH_ID_MAX, "pattern": f"^[{PATH_ID_CHARS}]+$"}})
            body, query = resolved(contract.body), resolved(contract.query)
            if query is not None:
                schema = query.model_json_schema()
                required = set(schema.get("required", []))
                for name, prop in schema.get("properties", {}).items():
                    operation["parameters"].append({"name": name, "in": "query", "required": name in required,
                                                    "schema": prop})
            for name, spec in contract.headers.items():
                operation["parameters"].append({"name": name, "in": "header", **spec})
            if body is not None:
                operation["requestBody"] = {"required": True, "content": {
                    "application/json": {"schema": _schema(body, components, mode="validation")}}}
            for status, model in contract.responses.items():
                model = resolved(model)
                if contract.html:
                    content = {"text/html": {"schema": {"type": "string"}}}
                elif model is None:
                    content = None
                else:
                    content = {"application/json": {"schema": _schema(model, components)}}
                    if contract.csv and status == 200:
                        content["text/csv"] = {"schema": {"type": "string"}}
                operation["responses"][str(status)] = {"description": model.__doc__.strip().splitlines()[0]
                                                       if model is not None and model.__doc__ else "OK",
                                                       **({"content": content} if content else {})}
            codes = set(contract.errors)
            if entry.view_args and contract.path_ids:
                codes.add(404)   # an impossible id (http.check_path_ids)
            if entry.authorizer is not None:
                codes.add(401)
                operation["security"] = [{"bearer": []}]
            if body is not None:
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


def render_docs(doc: dict[str, Any]) -> str:
    """A readable, self-contained HTML page for the document (no CDN, no script)."""
    from html import escape

    def schema_text(schema: dict | None) -> str:
        if not schema:
            return ""
        return escape(json.dumps(_resolve(schema, doc), ensure_ascii=False, indent=2))

    sections = []
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            params = "".join(
                f"<li><code>{escape(p['name'])}</code> "
                f"({escape(p['in'])}{', required' if p.get('required') else ''})</li>"
                for p in op.get("parameters", []))
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            responses = "".join(
                f"<li><b>{escape(code)}</b> {escape(r.get('description', ''))}</li>"
                for code, r in op["responses"].items())
            lock = " 🔒" if op.get("security") else ""
            sections.append(f"""<section id="{escape(op['operationId'])}">
<h3><span class="m {escape(method)}">{escape(method.upper())}</span> <code>{escape(path)}</code>{lock}</h3>
<p>{escape(op.get('summary', ''))}</p>
{f'<h4>Parameters</h4><ul>{params}</ul>' if params else ''}
{f'<h4>Request body</h4><pre>{schema_text(body)}</pre>' if body else ''}
<h4>Responses</h4><ul>{responses}</ul></section>""")
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(doc['info']['title'])}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:960px;margin:auto;padding:1rem;line-height:1.5}}
pre{{background:#f5f5f5;padding:.5rem;overflow:auto;font-size:.85rem}} section{{border-top:1px solid #ddd}}
.m{{font-family:monospace;padding:0 .4rem;border-radius:3px;color:#fff;background:#555}} .get{{background:#2b7}}
.post{{background:#27b}}</style></head><body>
<h1>{escape(doc['info']['title'])} <small>{escape(doc['info']['version'])}</small></h1>
<p>{escape(doc['info'].get('description', ''))} Machine-readable: <a href="openapi.json">openapi.json</a>.
🔒 = needs <code>Authorization: Bearer &lt;Cognito token&gt;</code>. \
Errors: <code>{{"error": {{"code", "message", "field"}}}}</code>.</p>
{''.join(sections)}</body></html>"""


def _resolve(schema: dict, doc: dict, depth: int = 0) -> Any:
    """Inline ``$ref``s for display (bounded, in case of recursive models)."""
    if depth > 6:
        return schema
    if isinstance(schema, dict):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            return _resolve(doc["components"]["schemas"].get(name, {}), doc, depth + 1)
        return {k: _resolve(v, doc, depth + 1) for k, v in schema.items() if k not in ("title",)}
    if isinstance(schema, list):
        return [_resolve(v, doc, depth + 1) for v in schema]
    return schema
