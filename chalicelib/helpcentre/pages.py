"""The help-centre pages: each function gathers what one page shows and renders it.

Bad input never becomes a 500 or a JSON error here: an empty or over-long
question, an unknown article or a malformed number each get a friendly page with
the right status (400/404), still showing the hotline.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from markupsafe import Markup

from chalicelib.adapters import events
from chalicelib.edge import errors
from chalicelib.edge.render import render
from chalicelib.helpcentre.schemas import ArticlePageQuery, ContactPageQuery, HelpSearchQuery
from chalicelib.kernel.logs import user_hash
from chalicelib.search import contacts

MAX_QUERY_CHARS = 200
RESULTS_PER_PAGE = 20
# What people come for most (support's top contact reasons), shown on /help.
TOP_ARTICLES = ("repayment-delay", "repayment-failed", "find-hotline", "account-compromised",
                "fake-hotline-scams", "fees", "avoid-late-fees", "credit-card-repayment")
# Example questions under the search box, written the way users type them.
EXAMPLE_QUERIES = ("还款了怎么还没到账", "客服电话多少", "还款失拜", "账户被盗了")


@dataclass(frozen=True)
class Page:
    html: str
    status: int = 200
    personal: bool = False   # the header names a signed-in reader: never stored by any cache
    location: str | None = None   # a moved article (301): where it is now

    @property
    def headers(self) -> dict[str, str]:
        if self.location:
            return {"Location": self.location, "Cache-Control": "public, max-age=300"}
        if self.personal:
            return {"Cache-Control": "private, no-store", "Vary": "Cookie"}
        return {"Cache-Control": "no-cache", "Vary": "Cookie"}


# The assistant page (a chat over the knowledge base) does not exist yet. When it does, set its path here:
# every article's 「还是没解决？」 offers it first, before a new 工单 with the article as context.
ASSISTANT_PATH: str | None = None


def _kb_down_is_a_page(page_function):
    """If the knowledge base cannot be opened, still answer with a page and the hotline (503)."""
    @functools.wraps(page_function)
    def wrapper(*args, **kwargs) -> Page:
        try:
            return page_function(*args, **kwargs)
        except errors.ServiceUnavailable:
            viewer = kwargs.get("viewer")
            return Page(render("help/unavailable.html", query="", **_common(viewer)), status=503,
                        personal=viewer is not None)
    return wrapper


def _search():
    # Imported on first use: the search service opens the index lazily, and the
    # contact pages must keep working even if the index is missing.
    from chalicelib.search import service
    return service


def _common(viewer=None, here: str = "") -> dict:
    """What every help page shows: the lines, and the header's reader (``viewer``: the help session or None)."""
    book = contacts.directory()
    return {"hotline": book.hotline("customer_service") or book.hotlines[0],
            "security_line": contacts.security_hotline(), "ws": viewer, "here": here}


def _reader(viewer) -> str | None:
    """The signed-in reader as the opaque hash the reports use (a deflection, #15); None: anonymous."""
    return user_hash(viewer.actor.user_id) if viewer is not None else None


def _page(html: str, viewer, status: int = 200) -> Page:
    return Page(html, status=status, personal=viewer is not None)


def _category_names() -> dict[str, str]:
    return {c.id: c.name for c in _search().categories().categories}


def _category_articles(category: str) -> list[dict]:
    """Every article of one category, in source order (for browsing a category without a question)."""
    kb = _search().kb_index()
    docs = (kb.stored(docnum) for docnum in sorted(kb.category_docs(category)))
    return [{"slug": doc["slug"], "title": doc["title"]} for doc in docs]


@_kb_down_is_a_page
def home(viewer=None) -> Page:
    service = _search()
    top = []
    for slug in TOP_ARTICLES:
        found = service.get_article(slug)
        if found:
            top.append({"slug": slug, "title": found.title})
    return _page(render("help/home.html", categories=service.categories().categories, top_articles=top,
                        examples=EXAMPLE_QUERIES, query="", **_common(viewer, "/help")), viewer)


@_kb_down_is_a_page
def search(query: HelpSearchQuery, viewer=None) -> Page:
    reader = _reader(viewer)
    text = query.q.strip()
    names = _category_names()
    category = query.category if query.category in names else None
    problem = None
    if not text and category:  # a category link from /help: browse it
        return _page(render("help/category.html", category=category, category_name=names[category],
                            articles=_category_articles(category), query="",
                            **_common(viewer, f"/help/search?category={category}")), viewer)
    if not text:
        problem = "请输入你想问的问题，例如“还款了怎么还没到账”。"
    elif len(text) > MAX_QUERY_CHARS:
        problem = f"问题太长了，请精简到 {MAX_QUERY_CHARS} 个字以内再搜索。"
    if problem is None:
        try:
            with events.as_user(reader):   # a signed-in reader's search (deflection, #15); None: anonymous
                found = _search().search(text, category=category, limit=RESULTS_PER_PAGE)
        except errors.ApiError as exc:  # the service's own input rules (e.g. nothing searchable left)
            problem = exc.message
    if problem is not None:
        return _page(render("help/search.html", query=text[:MAX_QUERY_CHARS], problem=problem, results=[], total=0,
                            suggestion=None, category=category, category_names=names, **_common(viewer)), viewer,
                     status=400)
    results = [{**hit.model_dump(exclude_unset=True), "snippet": Markup(hit.snippet),
                "category_name": names.get(hit.category, "")} for hit in found.results]
    here = "/help/search?" + urlencode({"q": text, **({"category": category} if category else {})})
    return _page(render("help/search.html", query=text, problem=None, results=results, total=found.total,
                        suggestion=found.suggestion, category=category, category_names=names,
                        **_common(viewer, here)), viewer)


_TAG = re.compile(r"(<[^>]*>)")
_TAG_NAME = re.compile(r"<\s*(/?)\s*([a-zA-Z][a-zA-Z0-9]*)")


def tel_links(body_html: str, numbers: list[str]) -> str:
    """Make every official number in an article's text a ``tel:`` link (one tap to call).

    Only text between tags is touched, never attributes, and never text already inside
    a link; the numbers themselves are digits and dashes, so nothing needs escaping.
    """
    if not numbers:
        return body_html
    pattern = re.compile(r"(?<![\d-])(" + "|".join(re.escape(n) for n in sorted(numbers, key=len, reverse=True))
                         + r")(?![\d-])")
    out, in_link = [], False
    for part in _TAG.split(body_html):
        if part.startswith("<"):
            tag = _TAG_NAME.match(part)
            name = (tag.group(1) + tag.group(2).lower()) if tag else ""
            in_link = True if name == "a" else False if name == "/a" else in_link
            out.append(part)
        elif in_link:
            out.append(part)
        else:
            out.append(pattern.sub(lambda m: f'<a href="tel:{contacts.digits(m.group(0))}">{m.group(0)}</a>', part))
    return "".join(out)


@_kb_down_is_a_page
def article(slug: str, query: ArticlePageQuery | None = None, viewer=None) -> Page:
    reader = _reader(viewer)
    found = _search().get_article(slug)
    if found is None:
        return _taken_down(slug, viewer)
    if query is not None and query.q:  # opened from a search's results (?q=…): a click signal
        _search().record_signal(query.q, slug, "click")
    _search().record_view(slug, user=reader)
    book = contacts.directory()
    numbers = [line.number for line in book.hotlines] + [line.number for line in book.regulators]
    body = {**found.model_dump(), "html": Markup(tel_links(found.html, numbers))}
    here = f"/help/articles/{slug}"
    return _page(render("help/article.html", article=body, category_name=_category_names().get(found.category, ""),
                        query="", assistant_path=ASSISTANT_PATH, **_common(viewer, here)), viewer)


def contact(query: ContactPageQuery, viewer=None) -> Page:
    check, problem, status = None, None, 200
    if query.number is not None and query.number.strip():
        try:
            check = contacts.verify_number(query.number)
        except errors.ApiError as exc:
            problem, status = exc.message, 400
    return _page(render("help/contact.html", book=contacts.directory(), check=check, problem=problem,
                        number=(query.number or "")[:contacts.MAX_NUMBER_CHARS], query="",
                        **_common(viewer, "/help/contact")), viewer, status=status)


def _taken_down(slug: str, viewer=None) -> Page:
    """Not in the index: an article taken down goes to its replacement (301) or says "已下线" (410); else 404.
    Drafts and reviews are never retired articles: to users they do not exist."""
    from chalicelib.content import service as content
    retired = content.retired(slug)
    if retired is None:
        return not_found(viewer)
    if retired.replacement:
        return Page("", status=301, location=f"/help/articles/{retired.replacement}")
    return _page(render("help/retired.html", query="", **_common(viewer)), viewer, status=410)


def not_found(viewer=None) -> Page:
    return _page(render("help/not_found.html", query="", **_common(viewer)), viewer, status=404)
