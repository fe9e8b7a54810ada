"""Markdown → the HTML users see, through an allowlist sanitiser (``nh3``, the Ammonia HTML sanitiser).

mistune renders the Markdown with raw HTML escaped (as the index build does, ``search/build/articles.py``);
then ``nh3`` keeps only the tags and attributes of ``TAGS``/``ATTRIBUTES`` and the URL schemes of
``URL_SCHEMES`` (no ``javascript:``, no ``data:``). Links that leave the site are marked: ``class="external"``,
``rel="noopener noreferrer nofollow"`` and ``target="_blank"``.
"""
from __future__ import annotations

import functools
from urllib.parse import urlsplit

TAGS = frozenset({"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "code", "pre",
                  "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td"})
ATTRIBUTES = {"a": {"href", "title", "class", "rel", "target"}, "ol": {"start"},
              "th": {"style"}, "td": {"style"}}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
EXTERNAL = ' class="external" rel="noopener noreferrer nofollow" target="_blank"'


def is_external(url: str) -> bool:
    """An absolute http(s) link (anything of ours is a path such as ``/help/articles/fees``)."""
    return urlsplit(url.strip()).scheme.lower() in ("http", "https")


@functools.cache
def _markdown():
    import mistune

    class Renderer(mistune.HTMLRenderer):
        def link(self, text: str, url: str, title: str | None = None) -> str:
            html = super().link(text, url, title)
            return html.replace("<a ", f"<a{EXTERNAL} ", 1) if is_external(url) else html

    return mistune.create_markdown(renderer=Renderer(escape=True), plugins=["table", "strikethrough"])


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "a" and attribute == "class":
        return value if value == "external" else None
    if tag == "a" and attribute == "rel":
        return value if value == "noopener noreferrer nofollow" else None
    if tag == "a" and attribute == "target":
        return value if value == "_blank" else None
    if attribute == "style":   # mistune's table alignment only
        return value if value in ("text-align:left", "text-align:center", "text-align:right") else None
    return value


def to_html(markdown_text: str) -> str:
    """Safe HTML for ``markdown_text``: what the help centre shows."""
    import nh3

    raw = _markdown()(markdown_text)
    return nh3.clean(str(raw), tags=set(TAGS), attributes={k: set(v) for k, v in ATTRIBUTES.items()},
                     url_schemes=set(URL_SCHEMES), link_rel=None, attribute_filter=_attribute_filter,
                     strip_comments=True)


def tokens(markdown_text: str) -> list[dict]:
    """mistune's syntax tree of ``markdown_text`` (the checks in ``rules`` walk it)."""
    found = _ast()(markdown_text)
    return found if isinstance(found, list) else []


@functools.cache
def _ast():
    import mistune
    return mistune.create_markdown(renderer=None, plugins=["table", "strikethrough"])
