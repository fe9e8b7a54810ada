"""Publishing is live in seconds, never half-done: queue a build, run it, move the live pointer forward only.

1. ``queue_build(reason)`` (a publish): allocates the next build sequence, records the build as ``queued``
   (who, why, when) and sends one message to the build queue (``KB_BUILD_QUEUE``).
2. ``run(build_id)`` (the build function, ``build_kb_index`` in ``chalicelib/routes/knowledge_base.py``):
   rebuilds the whole index from the published articles (``published_sources``: the content facade), writes it to
   S3 as one archive under a new key, then moves the live pointer to it — a conditional write that succeeds only if
   no build with the same or a higher sequence is live, so when two publishes race the older build never
   replaces the newer one (it is recorded ``superseded``: the newer build already holds its change).
   A bad article or any error leaves the live index as it was and records why, in words an editor reads.
3. API containers pick the pointer up (``live.py``) and swap their index in one assignment.

State lives behind ``live_store`` (DynamoDB + S3, or its in-memory twin).
"""
from __future__ import annotations

import io
import json
import secrets
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from chalicelib.adapters import queues
from chalicelib.config import settings
from chalicelib.content import service as content
from chalicelib.edge import errors
from chalicelib.kernel import clock
from chalicelib.kernel.logs import logger, metric
from chalicelib.search import live_store, schemas

QUEUED, BUILDING, LIVE, SUPERSEDED, FAILED = "queued", "building", "live", "superseded", "failed"
ARCHIVE_PREFIX = "builds/"
MAX_REASON_CHARS = 200

# What an editor reads about a build (build_status); a failure adds its reason.
WORDS = {
    QUEUED: "已排队，正在等待生成搜索索引。",
    BUILDING: "正在生成搜索索引，通常一分钟内完成。",
    LIVE: "已上线：用户现在搜索就能找到这次发布的内容。",
    SUPERSEDED: "已上线：这次发布的内容已包含在随后的一次发布中。",
}
UNEXPECTED = "生成搜索索引时出错，线上仍是上一版内容。系统会自动重试；如仍失败，请重新发布或联系技术支持。"
# An article the build refuses (chalicelib/search/build/articles.py ArticleError), said for an editor.
_ARTICLE_PROBLEMS = (
    ("no YAML front matter", "缺少开头的文章信息（--- … ---）"),
    ("front matter is not valid YAML", "开头的文章信息格式有误"),
    ("front matter must be a mapping", "开头的文章信息格式有误"),
    ("slug must be", "文章地址只能用小写字母、数字和连字符"),
    ("title is required", "缺少标题"),
    ("category must be one of", "分类不存在"),
    ("must be a list", "用户问法和标签应是列表"),
    ("already used by", "文章地址与另一篇文章重复"),
)


class BadArticle(Exception):
    """A published article the index cannot be built from (the build stops; the live index stays)."""

    def __init__(self, slug: str, problem: str):
        super().__init__(f"{slug}: {problem}")
        self.slug, self.problem = slug, problem

    @property
    def words(self) -> str:
        said = next((zh for en, zh in _ARTICLE_PROBLEMS if en in self.problem), "内容无法解析")
        return f"文章「{self.slug}」无法发布：{said}。线上仍是上一版内容，请修改后重新发布。"


class EmptyIndex(BadArticle):
    def __init__(self) -> None:
        Exception.__init__(self, "no published articles")
        self.slug, self.problem = "", "no published articles"

    @property
    def words(self) -> str:
        return "没有已发布的文章，搜索索引未更新。线上仍是上一版内容。"


@dataclass(frozen=True)
class Build:
    id: str
    seq: int
    status: str
    requested_by: str
    why: str
    queued_at: str
    reason: str = ""          # why it failed, for the editor
    started_at: str = ""
    finished_at: str = ""
    articles: int = 0
    key: str = ""

    @classmethod
    def of(cls, record: dict) -> Build:
        return cls(**{k: record[k] for k in cls.__dataclass_fields__ if k in record})


# --------------------------------------------------------------- the one provider of published articles
def published_sources() -> list[tuple[str, str]]:
    """Every published article as ``(slug, text)`` in the seed-file format (front matter + Markdown): what the
    content domain holds as published (``content.service.published_sources()``), never a draft or a review.
    The seed folder (``kb/``) is only what ``make serve`` / a deploy imports into content."""
    return content.published_sources()


# --------------------------------------------------------------- queue and status
def queue_build(reason: str, *, requested_by: str = "system") -> str:
    """Record a build as queued (who, why) and send it to the build queue; returns the build id."""
    store = live_store.current()
    seq = store.next_seq()   # the order builds are ranked by: allocated now, at publish time
    build_id = f"kb{seq}-{secrets.token_hex(3)}"
    store.put_build({"id": build_id, "seq": seq, "status": QUEUED, "requested_by": requested_by[:100],
                     "why": (reason or "")[:MAX_REASON_CHARS], "queued_at": clock.isoformat(clock.now())})
    try:
        queues.send(settings().kb_build_queue, json.dumps({"build": build_id}))
    except Exception:
        store.set_status(build_id, FAILED, expect=(QUEUED,), reason="发布未能排队，请重新发布。",
                         finished_at=clock.isoformat(clock.now()))
        raise
    metric("KbBuildQueued")
    logger.info("kb build queued", extra={"build": build_id, "seq": seq})
    return build_id


def get(build_id: str) -> Build | None:
    record = live_store.current().get_build(build_id)
    return Build.of(record) if record else None


def build_status(build_id: str) -> schemas.BuildStatus:
    """Where a publish stands, for the editor who made it (404 ``build_not_found`` for an unknown id)."""
    found = get(build_id)
    if found is None:
        raise errors.NotFound("没有这次发布。", code="build_not_found")
    status: Literal["queued", "building", "live", "failed"] = (
        LIVE if found.status == SUPERSEDED else found.status)  # type: ignore[assignment]
    message = (found.reason or UNEXPECTED) if found.status == FAILED else WORDS[found.status]
    return schemas.BuildStatus(id=found.id, status=status, message=message, requested_by=found.requested_by,
                               why=found.why, queued_at=found.queued_at, finished_at=found.finished_at or None,
                               articles=found.articles or None)


# --------------------------------------------------------------- the build function
def run(build_id: str, *, sources=None) -> str:
    """Build one queued build and make it live if nothing newer is; returns the build's final status.

    Safe to run twice (SQS delivers at least once): a finished build is left alone. An unexpected error
    is recorded and raised again (SQS retries, then the dead-letter queue); a bad article is final."""
    store = live_store.current()
    found = get(build_id)
    if found is None:
        logger.warning("kb build unknown", extra={"build": build_id})
        return "unknown"
    if found.status in (LIVE, SUPERSEDED):
        return found.status
    live = store.live()
    if live is not None and live["seq"] >= found.seq:   # a newer publish is live: it holds this one's change
        store.set_status(build_id, SUPERSEDED, expect=(QUEUED, BUILDING, FAILED), finished_at=_now())
        return SUPERSEDED
    if not store.set_status(build_id, BUILDING, expect=(QUEUED, BUILDING, FAILED), started_at=_now(), reason=""):
        now = get(build_id)   # another delivery finished it meanwhile
        return now.status if now else "unknown"
    try:
        archive, count = build_archive(published_sources() if sources is None else sources)
        key = f"{ARCHIVE_PREFIX}{found.seq:010d}-{build_id}.tar.gz"
        store.put_archive(key, archive)
    except BadArticle as exc:
        logger.warning("kb build refused an article", extra={"build": build_id, "slug": exc.slug})
        store.set_status(build_id, FAILED, expect=(BUILDING,), reason=exc.words, finished_at=_now())
        metric("KbBuildFailed")
        return FAILED
    except Exception:
        logger.exception("kb build failed", extra={"build": build_id})
        store.set_status(build_id, FAILED, expect=(BUILDING,), reason=UNEXPECTED, finished_at=_now())
        metric("KbBuildFailed")
        raise
    if store.advance(found.seq, build_id, key, _now()):
        store.set_status(build_id, LIVE, expect=(BUILDING,), finished_at=_now(), articles=count, key=key)
        if live is not None:
            _tag(store, live["key"])
        logger.info("kb build live", extra={"build": build_id, "seq": found.seq, "articles": count})
        metric("KbBuildLive")
        return LIVE
    store.set_status(build_id, SUPERSEDED, expect=(BUILDING,), finished_at=_now(), articles=count, key=key)
    _tag(store, key)
    return SUPERSEDED


def build_archive(sources: list[tuple[str, str]]) -> tuple[bytes, int]:
    """The index of these articles as one gzip'd tar (the index folder's files at its top); and its size."""
    from chalicelib.search.build import ArticleError, build, parse_article

    if not sources:   # never an empty help centre (a provider that found nothing, a missing seed folder)
        raise EmptyIndex()
    articles, seen = [], set()
    for slug, text in sources:
        try:
            article = parse_article(text, origin=slug)
        except ArticleError as exc:
            raise BadArticle(slug, str(exc)) from None
        if article.slug in seen:
            raise BadArticle(article.slug, "already used by another article")
        seen.add(article.slug)
        articles.append(article)
    work = Path(tempfile.mkdtemp(prefix="kb-build-"))
    try:
        out = work / "index"
        # contacts.yaml / scam_numbers.yaml are copied from the packaged seed folder: only the fallback of the
        # contacts directory. The numbers users see follow the contacts published in the workspace (#23 item 4,
        # search.contacts.directory()), not a build: a contacts change needs no index rebuild.
        build(settings().kb_source_dir, out, articles=articles)
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as tar:
            for path in sorted(out.iterdir()):
                tar.add(path, arcname=path.name)
        return buffer.getvalue(), len(articles)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _tag(store, key: str) -> None:
    try:
        store.tag_superseded(key)
    except Exception:  # only housekeeping: the archive then lives on until someone deletes it
        logger.warning("kb archive not tagged superseded", extra={"key": key}, exc_info=True)


def _now() -> str:
    return clock.isoformat(clock.now())

