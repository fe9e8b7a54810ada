"""How a route answers, written once for every blueprint in ``chalicelib/routes/``.

- Under an ``Idempotency-Key`` — one mechanism (``chalicelib/adapters/idempotency.py``), used in one of two ways:
  a route whose answer only needs replaying calls ``replay_once(request, scope, payload, change)`` (the key is
  claimed, ``change`` runs once, its answer is stored and replayed); a use case whose answer must commit with its
  change (a new repayment, a retry, every 工单 change) is given ``idempotency_key(request)`` and claims the key in
  its own unit of work. Either way the route answers with ``idempotent_response(outcome)`` (the outcome's status;
  a replay says so, ``Idempotent-Replayed: true``); ``IDEMPOTENCY_HEADER`` / ``OPTIONAL_IDEMPOTENCY_HEADER``
  document the header in the route's contract.
- The browser doors: ``page(reply)`` turns a page's ``Reply`` (``chalicelib/edge/pages.py``) into the response
  (never cached or framed; cookies as separate ``Set-Cookie`` headers; 303 without a body), ``page_json(reply)``
  a page script's JSON answer, ``help_page(page)`` a help-centre page; ``answers_json`` marks the routes whose
  errors stay JSON (``errorpages.py``); ``FORM`` is the content type of their form POSTs.
- ``csv_download(filename, text)``: a CSV file as an attachment (``chalicelib/edge/csv_export.py`` writes it);
  ``file_or_json(answer)`` a use case's answer that is either a file (``(filename, text)``) or a JSON document.
- Parse → call → shape, written once: ``answer(request, use, body=/query=)`` parses the input into its model
  (400 on bad input), calls ``use(call)`` with a ``Call`` (who asks, the parsed input, the context, the
  Idempotency-Key) and answers its result as JSON; ``change(...)`` the same for a use case that claims the key in its
  own unit of work (answered by ``idempotent_response``); ``replay(...)`` the same for a change whose answer
  only needs replaying (``replay_once``). The browser doors' one-line page handlers are registered from a table
  (``chalicelib/routes/page_table.py``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalice import Response

from chalicelib.edge import httpio
from chalicelib.edge.lazy import lazy_import
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context

idempotency = lazy_import("chalicelib.adapters.idempotency")   # first used by a change, not at a cold start

IDEMPOTENCY_HEADER = {"Idempotency-Key": {
    "required": True, "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "1–255 printable ASCII characters; the same key with the same body replays the first answer "
                   "(header Idempotent-Replayed: true) for 24 h"}}

# Optional on the owner's other changes: with a key, a repeat replays the first answer.
OPTIONAL_IDEMPOTENCY_HEADER = {"Idempotency-Key": {**IDEMPOTENCY_HEADER["Idempotency-Key"], "required": False}}

FORM = ["application/x-www-form-urlencoded"]


def idempotency_key(request) -> str | None:
    return httpio.header(request, "Idempotency-Key")


def idempotent_response(outcome, headers: dict[str, str] | None = None) -> Response:
    """An answer under an Idempotency-Key: a replay says so (``Idempotent-Replayed: true``)."""
    headers = dict(headers or {})
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    return httpio.json_response(outcome.body, status=outcome.status_code, headers=headers)


def replay_once(request, scope: str, payload: Any, change: Callable[[], dict], *, status: int = 200,
                headers: Callable[[dict], dict[str, str]] | None = None) -> Response:
    """A change the caller may send with an ``Idempotency-Key`` whose answer only needs replaying: with a key,
    ``change`` runs once per (caller, scope, key) and a repeat gets the first answer; without one it just runs.
    ``scope`` names the operation and its resource (``"VERIFY#<id>"``) so a key never replays another route's
    answer; ``payload`` is what tells the same request from a different one under the same key (422).
    ``headers(body)`` adds headers from the answer (``Location``)."""
    outcome = idempotency.once(httpio.actor(request).user_id, idempotency_key(request), scope=scope,
                               payload=payload, action=lambda _claim: idempotency.Outcome(status, change()))
    return idempotent_response(outcome, headers(outcome.body) if headers else None)


def answers_json(view):
    """A browser-door route that answers a page's script in JSON: its errors stay JSON too (errorpages.py)."""
    view.answers_json = True
    return view


def page(reply) -> Response:
    """A page's ``Reply`` as the response (cookies as separate Set-Cookie headers, never cached or framed)."""
    headers = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
               **reply.headers}
    if reply.cookies:
        headers["Set-Cookie"] = list(reply.cookies)
    if reply.status == 303:
        return Response(body="", status_code=303, headers=headers)
    return httpio.html_response(reply.html, status=reply.status, headers=headers)


def page_json(reply) -> Response:
    """A page script's JSON answer (the same session; never cached)."""
    if reply.status == 204:
        return Response(body="", status_code=204, headers={"Cache-Control": "no-store"})
    return Response(body=reply.html, status_code=reply.status,
                    headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", **reply.headers})


def help_page(found) -> Response:
    """A help-centre ``Page`` (``chalicelib/helpcentre/pages.py``) as the response."""
    return httpio.html_response(found.html, status=found.status, headers=found.headers)


def csv_download(filename: str, text: str) -> Response:
    """A CSV file the browser saves as ``filename`` (never cached)."""
    return Response(body=text, status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="{filename}"'})


def file_or_json(found) -> Response:
    """A use case's answer that is a file (``(filename, text)``: a CSV download) or a JSON document."""
    return csv_download(*found) if isinstance(found, tuple) else httpio.json_response(found)


# ---------------------------------------------------------------- parse → call → shape, once for every route
@dataclass(frozen=True)
class Call:
    """What a route hands its use case: the parsed body or query (``None`` without one) and the request — who asks
    (``who``), the moment and settings (``context``), the Idempotency-Key (``key``) read from it when asked."""
    input: Any
    request: Any

    @property
    def who(self) -> Actor:
        """The signed-in caller (a public route never asks)."""
        return httpio.actor(self.request)

    @property
    def context(self) -> Context:
        return Context.current()

    @property
    def key(self) -> str | None:
        """The request's Idempotency-Key (``None`` without one)."""
        return idempotency_key(self.request)


def _call(request, body, query, optional: bool, max_bytes: int = httpio.MAX_BODY_BYTES) -> Call:
    if body is not None:
        parsed = httpio.parse_optional_body(request, body) if optional else \
            httpio.parse_body(request, body, max_bytes=max_bytes)
    else:
        parsed = httpio.parse_query(request, query) if query is not None else None
    return Call(parsed, request)


def answer(request, use: Callable[[Call], Any], *, body=None, query=None, optional: bool = False,
           max_bytes: int = httpio.MAX_BODY_BYTES, status: int = 200,
           headers: dict[str, httpio.HeaderValue] | None = None, location: Callable[[Any], str] | None = None
           ) -> Response:
    """Parse → call → shape for a JSON route: ``body``/``query`` (a model, or a ``lazy_schemas`` name) parsed
    (``optional``: an empty body is ``None``; ``max_bytes``: a larger body is a 413), ``use(call)`` called, its
    result answered as JSON (``location(result)``: the new resource's address)."""
    result = use(_call(request, body, query, optional, max_bytes))
    if location is not None:
        headers = {**(headers or {}), "Location": location(result)}
    return httpio.json_response(result, status=status, headers=headers)


def change(request, use: Callable[[Call], Any], *, body=None, optional: bool = False,
           location: Callable[[dict], str] | None = None) -> Response:
    """Parse → call → shape for a use case that claims the Idempotency-Key in its own unit of work: its outcome
    answered by ``idempotent_response`` (``location(body)``: the new resource's address)."""
    outcome = use(_call(request, body, None, optional))
    return idempotent_response(outcome, {"Location": location(outcome.body)} if location else None)


def replay(request, scope: str | Callable[[Call], str], use: Callable[[Call], dict], *, body=None,
           max_bytes: int = httpio.MAX_BODY_BYTES, status: int = 200, location: Callable[[dict], str] | None = None,
           key_required: Callable[[Call], bool] | None = None) -> Response:
    """Parse → call → shape for a change whose answer only needs replaying (``replay_once``): the parsed body is
    what tells the same request from a different one under the same key. ``scope`` may be read from the call (a
    conversation's id); ``key_required(call)``: this request must carry an Idempotency-Key (400
    ``idempotency_key_missing`` / ``idempotency_key_invalid`` without a good one, as on every route)."""
    call = _call(request, body, None, False, max_bytes)
    if key_required is not None and key_required(call):
        idempotency.validate_key(call.key)
    payload = call.input.model_dump(mode="json") if call.input is not None else {}
    return replay_once(request, scope(call) if callable(scope) else scope, payload, lambda: use(call), status=status,
                       headers=(lambda made: {"Location": location(made)}) if location else None)
