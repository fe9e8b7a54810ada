"""Operations: liveness, who am I, the API's own documentation, and the outbox drain (plus what fits no area)."""
from __future__ import annotations

from chalice import Blueprint, Rate

from chalicelib.edge import httpio
from chalicelib.edge.lazy import lazy_import
from chalicelib.edge.openapi import api_contract, document, render_docs
from chalicelib.edge.schemas import Health, Me
from chalicelib.kernel.logs import logger
from chalicelib.routes.auth import cognito_jwt

outbox = lazy_import("chalicelib.adapters.outbox")

bp = Blueprint(__name__)


@bp.route("/health", methods=["GET"])
@api_contract("Liveness probe", tag="shared", responses={200: Health})
def health():
    return httpio.json_response({"status": "ok"})


@bp.route("/me", methods=["GET"], authorizer=cognito_jwt)
@api_contract("Who the bearer token belongs to", tag="shared", responses={200: Me})
def me():
    who = httpio.actor(bp.current_request)
    return httpio.json_response({"user_id": who.user_id, "username": who.username, "roles": sorted(who.roles)})


@bp.route("/openapi.json", methods=["GET"])
@httpio.surface_errors
def openapi_json():
    return httpio.json_response(document(bp.current_app), headers={"Cache-Control": "public, max-age=300"})


@bp.route("/docs", methods=["GET"])
@httpio.surface_errors
def api_docs():
    return httpio.html_response(render_docs(document(bp.current_app)))


@bp.schedule(Rate(1, unit=Rate.MINUTES))
def drain_outbox(event):
    """Deliver outbox messages that could not be sent at the moment of their state change."""
    sent = outbox.drain()
    if sent:
        logger.info("outbox drained", extra={"sent": sent})
