"""The state changes of an article: each one conditional (one unit of work) and recorded (an audit record).

- ``create``: version 1, a draft;
- ``save``: a new version, the article back to draft (a live version stays live); ``expected`` (``If-Match``) that
  is not the newest version → ``Outdated`` carrying the other's version and the text sent (nothing lost);
- ``submit``: draft → in review;
- ``publish``: in review → published, by an approver who is not the author of the version (four eyes);
- ``unpublish``: live → unpublished, with an optional live replacement for old links;
- ``rollback``: a version that was live once published again as a new version (its text was approved then).
"""
from __future__ import annotations

import datetime as dt

from chalicelib.content import rules, store
from chalicelib.content.model import (
    APPROVE,
    DRAFT,
    IN_REVIEW,
    PUBLISHED,
    UNPUBLISHED,
    WRITE,
    Article,
    Audit,
    Text,
    Version,
    allowed,
    author_name,
)
from chalicelib.kernel import clock, review
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.refusals import Conflicting, Invalid, Missing, NotAllowed, Outdated

ZONE = "Asia/Shanghai"   # the date users see beside an article


def require(who: Actor, action: str) -> None:
    """403 unless ``who`` may do ``action`` (``model.PERMISSIONS``): the one check of pages and API alike."""
    if not allowed(who, action):
        message = {APPROVE: "只有资深客服（审核人）可以发布、下线或回滚文章。",
                   WRITE: "只有知识库编辑和资深客服可以修改文章。"}.get(action, "您没有权限查看这些内容。")
        raise NotAllowed(message, code="forbidden_role")


def _local_date(now: dt.datetime) -> str:
    return now.astimezone(clock.zone(ZONE)).date().isoformat()


def _audit(uow, who: Actor, action: str, head: Article, version: int, now: dt.datetime, **detail) -> None:
    """The change's audit record, numbered by the head's new revision (unique and in order: heads change only
    over the revision read)."""
    store.record(uow, Audit(slug=head.slug, at=clock.isoformat(now), actor_id=who.user_id,
                            actor_name=author_name(who), action=action, version=version, revision=head.revision,
                            detail={k: v for k, v in detail.items() if v is not None}))


def _commit(uow, slug: str) -> None:
    try:
        uow.commit()
    except store.Conflict:
        raise Conflicting("文章刚被其他人修改，请刷新后重试。", code="article_changed") from None


def _add_first(who: Actor, action: str, article: Article, version: Version, now: dt.datetime) -> None:
    """A new slug: its head, version 1 and the audit record in one unit of work (``store.Conflict``: the slug is
    taken — nothing written)."""
    uow = store.begin()
    store.add_article(uow, article)
    store.add_version(uow, version)
    _audit(uow, who, action, article, 1, now)
    uow.commit()


def load(slug: str) -> Article:
    found = store.get_article(slug)
    if found is None:
        raise Missing("找不到这篇文章。", code="not_found")
    return found


def _version(slug: str, number: int) -> Version:
    found = store.get_version(slug, number)
    if found is None:
        raise Missing(f"这篇文章没有第 {number} 版。", code="no_such_version", field="version")
    return found


def create(who: Actor, text: Text, slug: str | None, note: str, now: dt.datetime) -> Article:
    require(who, WRITE)
    slug = rules.check_slug(slug) if slug else rules.new_slug()
    at = clock.isoformat(now)
    version = Version(slug=slug, number=1, text=text, author_id=who.user_id, author_name=author_name(who), at=at,
                      note=note or "新建", kind="create", updated=_local_date(now))
    article = Article(slug=slug, state=DRAFT, current=1, last_author_id=who.user_id, created_at=at, updated_at=at,
                      updated_by=author_name(who), title=text.title, category=text.category)
    try:
        _add_first(who, "create", article, version, now)
    except store.Conflict:
        raise Conflicting(f"文章地址“{slug}”已被使用，请换一个。", code="slug_taken", field="slug") from None
    return article


def save(who: Actor, slug: str, text: Text, note: str, expected: int | None, now: dt.datetime) -> Article:
    require(who, WRITE)
    article = load(slug)
    if expected is not None and expected != article.current:
        raise outdated(article, text, expected)
    number = article.current + 1
    at = clock.isoformat(now)
    version = Version(slug=slug, number=number, text=text, author_id=who.user_id, author_name=author_name(who),
                      at=at, note=note, kind="edit", updated=_local_date(now))
    changed = article.next(state=DRAFT, current=number, last_author_id=who.user_id, updated_at=at,
                           updated_by=author_name(who), title=text.title, category=text.category)
    uow = store.begin()
    store.add_version(uow, version)
    store.save_article(uow, changed, article.revision)
    _audit(uow, who, "save", changed, number, now, based_on=article.current)
    try:
        uow.commit()
    except store.Conflict:   # saved by someone else between our read and our write
        raise outdated(load(slug), text, expected if expected is not None else article.current) from None
    return changed


def outdated(article: Article, text: Text, expected: int) -> Outdated:
    """412: the other's newest version and the text that was sent, both shown (nothing lost)."""
    from chalicelib.content import views
    theirs = _version(article.slug, article.current)
    return Outdated(f"这篇文章已被{theirs.author_name}保存为第 {theirs.number} 版（您编辑的是第 {expected} 版）。"
                    "您的内容没有丢失：请对比两边的修改，合并后再保存。", code="version_conflict",
                    details=views.conflict_details(theirs, text))


def submit(who: Actor, slug: str, note: str, now: dt.datetime) -> Article:
    require(who, WRITE)
    article = load(slug)
    if article.state != DRAFT:
        raise Conflicting("只有草稿可以提交审核。", code="not_a_draft")
    changed = article.next(state=IN_REVIEW, updated_at=clock.isoformat(now), updated_by=author_name(who))
    uow = store.begin()
    store.save_article(uow, changed, article.revision)
    _audit(uow, who, "submit", changed, article.current, now, note=note or None)
    _commit(uow, slug)
    return changed


def publish(who: Actor, slug: str, now: dt.datetime) -> Article:
    require(who, APPROVE)
    article = load(slug)
    review.require_publishable(who, article.state, article.last_author_id)   # in review, not by its author
    version = _version(slug, article.current)
    changed = article.next(state=PUBLISHED, published_version=version.number, published=version, replacement=None,
                           ever_published=tuple(sorted({*article.ever_published, version.number})),
                           updated_at=clock.isoformat(now), updated_by=author_name(who))
    uow = store.begin()
    store.save_article(uow, changed, article.revision)
    _audit(uow, who, "publish", changed, version.number, now, author=version.author_id)
    _commit(uow, slug)
    return changed


def unpublish(who: Actor, slug: str, replacement: str | None, note: str, now: dt.datetime) -> Article:
    require(who, APPROVE)
    article = load(slug)
    if not article.is_live:
        raise Conflicting("这篇文章现在没有发布，无需下线。", code="not_published")
    if replacement:
        target = store.get_article(rules.check_slug(replacement)) if replacement != slug else None
        if target is None or not target.is_live:
            raise Invalid(f"替代文章“{replacement}”不存在或未发布。", code="bad_replacement", field="replacement")
    changed = article.next(state=UNPUBLISHED, published_version=None, published=None, replacement=replacement or None,
                           updated_at=clock.isoformat(now), updated_by=author_name(who))
    uow = store.begin()
    store.save_article(uow, changed, article.revision)
    _audit(uow, who, "unpublish", changed, article.published_version or article.current, now,
           replacement=replacement or None, note=note or None)
    _commit(uow, slug)
    return changed


def rollback(who: Actor, slug: str, number: int, note: str, now: dt.datetime) -> Article:
    require(who, APPROVE)
    article = load(slug)
    old = _version(slug, number)
    if number not in article.ever_published:
        raise Conflicting(f"第 {number} 版从未发布过，不能直接回滚到它；请保存为草稿并走审核。",
                          code="never_published", field="version")
    new_number = article.current + 1
    at = clock.isoformat(now)
    version = Version(slug=slug, number=new_number, text=old.text, author_id=old.author_id,
                      author_name=old.author_name, at=at, note=note or f"回滚到第 {number} 版", kind="rollback",
                      updated=_local_date(now), based_on=number)
    changed = article.next(state=PUBLISHED, current=new_number, last_author_id=old.author_id,
                           published_version=new_number, published=version, replacement=None,
                           ever_published=tuple(sorted({*article.ever_published, new_number})),
                           updated_at=at, updated_by=author_name(who), title=old.text.title,
                           category=old.text.category)
    uow = store.begin()
    store.add_version(uow, version)
    store.save_article(uow, changed, article.revision)
    _audit(uow, who, "rollback", changed, new_number, now, based_on=number)
    _commit(uow, slug)
    return changed


def import_published(slug: str, text: Text, updated: str, now: dt.datetime) -> bool:
    """The seed article as published version 1, once: False when the slug exists already (nothing changes)."""
    if store.get_article(slug) is not None:
        return False
    at = clock.isoformat(now)
    who = Actor(user_id="import", username="import")
    version = Version(slug=slug, number=1, text=text, author_id="import", author_name="import", at=at,
                      note="从 kb/ 导入", kind="import", updated=updated)
    article = Article(slug=slug, state=PUBLISHED, current=1, last_author_id="import", published_version=1,
                      published=version, ever_published=(1,), created_at=at, updated_at=at, updated_by="import",
                      title=text.title, category=text.category)
    try:
        _add_first(who, "import", article, version, now)
    except store.Conflict:   # imported by another run at the same moment
        return False
    return True
