"""Articles and versions as the API's response models (``schemas.py``), and the difference between two versions."""
from __future__ import annotations

from chalicelib.content import render, schemas
from chalicelib.content.model import STATE_NAMES, Article, Text, Version
from chalicelib.kernel import review


def text_view(text: Text) -> schemas.ArticleText:
    return schemas.ArticleText(title=text.title, category=text.category, body=text.body, tags=list(text.tags),
                               questions=list(text.questions))


def version_view(version: Version) -> schemas.VersionView:
    return schemas.VersionView(version=version.number, author=version.author_name, at=version.at, note=version.note,
                               kind=version.kind, based_on=version.based_on)  # type: ignore[arg-type]


def version_detail(version: Version) -> schemas.VersionDetail:
    return schemas.VersionDetail(**version_view(version).model_dump(), text=text_view(version.text))


def article_view(article: Article, shown: Version, *, publish_refusal: str | None) -> schemas.ArticleView:
    """``publish_refusal``: why the caller may not publish it now (``kernel/review.py``), None: they may."""
    return schemas.ArticleView(
        slug=article.slug, state=article.state, state_name=STATE_NAMES[article.state],  # type: ignore[arg-type]
        version=article.current, published_version=article.published_version, replacement=article.replacement,
        updated_at=article.updated_at, updated_by=article.updated_by, text=text_view(shown.text),
        last=version_view(shown), html=render.to_html(shown.text.body),
        can_publish=publish_refusal is None, publish_refusal=publish_refusal)


def summary(article: Article) -> schemas.ArticleSummary:
    return schemas.ArticleSummary(slug=article.slug, title=article.title, category=article.category,
                                  state=article.state, state_name=STATE_NAMES[article.state],  # type: ignore[arg-type]
                                  version=article.current, published_version=article.published_version,
                                  updated_at=article.updated_at, updated_by=article.updated_by)


def lines(text: Text) -> list[str]:
    """A version as lines to compare: the fields first, then the body."""
    return [f"标题：{text.title}", f"分类：{text.category}", f"标签：{'、'.join(text.tags)}",
            *(f"问题：{q}" for q in text.questions), "", *text.body.splitlines()]


def unified(old: Text, new: Text, old_name: str, new_name: str) -> str:
    return review.unified(lines(old), lines(new), old_name, new_name)


def conflict_details(theirs: Version, yours: Text) -> dict:
    """The body of a 412: the saved version (theirs), the text sent (yours) and how they differ."""
    return schemas.Conflict412(current=version_detail(theirs), yours=text_view(yours),
                               diff=unified(theirs.text, yours, f"第 {theirs.number} 版（已保存）", "您的修改")
                               ).model_dump(mode="json")
