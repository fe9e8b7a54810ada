"""The reports page of the agent workspace (``/agent/reports``): senior support only.

The session is the workspace's (``chalicelib.web.session.require(request, "agent")``): no session →
303 to the sign-in page, a wallet user → 403 page, a frontline agent → 403 page (the same
``require_senior`` rule as the JSON routes), bad filters → 400 page. ``?format=csv&table=`` downloads a
table on the session (a browser sends no bearer token to the JSON twin).
"""
from __future__ import annotations

import pydantic

from chalicelib.edge import pages
from chalicelib.insight import schemas, service
from chalicelib.kernel import refusals
from chalicelib.kernel.context import Context
from chalicelib.web import session


@pages.page("agent")
def reports(request) -> pages.Reply:
    ws = session.require(request, "agent")
    service.require_senior(ws.actor)
    params = {k: v for k, v in (request.query_params or {}).items() if v != ""}
    try:
        query = schemas.ReportPageQuery.model_validate(params)
    except pydantic.ValidationError:
        raise refusals.Invalid("日期请用 YYYY-MM-DD 格式，报表可选 cases、satisfaction、self-service。",
                             code="invalid_query") from None
    if query.format == "csv":  # the page's CSV links: the same tables as the JSON twin's, on the session
        filename, text = service.csv_download(ws.actor, Context.current(), query.report, query.as_report_query())
        return pages.Reply(200, text, {"Content-Type": "text/csv; charset=utf-8",
                                       "Content-Disposition": f'attachment; filename="{filename}"'})
    return pages.Reply(200, service.page(ws.actor, Context.current(), query.report, query.as_report_query(), ws=ws))
