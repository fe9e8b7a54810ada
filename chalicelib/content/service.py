"""The content facade: what routes, pages (``/agent/kb``), the help centre and the index build call.

Every function takes who acts (``Actor``) and a ``Context`` where it needs the time; refusals are those of
``chalicelib/kernel/refusals.py`` (a 412 is ``Outdated``). Names are stable (other areas build on them):

- editors: ``list_articles``, ``get_article``, ``create_article``, ``save_draft``, ``submit``, ``versions``,
  ``version``, ``diff``, ``preview``; approvers: ``publish``, ``unpublish``, ``rollback``;
- roles: ``can(who, action)`` / ``require(who, action)`` with ``READ_PUBLISHED``, ``READ_DRAFTS``, ``WRITE``,
  ``APPROVE`` (the same check for pages and API);
- the search build: ``published_sources()``, ``article_html(markdown)``; the help centre: ``retired(slug)``;
  reports: ``publish_history(slug)``;
- the seed: ``import_seed(source, ctx)``, ``export_published(out)``;
- the index builder port: ``use_index_builder(fn)`` (tests), else
  ``search.service.queue_build(reason, requested_by=<the approver>)``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from chalicelib.content import render, rules, schemas, seedfiles, store, views, workflow
from chalicelib.content.model import APPROVE, READ_DRAFTS, READ_PUBLISHED, WRITE, Article, Text, allowed
from chalicelib.kernel import review
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import logger
from chalicelib.kernel.refusals import Missing

__all__ = ["READ_PUBLISHED", "READ_DRAFTS", "WRITE", "APPROVE", "can", "require"]

current = Context.current
require = workflow.require


def can(who: Actor, action: str) -> bool:
    return allowed(who, action)


# ---------------------------------------------------------------- the index builder port
IndexBuilder = Callable[..., str]   # (reason, *, requested_by) → build id
_builder: IndexBuilder | None = None


def use_index_builder(builder: IndexBuilder | None) -> IndexBuilder | None:
    """Put ``builder`` in place of ``search.service.queue_build`` (None: the default again); returns the previous."""
    global _builder
    previous, _builder = _builder, builder
    return previous


def _queue_build(reason: str, requested_by: str) -> str | None:
    """Ask for a rebuild of the live index (``requested_by``: the approver's user name, shown to editors with the
    build); the build id, or None when none could be queued (the change stands)."""
    builder = _builder
    if builder is None:
        from chalicelib.search import service as search
        builder = getattr(search, "queue_build", None)
        if builder is None:
            logger.warning("no index builder: search.service.queue_build is missing", extra={"reason": reason})
            return None
    try:
        return builder(reason, requested_by=requested_by)
    except Exception:   # the content change has committed; the next publish (or a manual build) catches up
        logger.exception("index build not queued", extra={"reason": reason})
        return None


# ---------------------------------------------------------------- reads
def _shown(who: Actor, slug: str) -> tuple[Article, schemas.ArticleView]:
    require(who, READ_PUBLISHED)
    article = workflow.load(slug)
    if can(who, READ_DRAFTS):
        shown = store.get_version(slug, article.current)
    elif article.is_live:
        shown = article.published
    else:
        shown = None
    if shown is None:
        raise Missing("找不到这篇文章。", code="not_found")
    refusal = review.publish_refusal(who, article.state, article.last_author_id)   # the rule publish() applies
    return article, views.article_view(article, shown, publish_refusal=refusal.message if refusal else None)


def get_article(who: Actor, slug: str, ctx: Context) -> schemas.ArticleView:
    """The newest version for editors and approvers; the published one for a frontline agent (never a draft)."""
    return _shown(who, slug)[1]


def list_articles(who: Actor, ctx: Context) -> schemas.ArticleList:
    """Every article for editors and approvers; the live ones (their published title) for a frontline agent."""
    require(who, READ_PUBLISHED)
    if can(who, READ_DRAFTS):
        return schemas.ArticleList(articles=[views.summary(a) for a in store.articles()])
    return schemas.ArticleList(articles=[
        views.summary(a).model_copy(update={"title": a.published.text.title, "category": a.published.text.category,
                                            "state": "published", "state_name": "已发布",
                                            "version": a.published.number})
        for a in store.published_articles() if a.published is not None])


def versions(who: Actor, slug: str, ctx: Context) -> schemas.VersionList:
    require(who, READ_DRAFTS)
    workflow.load(slug)
    return schemas.VersionList(slug=slug, versions=[views.version_view(v) for v in store.versions(slug)])


def version(who: Actor, slug: str, number: int, ctx: Context) -> schemas.VersionDetail:
    require(who, READ_DRAFTS)
    found = store.get_version(slug, number)
    if found is None:
        raise Missing(f"这篇文章没有第 {number} 版。", code="no_such_version")
    return views.version_detail(found)


def diff(who: Actor, slug: str, from_version: int, to_version: int, ctx: Context) -> schemas.DiffView:
    old, new = version(who, slug, from_version, ctx), version(who, slug, to_version, ctx)
    text = {n: Text(title=v.text.title, category=v.text.category, body=v.text.body, tags=tuple(v.text.tags),
                    questions=tuple(v.text.questions)) for n, v in ((0, old), (1, new))}
    out = views.unified(text[0], text[1], f"第 {from_version} 版", f"第 {to_version} 版")
    return schemas.DiffView(slug=slug, from_version=from_version, to_version=to_version, diff=out, changed=bool(out))


def article_html(markdown_text: str) -> str:
    """The sanitised HTML of an article body (mistune + nh3 allowlist, external links marked): for the index build
    and the help centre, so users see exactly what the editor's preview showed."""
    return render.to_html(markdown_text)


def preview(who: Actor, markdown_text: str) -> str:
    """The help centre's HTML for ``markdown_text`` (sanitised), for the editor's live preview."""
    require(who, WRITE)
    return render.to_html(markdown_text)


# ---------------------------------------------------------------- changes
def _text(body: schemas.NewArticle | schemas.ArticleChange) -> Text:
    text = rules.clean(body.title, body.category, body.body, body.tags, body.questions)
    rules.check_article_links(text.body, _is_live)
    return text


def _is_live(slug: str) -> bool:
    found = store.get_article(slug) if rules.SLUG.match(slug) else None
    return found is not None and found.is_live


def create_article(who: Actor, body: schemas.NewArticle, ctx: Context) -> schemas.ArticleView:
    """A new draft (version 1); invalid input is refused before anything is stored."""
    workflow.require(who, WRITE)
    article = workflow.create(who, _text(body), body.slug, rules.check_note(body.note), ctx.now)
    return _shown(who, article.slug)[1]


def save_draft(who: Actor, slug: str, body: schemas.ArticleChange, if_match: int | None,
               ctx: Context) -> schemas.ArticleView:
    """A new version as the draft; ``if_match`` (the version edited) not the newest → ``Outdated`` (412)."""
    workflow.require(who, WRITE)
    workflow.save(who, slug, _text(body), rules.check_note(body.note), if_match, ctx.now)
    return _shown(who, slug)[1]


def submit(who: Actor, slug: str, note: str | None, ctx: Context) -> schemas.ArticleView:
    workflow.submit(who, slug, rules.check_note(note), ctx.now)
    return _shown(who, slug)[1]


def _published(who: Actor, article: Article, reason: str) -> schemas.PublishResult:
    return schemas.PublishResult(article=_shown(who, article.slug)[1], build_id=_queue_build(reason, who.username))


def publish(who: Actor, slug: str, ctx: Context) -> schemas.PublishResult:
    """In review → published (four eyes), then a rebuild of the live index is queued (its id returned)."""
    article = workflow.publish(who, slug, ctx.now)
    return _published(who, article, f"publish {slug} v{article.published_version}")


def unpublish(who: Actor, slug: str, body: schemas.Unpublish | None, ctx: Context) -> schemas.PublishResult:
    """Live → unpublished; ``body.replacement`` (a live slug) is where old links go, else they show "已下线"."""
    body = body or schemas.Unpublish()
    article = workflow.unpublish(who, slug, body.replacement, rules.check_note(body.note), ctx.now)
    return _published(who, article, f"unpublish {slug}")


def rollback(who: Actor, slug: str, body: schemas.Rollback, ctx: Context) -> schemas.PublishResult:
    article = workflow.rollback(who, slug, body.version, rules.check_note(body.note), ctx.now)
    return _published(who, article, f"rollback {slug} to v{body.version}")


# ---------------------------------------------------------------- other areas
def published_sources() -> list[tuple[str, str]]:
    """(slug, text) of every published article, the text in the format of ``kb/*.md`` (the index build reads it)."""
    return [(a.slug, seedfiles.source_text(a.slug, a.published))
            for a in store.published_articles() if a.published is not None]


@dataclass(frozen=True)
class Retired:
    slug: str
    replacement: str | None     # where old links go; None: show "已下线"


def retired(slug: str) -> Retired | None:
    """An article taken down (the help centre redirects or shows "已下线"); None: no such article, or a live one.

    A draft that was never published is not retired: to users it does not exist (404)."""
    found = store.get_article(slug)
    if found is None or found.state != "unpublished":
        return None
    return Retired(slug=slug, replacement=found.replacement)


def publish_history(slug: str) -> list[tuple[str, str, int]]:
    """(ISO instant, action, version) of each time the article went live or was taken down, oldest first — for a
    report that marks publish dates on the article's chart. No staff names in it."""
    return [(a.at, a.action, a.version) for a in store.audit_of(slug)
            if a.action in ("import", "publish", "rollback", "unpublish")]


def import_seed(source: Path, ctx: Context) -> tuple[list[str], list[str]]:
    """Load ``source/*.md`` as published version 1 of each article (idempotent): (imported, already there)."""
    return seedfiles.import_dir(source, ctx.now)


def export_published(out: Path) -> list[Path]:
    return seedfiles.export_dir(out)
