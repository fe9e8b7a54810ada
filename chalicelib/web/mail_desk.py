"""The leads' page for quarantined inbound mails (``/agent/mail``, #25 item 4): what was refused and why, with
the sender masked; a lead releases a mail into its 工单 (when its reason allows) or discards it. The page calls
the same service as the API (``escalation.service``: the same senior-support check and conditional decisions)
with the session's ``Actor``; every POST carries the session's CSRF token, checked before anything is read."""
from __future__ import annotations

from urllib.parse import urlencode

from chalicelib.edge import pages
from chalicelib.edge.pages import Reply
from chalicelib.escalation import service as escalation
from chalicelib.kernel import clock
from chalicelib.kernel.context import Context
from chalicelib.web import session

BACK = ("/agent/mail", "返回隔离邮件")
DONE = {"released": "邮件已放行到工单。", "discarded": "邮件已丢弃。"}
PAGE_SIZE = 20


@pages.page("agent", back=BACK)
def page(request) -> Reply:
    ws = session.require(request, "agent")
    ctx = Context.current()
    query = request.query_params or {}
    found = escalation.quarantine_page(ws.actor, limit=PAGE_SIZE, cursor=query.get("cursor") or None)
    tz = clock.zone(ctx.settings.time_zone)
    return pages.html("web/agent_mail.html", title="隔离邮件", mails=found.items, door="agent", ws=ws,
                      done=DONE.get(query.get("done", ""), ""),
                      next_url=("/agent/mail?" + urlencode({"cursor": found.next_cursor})) if found.next_cursor
                      else None, local=lambda iso: clock.parse(iso).astimezone(tz).strftime("%Y-%m-%d %H:%M"))


@pages.page("agent", back=BACK)
def release(request, qid: str) -> Reply:
    ws, _ = pages.posted(request, "agent")
    escalation.release_mail(ws.actor, Context.current(), qid)
    return pages.redirect("/agent/mail?done=released")


@pages.page("agent", back=BACK)
def discard(request, qid: str) -> Reply:
    ws, _ = pages.posted(request, "agent")
    escalation.discard_mail(ws.actor, Context.current(), qid)
    return pages.redirect("/agent/mail?done=discarded")
