"""The seed format of ``kb/*.md`` (YAML front matter + Markdown), written and read.

``source_text`` writes an article exactly as the seed files are laid out (the index build reads it with
``search/build/articles.py:parse_article``); ``read`` parses one with that same function, so the import, the export
and the build agree on one format. ``import_dir`` loads a folder as published version 1 of each article (a slug
already present is left alone: running it twice changes nothing); ``export_dir`` writes the published set back.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

from chalicelib.content import rules, store, workflow
from chalicelib.content.model import Text, Version

_PLAIN = re.compile(r"^[^\s\-?:,\[\]{}#&*!|>'\"%@`][^:#\n\"'\[\]{},]*$")


def _scalar(value: str) -> str:
    """A YAML scalar: bare when YAML reads it back as the same string, else double-quoted."""
    import yaml

    if _PLAIN.match(value) and value == value.strip():
        try:
            if yaml.safe_load(value) == value:
                return value
        except yaml.YAMLError:
            pass
    return json.dumps(value, ensure_ascii=False)


def source_text(slug: str, version: Version) -> str:
    """The article as a ``kb/*.md`` file."""
    text = version.text
    head = [f"slug: {_scalar(slug)}", f"title: {_scalar(text.title)}", f"category: {text.category}"]
    if text.questions:
        head += ["questions:", *(f"  - {_scalar(q)}" for q in text.questions)]
    if text.tags:
        head.append(f"tags: [{', '.join(_scalar(t) for t in text.tags)}]")
    if version.updated:
        head.append(f'updated: "{version.updated}"')
    return "---\n" + "\n".join(head) + "\n---\n" + text.body + "\n"


@dataclass(frozen=True)
class Seed:
    slug: str
    text: Text
    updated: str


def read(raw: str, origin: str) -> Seed:
    """One seed file, parsed as the index build parses it and checked as an editor's save is."""
    from chalicelib.search.build.articles import ArticleError, parse_article

    try:
        parsed = parse_article(raw, origin=origin)
    except ArticleError as exc:
        raise rules.refuse(str(exc), "source", "bad_seed") from None
    text = rules.clean(parsed.title, parsed.category, parsed.body, parsed.tags, parsed.questions)
    return Seed(slug=parsed.slug, text=text, updated=parsed.updated)


def import_dir(source: Path, now: dt.datetime) -> tuple[list[str], list[str]]:
    """(imported, already there) slugs; every file is read and checked before anything is written."""
    seeds = [read(path.read_text(encoding="utf-8"), str(path)) for path in sorted(source.glob("*.md"))]
    imported: list[str] = []
    present: list[str] = []
    for seed in seeds:
        (imported if workflow.import_published(seed.slug, seed.text, seed.updated, now) else present).append(seed.slug)
    return imported, present


def export_dir(out: Path) -> list[Path]:
    """Every published article as ``<out>/<slug>.md``."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for article in store.published_articles():
        if article.published is None:
            continue
        path = out / f"{article.slug}.md"
        path.write_text(source_text(article.slug, article.published), encoding="utf-8")
        written.append(path)
    return written
