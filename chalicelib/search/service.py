"""Knowledge-base use cases: search, read an article, categories, feedback, gaps.

The index is opened once per container, lazily, read-only, from ``settings().kb_index_dir``.
Analytics (zero-result queries, feedback counters) go to DynamoDB through ``store``; a search
never waits on or fails because of them (see ``_record_zero_result``).
"""
from __future__ import annotations

import gc
import json
import queue
import threading
import time

from chalicelib.adapters import events
from chalicelib.config import settings
from chalicelib.edge import errors
from chalicelib.kernel import clock
from chalicelib.kernel.logs import logger, metric
from chalicelib.search import schemas, signals, store
from chalicelib.search.index import CATEGORIES, KbIndex
from chalicelib.search.marks import _query_marks, did_you_mean, highlight, mark_text, snippet  # noqa: F401

MAX_QUERY_CHARS = 200
MAX_LIMIT = 50
GAP_DAYS = 7

_index: KbIndex | None = None
_index_dir: str | None = None
_refresher = None   # live.Refresher when KB_LIVE_REFRESH_SECONDS > 0
_frozen = False
_lock = threading.Lock()


def kb_index() -> KbIndex:
    """The container's index (opened on first use; reopened if ``KB_INDEX_DIR`` changed)."""
    global _index, _index_dir, _frozen, _refresher
    wanted = settings().kb_index_dir
    if _index is None or _index_dir != wanted:
        with _lock:
            if _index is None or _index_dir != wanted:
                try:
                    _index = KbIndex(wanted)
                except Exception as exc:  # a missing/corrupt index is an operator problem: say so
                    logger.exception("kb index unavailable", extra={"kb_index_dir": wanted})
                    raise errors.ServiceUnavailable("知识库暂时不可用，请稍后重试。", code="kb_unavailable") from exc
                _index_dir = wanted
                if not _frozen:
                    # The container's index (and Whoosh, imported with it) stays for good: out of
                    # the collector's way like the modules (see the end of app.py). Once only —
                    # tests reopen fixture indexes, and frozen garbage would never be freed.
                    gc.freeze()
                    _frozen = True
    if settings().kb_live_refresh_seconds > 0:   # a newer published build, fetched on a thread (live.py)
        if _refresher is None:
            from chalicelib.search import live
            _refresher = live.Refresher(interval=settings().kb_live_refresh_seconds, install=_install)
        _refresher.maybe_start()
    return _index


def _install(index: KbIndex, pointer: dict) -> None:
    """A newer build goes live: one reference assignment, scoring with the fetched learned model if any."""
    global _index
    from chalicelib.search.learned import LearnedModel
    with _lock:
        if _learned_body is not None:
            index.use_learned(LearnedModel(json.loads(_learned_body), docnum_for=index.docnum_for))
        _index = index


def queue_build(reason: str, *, requested_by: str = "system") -> str:
    """Publishing: queue a rebuild of the live index (``builds.py``); returns the build id."""
    from chalicelib.search import builds
    return builds.queue_build(reason, requested_by=requested_by)


def build_status(build_id: str) -> schemas.BuildStatus:
    from chalicelib.search import builds
    return builds.build_status(build_id)


def reset() -> None:
    """Forget the open index (tests point ``KB_INDEX_DIR`` at fixture indexes)."""
    global _index, _index_dir, _learned_next_check, _learned_etag, _learned_body, _refresher
    if _refresher is not None:
        _refresher.forget()
    with _lock:
        _index, _index_dir, _refresher = None, None, None
        _learned_next_check, _learned_etag, _learned_body = 0.0, None, None


# --------------------------------------------------------------- a rebuilt learned model, without a redeploy
_learned_next_check = 0.0
_learned_etag: str | None = None
_learned_body: bytes | None = None   # the fetched model, applied again to each live index installed
_learned_thread: threading.Thread | None = None


def _check_learned(kb: KbIndex) -> None:
    """At most every ``KB_LEARNED_REFRESH_SECONDS`` per container, look for a newer learned model
    at ``KB_LEARNED_URI`` (s3://bucket/key) — on a background thread: a search never waits.
    A container's first search only arms the check (its fetch starts with the next search): a
    cold start neither imports boto3 nor shares the interpreter with a download."""
    global _learned_next_check, _learned_thread
    cfg = settings()
    if not cfg.kb_learned_uri or time.monotonic() < _learned_next_check:
        return
    if not _learned_next_check:
        _learned_next_check = time.monotonic()
        return
    with _lock:
        if time.monotonic() < _learned_next_check or (_learned_thread is not None and _learned_thread.is_alive()):
            return
        _learned_next_check = time.monotonic() + cfg.kb_learned_refresh_seconds
        _learned_thread = threading.Thread(target=_fetch_learned, args=(kb, cfg.kb_learned_uri),
                                           name="kb-learned", daemon=True)
        _learned_thread.start()


def _fetch_learned(kb: KbIndex, uri: str) -> None:
    """Fetch the model if it changed (conditional GET on its ETag) and score with it from now on."""
    global _learned_etag, _learned_body
    from chalicelib.search import learned_store
    from chalicelib.search.learned import LearnedModel

    try:
        fetched = learned_store.fetch(uri, _learned_etag)
        if fetched is None:   # not modified
            return
        body, etag = fetched
        with _lock:   # on the index in use now (a live index may have been installed meanwhile)
            kb = _index or kb
            model = LearnedModel(json.loads(body), docnum_for=kb.docnum_for)
            kb.use_learned(model)
            _learned_etag, _learned_body = etag, body
        logger.info("kb learned model loaded", extra={"uri": uri, "pairs": model.pairs})
    except Exception:  # keep the model we have; try again after the next interval
        logger.warning("kb learned model not loaded", extra={"uri": uri}, exc_info=True)


def wait_for_learned() -> None:
    """Wait for a model fetch in progress (tests)."""
    if _learned_thread is not None:
        _learned_thread.join()


# --------------------------------------------------------------- search
def clean_query(query: str | None) -> str:
    if query is None or not query.strip():
        raise errors.ValidationFailed("请输入要搜索的问题。", code="empty_query", field="q")
    if len(query) > MAX_QUERY_CHARS:
        raise errors.ValidationFailed(f"搜索内容不能超过 {MAX_QUERY_CHARS} 个字。", code="query_too_long", field="q")
    return query.strip()


def search(query: str, *, category: str | None = None, limit: int = 10) -> schemas.SearchResponse:
    started = time.perf_counter()
    text = clean_query(query)
    if category is not None and category not in CATEGORIES:
        raise errors.ValidationFailed("没有这个分类。", code="unknown_category", field="category")
    if not 1 <= int(limit) <= MAX_LIMIT:
        raise errors.ValidationFailed(f"limit 应在 1 到 {MAX_LIMIT} 之间。", field="limit")
    kb = kb_index()
    _check_learned(kb)
    hits, total, parsed = kb.search(text, category=category, limit=int(limit))
    marks = _query_marks(kb, parsed, text)
    results = []
    for hit in hits:
        doc = kb.stored(hit.docnum)
        weak = {"weak": True} if hit.weak else {}  # under 10 % of the best: listed all the same ("可能相关")
        results.append(schemas.SearchResult(slug=doc["slug"], title=doc["title"], category=doc["category"],
                                            snippet=snippet(kb, hit.docnum, doc, marks), score=round(hit.score, 4),
                                            **weak))
    suggestion = did_you_mean(kb, text)
    metric("KbSearch")
    events.record("search", query=None if signals.looks_personal(text) else text, results=total,
                  zero=total == 0)  # off the request thread; the searcher if signed in: events.as_user (#15)
    if total == 0:
        _record_zero_result(text)
    return schemas.SearchResponse(query=text, total=total, results=results, suggestion=suggestion,
                                  took_ms=round((time.perf_counter() - started) * 1000, 2))


_analytics: queue.Queue = queue.Queue(maxsize=1000)
_worker: threading.Thread | None = None


def _record_zero_result(text: str) -> None:
    """Count a query nobody could answer — off the request path: the search never waits for
    DynamoDB (not even for creating its client) and never fails because of it."""
    metric("KbZeroResult")
    day = clock.local_now(settings().time_zone).date().isoformat()
    _queue_analytics("count_zero_result", (text,), day)


def _queue_analytics(writer: str, args: tuple, day: str) -> None:
    """Hand one counter to the analytics thread (``store.<writer>(*args, day=day)``)."""
    global _worker
    try:
        _analytics.put_nowait((writer, args, day))
    except queue.Full:  # DynamoDB is far behind; dropping a counter beats slowing searches
        logger.warning("kb analytics queue full, counter dropped", extra={"writer": writer})
        return
    if _worker is None or not _worker.is_alive():
        with _lock:
            if _worker is None or not _worker.is_alive():
                _worker = threading.Thread(target=_analytics_loop, name="kb-analytics", daemon=True)
                _worker.start()


def _analytics_loop() -> None:
    while True:
        writer, args, day = _analytics.get()
        try:
            getattr(store, writer)(*args, day=day)
        except Exception:  # best effort: logged, never raised into a request
            logger.warning("kb analytics unavailable", exc_info=True)
        finally:
            _analytics.task_done()


def record_signal(query: str | None, slug: str, kind: str) -> bool:
    """Count what a search led to (see ``signals``): off the request path, like zero-result
    counts. A personal-looking, empty or over-long query, or an unknown article, is not stored
    (returns False); nothing about the user is."""
    if query is None or not signals.valid(query, slug, kind):
        return False
    if kb_index().docnum_for(slug) is None:
        return False
    day = clock.local_now(settings().time_zone).date().isoformat()
    _queue_analytics("count_signal", (query.strip(), slug, kind), day)
    metric("KbSignal", kind=kind)
    if kind in ("click", "case"):  # votes are recorded by record_feedback
        events.record("click" if kind == "click" else "search_case", query=query.strip(), slug=slug)
    return True


def flush_analytics() -> None:
    """Wait until queued analytics are written (tests; a clean shutdown)."""
    _analytics.join()


# --------------------------------------------------------------- articles
def get_article(slug: str) -> schemas.ArticleResponse | None:
    kb = kb_index()
    docnum = kb.docnum_for(slug)
    if docnum is None:
        return None
    doc = kb.stored(docnum)
    return schemas.ArticleResponse(slug=doc["slug"], title=doc["title"], category=doc["category"], html=doc["html"],
                                   updated=doc.get("updated") or "", questions=list(doc.get("questions") or []),
                                   related=[schemas.RelatedArticle.model_validate(r) for r in doc.get("related") or []])


def read_article(slug: str, user: str | None = None) -> schemas.ArticleResponse:
    """One article for a reader (404 ``article_not_found`` for an unknown slug); the view is recorded."""
    article = get_article(slug)
    if article is None:
        raise errors.NotFound("没有这篇文章。", code="article_not_found")
    record_view(slug, user=user)
    return article


def record_view(slug: str, user: str | None = None) -> None:
    """An article was read (a page or the API), for the reports; ``user`` as in ``search``."""
    events.record("article_view", slug=slug, user=user)


def categories() -> schemas.CategoriesResponse:
    counts = kb_index().meta.get("categories", {})
    return schemas.CategoriesResponse(categories=[
        schemas.Category(id=cid, name=name, count=int(counts.get(cid, 0))) for cid, name in CATEGORIES.items()])


# --------------------------------------------------------------- feedback and gaps
def record_feedback(slug: str, *, helpful: bool, comment: str | None = None, user_id: str | None = None,
                    query: str | None = None) -> None:
    """A vote; with ``query`` (the search that led here) it is also a signal for the learned model."""
    if kb_index().docnum_for(slug) is None:
        raise errors.NotFound("没有这篇文章。", code="article_not_found")
    store.record_feedback(slug, helpful=helpful, comment=(comment or "").strip() or None, user_id=user_id,
                          at=clock.isoformat(clock.now()))
    metric("KbFeedback", helpful="yes" if helpful else "no")
    events.record("article_vote", slug=slug, helpful=bool(helpful))
    if query:
        record_signal(query, slug, "helpful" if helpful else "not_helpful")


def kb_gaps(limit: int = 20, *, days: int = GAP_DAYS) -> schemas.GapsResponse:
    today = clock.local_now(settings().time_zone).date()
    import datetime as dt
    day_list = [(today - dt.timedelta(days=n)).isoformat() for n in range(days)]
    queries = store.zero_result_queries(day_list)
    totals: dict[str, dict] = {}
    for item in queries:
        entry = totals.setdefault(item["query"], {"query": item["query"], "count": 0, "last_seen": item["day"]})
        entry["count"] += item["count"]
        entry["last_seen"] = max(entry["last_seen"], item["day"])
    top = sorted(totals.values(), key=lambda e: (-e["count"], e["query"]))[:limit]
    from urllib.parse import urlencode
    for entry in top:   # each row offers 「写一篇文章」: a new draft with the query as a user question
        entry["write_url"] = "/agent/kb/new?" + urlencode({"question": entry["query"]})
    kb = kb_index()
    articles = []
    for stats in store.article_feedback():
        votes = stats["helpful"] + stats["not_helpful"]
        if stats["not_helpful"] == 0:
            continue
        docnum = kb.docnum_for(stats["slug"])
        title = kb.stored(docnum)["title"] if docnum is not None else None
        articles.append({"slug": stats["slug"], "title": title, "helpful": stats["helpful"],
                         "not_helpful": stats["not_helpful"], "helpful_ratio": round(stats["helpful"] / votes, 3)})
    articles.sort(key=lambda a: (a["helpful_ratio"], -a["not_helpful"], a["slug"]))
    return schemas.GapsResponse.model_validate({"days": days, "from": day_list[-1], "to": day_list[0],
                                                "zero_result_queries": top, "least_helpful_articles": articles[:limit]})


_words_analyzer = None


def words(text: str) -> list[str]:
    """The knowledge base's words of ``text`` (its analyzer: NFKC/full-width folding, jieba with the domain
    dictionary, synonyms to their canonical word; filler words left out), distinct, in order — for other
    domains' term indexes (escalation's 工单 search). Built once per container, without the index."""
    global _words_analyzer
    if _words_analyzer is None:
        from chalicelib.search.analyzer import Analyzer
        _words_analyzer = Analyzer.for_build()
    found = _words_analyzer.analyze(text, words_only=True).words
    return list(dict.fromkeys(w for w in found if not w.startswith("~") and w.strip()))
