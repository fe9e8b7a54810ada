"""Service notices: the use cases, the one entry point for routes, pages and other domains.

- staff: ``post`` and ``remove`` (senior support), ``staff_list`` (any support role) — the same role checks for the
  API and the workspace page, here;
- everyone: ``public_status`` (``GET /status``), ``for_help`` (the help centre, by article), ``for_payee`` (a repayment
  quote), ``for_case_form`` and ``deflected`` (the new-工单 form), ``for_workspace`` (the agent queue).

What is in force is read through a per-container cache of ``status_cache_seconds`` (by the injected clock), so pages
do not Query DynamoDB on every request; whatever the cache holds is filtered by the caller's ``ctx.now``, so a notice
disappears at its end exactly. A change made in this container empties the cache at once; other containers see it
within the cache's lifetime.
"""
from __future__ import annotations

import datetime as dt
import threading

from chalicelib.kernel import clock, refusals
from chalicelib.kernel.actor import SENIOR_SUPPORT, STAFF_ROLES, Actor
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import logger, metric
from chalicelib.status import model, schemas, store

POSTERS = frozenset({SENIOR_SUPPORT})
READERS = STAFF_ROLES

_lock = threading.Lock()
_cache: tuple[object, object, dt.datetime, list[model.Notice]] | None = None   # settings, store, fetched at, notices


# ---------------------------------------------------------------- who may
def may_post(actor: Actor) -> bool:
    return actor.has_role(*POSTERS)


def _require(actor: Actor, roles: frozenset[str], message: str) -> None:
    if not actor.has_role(*roles):
        raise refusals.NotAllowed(message, code="forbidden_role")


def _require_poster(actor: Actor) -> None:
    _require(actor, POSTERS, "只有高级客服（senior-support）可以发布或撤下服务公告。")


# ---------------------------------------------------------------- staff
def post(actor: Actor, body: schemas.NewNotice, ctx: Context) -> dict:
    """A new notice (201): text, scope and times checked, then the notice and its audit record in one commit."""
    _require_poster(actor)
    text = model.clean_text(body.text)
    scope = _check_scope(body.scope, ctx)
    starts_at = model.parse_instant(body.starts_at, "starts_at") if body.starts_at else ctx.now
    ends_at = model.parse_instant(body.ends_at, "ends_at")
    model.check_window(starts_at, ends_at, ctx.now)
    if len(store.current(ctx.now, model.MAX_IN_FORCE + 1)) >= model.MAX_IN_FORCE:
        raise refusals.Conflicting(f"同时生效或待生效的公告最多 {model.MAX_IN_FORCE} 条，请先撤下不再需要的公告。",
                                   code="too_many_notices")
    notice = model.Notice(id=model.new_id(ctx.now), text=text, scope=scope, starts_at=starts_at, ends_at=ends_at,
                          posted_by=actor.username or actor.user_id, posted_at=ctx.now)
    uow = store.begin()
    store.add(uow, notice, _audit(notice, "create", actor, ctx))
    uow.commit()
    reset_cache()
    logger.info("service notice posted", extra={"notice": notice.id, "scope": scope})
    metric("ServiceNoticePosted")
    return _staff_view(notice, ctx).model_dump(mode="json")


def remove(actor: Actor, notice_id: str, ctx: Context) -> dict:
    """Take a notice down (conditional on it still being there; 404 if unknown or already removed)."""
    _require_poster(actor)
    notice = store.get(notice_id) if model.NOTICE_ID.fullmatch(notice_id) else None
    if notice is None:
        raise refusals.Missing("找不到这条公告（可能已被撤下）。", code="notice_not_found")
    uow = store.begin()
    store.remove(uow, notice, _audit(notice, "delete", actor, ctx))
    try:
        uow.commit()
    except store.Conflict:
        raise refusals.Missing("找不到这条公告（可能已被撤下）。", code="notice_not_found") from None
    reset_cache()
    logger.info("service notice removed", extra={"notice": notice.id})
    return schemas.Deleted(id=notice.id, deleted=True).model_dump(mode="json")


def staff_list(actor: Actor, ctx: Context) -> dict:
    """Notices in force or scheduled, soonest end first (read fresh: staff see their own change at once)."""
    _require(actor, READERS, "只有客服人员可以查看服务公告的管理列表。")
    notices = store.current(ctx.now, model.MAX_IN_FORCE + 5)
    return schemas.StaffNotices(items=[_staff_view(n, ctx) for n in notices]).model_dump(mode="json")


def for_workspace(ctx: Context) -> list[dict]:
    """The agent queue's banner: what users are being told right now (staff wording: scope shown)."""
    tz = ctx.settings.time_zone
    return [{**_staff_view(n, ctx).model_dump(mode="json"), "until": model.local_text(n.ends_at, tz)}
            for n in _in_force(ctx)]


# ---------------------------------------------------------------- everyone
def public_status(ctx: Context) -> dict:
    shown = [_public_view(n, ctx) for n in _in_force(ctx, safe=False)]
    return schemas.StatusView(as_of=clock.isoformat(ctx.now), notices=shown).model_dump(mode="json")


def for_help(ctx: Context, *, slug: str | None = None, category: str | None = None) -> list[dict]:
    """The help centre's banner: on the home page every notice in force; on an article those it concerns."""
    notices = _in_force(ctx)
    if slug is not None:
        notices = [n for n in notices if n.concerns_article(slug, category or "")]
    return [_public_view(n, ctx).model_dump(mode="json") for n in notices]


def for_payee(ctx: Context, kind: str, name: str | None) -> list[dict]:
    """The notices a repayment of ``kind`` to ``name`` (issuer, platform or biller) is affected by (a quote)."""
    return [_public_view(n, ctx).model_dump(mode="json") for n in _in_force(ctx) if n.concerns_payee(kind, name)]


def for_case_form(ctx: Context) -> list[dict]:
    """The new-工单 form's banner: every notice in force, with its id for the form's script (never displayed)."""
    return [{"id": n.id, **_public_view(n, ctx).model_dump(mode="json")} for n in _in_force(ctx)]


def deflected(notice_ids: list[str], ctx: Context) -> None:
    """A user left the new-工单 form without submitting it after reading these notices: counted per day and notice
    (no user, no text), as the escalation domain counts an opened suggestion."""
    live = {n.id for n in _in_force(ctx)}
    day = ctx.now.astimezone(clock.zone(ctx.settings.time_zone)).date().isoformat()
    for notice_id in dict.fromkeys(notice_ids[:model.MAX_IN_FORCE]):
        if notice_id in live:
            store.count_deflection(day, notice_id)
            metric("CaseDeflectedByNotice")


def deflections(ctx: Context, day: str) -> dict[str, int]:
    return store.deflections(day)


def scope_choices(ctx: Context) -> list[tuple[str, list[tuple[str, str]]]]:
    """The scopes a lead may pick, grouped (value, label): everyone, a kind, then the catalogue's names."""
    catalogue = _catalogue(ctx)
    return [("范围", [("all", "全部用户")] + [(k, model.KIND_LABELS[k]) for k in model.KINDS]),
            ("发卡行", [(f"issuer:{n}", n) for n in catalogue.card_issuers]),
            ("借款平台", [(f"platform:{p['name']}", p["name"]) for p in catalogue.loan_platforms]),
            ("缴费单位", [(f"biller:{n}", n) for n in sorted(_billers(catalogue))])]


def local_text(moment_iso: str, ctx: Context) -> str:
    return model.local_text(clock.parse(moment_iso), ctx.settings.time_zone)


# ---------------------------------------------------------------- the cache
def reset_cache() -> None:
    global _cache
    with _lock:
        _cache = None


def _in_force(ctx: Context, *, safe: bool = True) -> list[model.Notice]:
    """The notices in force at ``ctx.now``, from the container's cache when it is fresh. ``safe`` (a page's banner):
    if DynamoDB cannot be read, the page is still served — with what the cache last held, or no banner — and the
    failure is remembered for the cache's lifetime so the next requests do not wait on it again."""
    global _cache
    ttl = dt.timedelta(seconds=ctx.settings.status_cache_seconds)
    backend = store.backend()
    held = _cache
    fresh = (held is not None and held[0] is ctx.settings and held[1] is backend
             and held[2] <= ctx.now < held[2] + ttl)
    if not fresh:
        try:
            notices = store.current(ctx.now, model.MAX_IN_FORCE + 5)
        except Exception:
            if not safe:
                raise
            logger.warning("service notices unavailable: pages shown without them", exc_info=True)
            notices = list(held[3]) if held is not None and held[0] is ctx.settings else []
        with _lock:
            _cache = held = (ctx.settings, backend, ctx.now, notices)
    assert held is not None
    return [n for n in held[3] if n.in_force(ctx.now)]


# ---------------------------------------------------------------- views
def _catalogue(ctx: Context):
    from chalicelib.bills import service as bills  # the catalogue (imported when a lead posts, not at a cold start)
    return bills.rules_of(ctx).catalogue


def _billers(catalogue) -> set[str]:
    return {name for by_utility in catalogue.billers.values() for names in by_utility.values() for name in names}


def _check_scope(scope: str, ctx: Context) -> str:
    catalogue = _catalogue(ctx)
    return model.check_scope(scope, issuers=set(catalogue.card_issuers),
                             platforms={p["name"] for p in catalogue.loan_platforms}, billers=_billers(catalogue))


def _audit(notice: model.Notice, action: str, actor: Actor, ctx: Context) -> dict:
    return {"action": action, "by": actor.username or actor.user_id, "at": clock.isoformat(ctx.now),
            "notice_id": notice.id, "text": notice.text, "scope": notice.scope,
            "starts_at": clock.isoformat(notice.starts_at), "ends_at": clock.isoformat(notice.ends_at)}


def _public_view(notice: model.Notice, ctx: Context) -> schemas.PublicNotice:
    return schemas.PublicNotice(text=notice.text, scope=notice.scope, scope_label=notice.scope_label,
                                starts_at=clock.isoformat(notice.starts_at), ends_at=clock.isoformat(notice.ends_at),
                                until=model.local_text(notice.ends_at, ctx.settings.time_zone))


def _staff_view(notice: model.Notice, ctx: Context) -> schemas.StaffNotice:
    return schemas.StaffNotice(id=notice.id, text=notice.text, scope=notice.scope, scope_label=notice.scope_label,
                               starts_at=clock.isoformat(notice.starts_at), ends_at=clock.isoformat(notice.ends_at),
                               posted_by=notice.posted_by, posted_at=clock.isoformat(notice.posted_at),
                               in_force=notice.in_force(ctx.now))
