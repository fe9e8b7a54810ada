"""Finding a 工单 (staff): by reference, by the user's name, by repayment id, or by words of its
description and conversation; filtered by step, status, priority, category, assignee and the day it was
opened; or by the phone's last four digits and the day it was opened (``phones.py``); newest first, paged with
an opaque cursor; only the 工单 of steps the searcher may work (the queue's rule, ``casework.may_work``). A
search by user name or by phone leaves an access record per user shown (repay domain).

Reads: a reference is one GetItem; the other searches read one index partition each (GSIs ``by_username``,
``by_repayment``; term items ``TERM#<word>`` intersected newest first) and load term hits in batches —
never a Scan. At most ``MAX_EXAMINED`` index entries are read per page: a filter that rejects most of them
gives a short page with a cursor to go on (docs/escalation.md "Finding a 工单", costs in docs/scale.md).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Literal

from chalicelib.escalation import casework, model, phones, repository, schemas, show, terms
from chalicelib.escalation.items import name_key
from chalicelib.escalation.model import Case
from chalicelib.kernel import clock, refusals
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context

MAX_EXAMINED = 1000
BATCH = 25
_REFERENCE = re.compile(model.REFERENCE_PATTERN)
_DASHES = dict.fromkeys(map(ord, "‐‑‒–—―−ー"), "-")


def normalize_reference(text: str) -> str:
    """``ｒｄ－２０２６１２０１－ｄａｘｊ`` → ``RD-20261201-DAXJ``: NFKC (full width folded), dashes unified,
    spaces dropped, upper case."""
    folded = unicodedata.normalize("NFKC", text).translate(_DASHES)
    return re.sub(r"\s+", "", folded).upper()


By = Literal["reference", "user", "repayment", "words", "phone"]


def _criterion(query: schemas.CaseSearchQuery) -> tuple[By, str]:
    named: tuple[tuple[By, str | None], ...] = (("reference", query.ref), ("user", query.user),
                                                ("repayment", query.repayment_id), ("words", query.q),
                                                ("phone", query.phone_last4))
    given = [(by, value.strip()) for by, value in named if value is not None and value.strip()]
    if len(given) != 1:
        raise refusals.Invalid("请给出且只给出一个查找条件：工单编号、用户名、还款编号、关键词或手机号后四位。",
                               code="invalid_search")
    if query.date is not None and given[0][0] != "phone":
        raise refusals.Invalid("date（受理日期）只用于按手机号后四位查找；其他查找请用 since / until。",
                               code="invalid_dates", field="date")
    return given[0]


def _fingerprint(query: schemas.CaseSearchQuery) -> str:
    shape = query.model_dump(mode="json", exclude={"cursor", "limit"})
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:16]


def _encode(fingerprint: str, before: str) -> str:
    raw = json.dumps({"f": fingerprint, "b": before}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, fingerprint: str) -> str:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = None
    if not isinstance(key, dict) or key.get("f") != fingerprint or not isinstance(key.get("b"), str) or not key["b"]:
        raise refusals.Invalid("cursor 无效（或属于另一次查找），请从第一页重新开始。", code="invalid_cursor",
                               field="cursor")
    return key["b"]


def intersect(streams: list[Iterator[tuple[str, Case | None]]]) -> Iterator[tuple[str, Case | None]]:
    """The entries every stream holds; each stream is sorted by key, newest (largest) first."""
    heads = [next(s, None) for s in streams]
    while all(h is not None for h in heads):
        keys = [h[0] for h in heads if h is not None]
        low = min(keys)
        first = heads[0]
        if first is not None and all(k == low for k in keys):
            yield first
            heads = [next(s, None) for s in streams]
        else:
            heads = [next(s, None) if h is not None and h[0] > low else h for s, h in zip(streams, heads, strict=True)]


def _passes(actor: Actor, case: Case, query: schemas.CaseSearchQuery) -> bool:
    return (casework.may_work(actor, case.step_def)
            and all(wanted is None or wanted == value for wanted, value in (
                (query.step, case.step), (query.status, case.status), (query.priority, case.priority),
                (query.category, case.category), (query.assignee, case.assignee))))


def _entries(by: str, value: str, query: schemas.CaseSearchQuery, before: str | None, ctx: Context):
    store = repository.store()
    if by == "phone":   # four digits within local days (``phones.window``): GSI by_phone4
        digits = phones.normalize(value)
        first, last = phones.window(query.date, query.since, query.until, ctx.settings.time_zone)
        return store.find_keys("phone", digits, since=first, until=last, before=before)
    if query.since and query.until and query.since > query.until:
        raise refusals.Invalid("开始日期不能晚于结束日期。", code="invalid_dates", field="since")
    since, until = clock.local_days(query.since, query.until, ctx.settings.time_zone)   # business days
    window = {"since": since, "until": until, "before": before}
    if by == "user":
        return store.find_keys("user", name_key(value), **window)
    if by == "repayment":
        return store.find_keys("repayment", value, **window)
    words = terms.of_text(value)[:terms.MAX_QUERY_WORDS]
    if not words:
        raise refusals.Invalid("关键词里没有可查找的词，请换一个更具体的词。", code="invalid_search", field="q")
    return intersect([iter(store.find_keys("term", w, **window)) for w in words])


def _chunks(entries: Iterable[tuple[str, Case | None]]) -> Iterator[list[tuple[str, Case | None]]]:
    chunk: list[tuple[str, Case | None]] = []
    for entry in entries:
        chunk.append(entry)
        if len(chunk) == BATCH:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def search(actor: Actor, ctx: Context, query: schemas.CaseSearchQuery) -> schemas.CaseSearchPage:
    casework.require_staff(actor)
    by, value = _criterion(query)
    if by == "reference":
        return _by_reference(actor, ctx, query, value)
    fingerprint = _fingerprint(query)
    before = _decode(query.cursor, fingerprint) if query.cursor else None
    hits: list[tuple[str, Case]] = []
    examined, last = 0, None
    store = repository.store()
    for chunk in _chunks(_entries(by, value, query, before, ctx)):
        missing = [sk.rpartition("#")[2] for sk, case in chunk if case is None]
        loaded = {c.case_id: c for c in store.get_many(missing)} if missing else {}
        for sk, case in chunk:
            examined, last = examined + 1, sk
            case = case or loaded.get(sk.rpartition("#")[2])
            if case is not None and _passes(actor, case, query):
                hits.append((sk, case))
        if len(hits) > query.limit or examined >= MAX_EXAMINED:
            break
    page = hits[:query.limit]
    if len(hits) > query.limit:
        next_cursor = _encode(fingerprint, page[-1][0])
    elif examined >= MAX_EXAMINED and last:
        next_cursor = _encode(fingerprint, last)   # more may follow: the page stopped reading, not the index
    else:
        next_cursor = None
    cases = [case for _, case in page]
    if by in ("user", "phone"):
        _record_user_search(actor, ctx, cases, "staff_searched_cases" if by == "user" else "staff_searched_by_phone")
    return schemas.CaseSearchPage(by=by, items=[show.summary(c, staff=True) for c in cases], next_cursor=next_cursor)


def _by_reference(actor: Actor, ctx: Context, query: schemas.CaseSearchQuery, value: str) -> schemas.CaseSearchPage:
    reference = normalize_reference(value)
    if not _REFERENCE.match(reference):
        raise refusals.Invalid("工单编号的格式是 RD-年月日-四位字母数字，例如 RD-20261201-DAXJ。",
                               code="invalid_reference", field="ref")
    case = repository.store().get(reference)
    since, until = clock.local_days(query.since, query.until, ctx.settings.time_zone)
    within = case is not None and (since is None or case.created_at >= since) and (
        until is None or case.created_at <= until)
    found = case is not None and within and _passes(actor, case, query)
    return schemas.CaseSearchPage(by="reference", items=[show.summary(case, staff=True)] if found and case else [],
                                  next_cursor=None, exact=reference if found else None)


def _record_user_search(actor: Actor, ctx: Context, cases: list[Case], event: str) -> None:
    """Naming a user in a search (by name, or by phone digits and a day) is reading their data: one access
    record per user shown (before the answer)."""
    from chalicelib.repay import service as repay_service  # cold start: the repay domain loads only when needed
    shown: dict[str, list[str]] = {}
    for case in cases:
        shown.setdefault(case.user_id, []).append(case.case_id)
    for user_id, case_ids in shown.items():
        repay_service.record_access(actor, ctx, user_id=user_id, event=event, case_ids=case_ids)
