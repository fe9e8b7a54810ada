"""Reports (``chalicelib/insight``, senior support): the JSON reports with a CSV of any table, the reports page in
the agent workspace, the knowledge base's gaps; the schedule that folds the events (``chalicelib/adapters/events.py``)
into 5-minute, hourly and daily rollups."""
from __future__ import annotations

from chalice import Blueprint, Cron

from chalicelib.edge import httpio, replies
from chalicelib.edge.lazy import lazy_import, lazy_schemas
from chalicelib.edge.openapi import api_contract
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import logger
from chalicelib.routes.auth import cognito_jwt
from chalicelib.search import schemas as kb_schemas
from chalicelib.search import service as kb

insight = lazy_import("chalicelib.insight.service")
insight_pages = lazy_import("chalicelib.insight.pages")
insight_rollup = lazy_import("chalicelib.insight.rollup")
insight_schemas = lazy_schemas("chalicelib.insight.schemas")

bp = Blueprint(__name__)


@bp.route("/support/reports/{report}", methods=["GET"], authorizer=cognito_jwt)
@api_contract("A report (cases, satisfaction, self-service) over a date range with category/step filters; "
              "?format=csv&table= downloads one table; senior-support only", tag="reports",
              query=insight_schemas.ReportQuery, responses={200: insight_schemas.Report}, errors=(400, 403, 404),
              csv=True)
def support_report(report):
    request = bp.current_request
    query = httpio.parse_query(request, insight_schemas.ReportQuery)
    # one table as a CSV file (?format=csv) or the whole report as JSON: the service says which was asked for
    return replies.file_or_json(insight.requested(httpio.actor(request), Context.current(), report, query))


@bp.route("/support/kb-gaps", methods=["GET"], authorizer=cognito_jwt)
@api_contract("Top zero-result queries and least helpful articles (support roles)", tag="search",
              query=kb_schemas.GapsQuery, responses={200: kb_schemas.GapsResponse}, errors=(400, 403))
def kb_gaps():
    request = bp.current_request
    httpio.require_role(httpio.actor(request), "support", "senior-support")
    query = httpio.parse_query(request, kb_schemas.GapsQuery)
    return httpio.json_response(kb.kb_gaps(query.limit, days=query.days))


@bp.route("/agent/reports", methods=["GET"])
@httpio.surface_errors
def agent_reports():
    """The reports page (senior support, signed in to the workspace): charts, tables, date range, CSV links."""
    return replies.page(insight_pages.reports(bp.current_request))


@bp.schedule(Cron("2/5", "*", "*", "*", "?", "*"))  # minute 2, 7, 12 …: a slot is final 2 min after it ends
def aggregate_events(event):
    """Summarise each 5-minute slot's events once it is final; merge hours and finished days; deflection."""
    remaining = getattr(getattr(event, "context", None), "get_remaining_time_in_millis", None)
    budget = insight_rollup.budget(remaining() if remaining else None)
    done = insight_rollup.run(Context.current(), budget_seconds=budget)
    logger.info("events aggregated", extra=done)
