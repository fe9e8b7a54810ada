"""Knowledge-base articles: Markdown files with YAML front matter, read and rendered for the build."""
from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from pathlib import Path

from chalicelib.search.index import CATEGORIES


class ArticleError(ValueError):
    """An article file that cannot be indexed (the build stops and names it)."""


@dataclass
class Article:
    slug: str
    title: str
    category: str
    questions: list[str]
    tags: list[str]
    updated: str
    body: str  # Markdown

    @property
    def head_texts(self) -> list[str]:
        return [self.title, *self.questions, *self.tags]


# --------------------------------------------------------------- reading articles
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)(.*)\Z", re.S)
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


def parse_article(text: str, origin: str = "<text>") -> Article:
    import yaml

    match = _FRONT_MATTER.match(text.lstrip("\ufeff"))
    if not match:
        raise ArticleError(f"{origin}: no YAML front matter (--- … ---)")
    try:
        meta = yaml.load(match.group(1), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except yaml.YAMLError as exc:
        raise ArticleError(f"{origin}: front matter is not valid YAML: {exc}") from None
    if not isinstance(meta, dict):
        raise ArticleError(f"{origin}: front matter must be a mapping")
    slug, title, category = (str(meta.get(k) or "").strip() for k in ("slug", "title", "category"))
    if not _SLUG.match(slug):
        raise ArticleError(f"{origin}: slug must be lower-case letters, digits and dashes, got {slug!r}")
    if not title:
        raise ArticleError(f"{origin}: title is required")
    if category not in CATEGORIES:
        raise ArticleError(f"{origin}: category must be one of {sorted(CATEGORIES)}, got {category!r}")

    def str_list(key):
        value = meta.get(key) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise ArticleError(f"{origin}: {key} must be a list")
        return [str(v).strip() for v in value if str(v).strip()]

    return Article(slug=slug, title=title, category=category, questions=str_list("questions"),
                   tags=str_list("tags"), updated=str(meta.get("updated") or ""), body=match.group(2).strip())


def read_articles(source: Path) -> list[Article]:
    articles: list[Article] = []
    seen: dict[str, Path] = {}
    for path in sorted(source.glob("*.md")):
        article = parse_article(path.read_text(encoding="utf-8"), origin=str(path))
        if article.slug in seen:
            raise ArticleError(f"{path}: slug {article.slug!r} already used by {seen[article.slug]}")
        seen[article.slug] = path
        articles.append(article)
    return articles


_TAGS = re.compile(r"<[^>]+>")


def render(markdown_text: str) -> tuple[str, str]:
    """Markdown → (safe HTML, plain text). Raw HTML in an article is escaped, never passed through."""

    md = _markdown()
    html = md(markdown_text)
    plain = html_lib.unescape(_TAGS.sub(" ", html))
    return html, re.sub(r"[ \t\r\f\v]+", " ", re.sub(r"\s*\n\s*", "\n", plain)).strip()


_md_instance = None


def _markdown():
    global _md_instance
    if _md_instance is None:
        import mistune
        _md_instance = mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])
    return _md_instance

