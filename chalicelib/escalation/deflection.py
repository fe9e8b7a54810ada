"""Deflection: knowledge-base articles that may answer the question before a 工单 is opened, and whether they did.

The search domain is reached only through its facade, ``chalicelib.search.service``, imported when first
needed (cold start: a container answering 工单 routes does not load the search index's code).
"""
from __future__ import annotations

from chalicelib.adapters import events
from chalicelib.escalation import repository, schemas
from chalicelib.kernel import clock, refusals
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import metric, user_hash


def _search():
    from chalicelib.search import service as search_service  # cold start: the search domain loads when first asked
    return search_service


def suggestions(q: str, actor: Actor | None = None) -> schemas.Suggestions:
    """KB articles that may answer the question before a case is opened (search domain).

    A missing index is the search service's clear 503 (``kb_unavailable``); an
    absent search package is reported the same way rather than as a 500.
    """
    try:
        search_service = _search()
    except ImportError:
        raise refusals.Busy("知识库搜索暂不可用，您仍可直接提交工单。", code="kb_unavailable") from None
    with events.as_user(user_hash(actor.user_id) if actor else None):  # a signed-in reader (deflection, #15)
        found = search_service.search(q, limit=5)
    items = [schemas.Suggestion(id=hit.slug, title=hit.title, snippet=hit.snippet,
                                url=f"/help/articles/{hit.slug}") for hit in found.results[:5]]
    return schemas.Suggestions(query=q, items=items)


def deflected(query: str, slug: str, ctx: Context) -> None:
    """A suggested article opened from the new-工单 form instead of submitting it: counted per day and
    article (no user, no text), and a click signal for search (``record_signal`` drops personal text)."""
    search_service = _search()
    if not search_service.get_article(slug):
        return
    repository.store().count_deflection(_day(ctx), slug, "opened")
    search_service.record_signal(query[:200], slug, "click")
    metric("CaseDeflected")


def not_deflected(query: str, slugs: list[str], ctx: Context) -> None:
    """The user came back from those articles and opened a 工单 after all: not a deflection."""
    search_service = _search()
    day = _day(ctx)
    for slug in dict.fromkeys(slugs[:5]):
        if search_service.get_article(slug):
            repository.store().count_deflection(day, slug, "returned")
            search_service.record_signal(query[:200], slug, "case")


def _day(ctx: Context) -> str:
    """The service's local date at the use case's moment."""
    return ctx.now.astimezone(clock.zone(ctx.settings.time_zone)).date().isoformat()
