"""What an article must be before anything is stored: each rule refuses with a Chinese message naming the field.

- ``category`` one of the help centre's categories; ``title``, ``tags`` and ``questions`` within their lengths;
- ``body`` at most ``MAX_BODY_BYTES`` (UTF-8), no control characters, no raw HTML, links and images only to
  ``http(s)``/``mailto``/``tel`` or our own paths (never ``javascript:``/``data:``);
- every phone number in the text is an official contact (``kb/contacts.yaml`` through ``search.contacts``: our
  hotlines and the regulators' lines) or a public emergency line (``PUBLIC_LINES``); anything else is refused,
  naming the number — a wrong hotline in official guidance is a fraud risk.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit

from chalicelib.content import render
from chalicelib.content.model import Text
from chalicelib.kernel.refusals import Invalid

CATEGORIES = ("contact", "repayment", "security", "escalation", "about")   # = search.schemas.CategoryId
MAX_BODY_BYTES = 100 * 1024
MAX_TITLE, MAX_TAGS, MAX_TAG, MAX_QUESTIONS, MAX_QUESTION, MAX_NOTE = 120, 20, 30, 50, 100, 500
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")   # as the index build requires (search/build/articles.py)
PUBLIC_LINES = frozenset({"110", "119", "120", "122", "96110"})   # police, fire, ambulance, traffic, anti-fraud
LINK_SCHEMES = frozenset({"http", "https", "mailto", "tel"})

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Phone-like runs: landlines with an area code, 400/800 lines, mobiles, 95xxx/96xxx service lines, 10xxx-12xxx
# public lines; optional +86. Amounts (a number followed by 元, %, 万 …) are not numbers to call.
_PHONE = re.compile(r"(?<![0-9A-Za-z.\-+])(?:\+?86[-\s]?)?(?:0\d{2,3}[-\s]?\d{3,4}[-\s]?\d{3,4}"
                    r"|[48]00[-\s]?\d{3}[-\s]?\d{4}|1[3-9]\d[-\s]?\d{4}[-\s]?\d{4}|9[56]\d{3,4}|1[0-2]\d{3})"
                    r"(?![0-9A-Za-z.\-])")
_NOT_A_PHONE_AFTER = tuple("元%万块笔天个月年次位号日")


def refuse(message: str, field: str, code: str = "invalid_article") -> Invalid:
    return Invalid(message, code=code, field=field)


def new_slug() -> str:
    return f"kb-{secrets.token_hex(4)}"


def check_slug(slug: str) -> str:
    if not SLUG.match(slug or ""):
        raise refuse("文章地址（slug）只能用小写字母、数字和短横线，以字母或数字开头，最多 80 个字符。", "slug",
                     "invalid_slug")
    return slug


def check_note(note: str | None) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise refuse(f"修改说明不能超过 {MAX_NOTE} 个字。", "note")
    return note


def clean(title: str, category: str, body: str, tags=(), questions=()) -> Text:
    """The checked, trimmed text of a version; raises ``Invalid`` (nothing is stored) on the first broken rule."""
    title = (title or "").strip()
    if not title or len(title) > MAX_TITLE:
        raise refuse(f"标题不能为空，最多 {MAX_TITLE} 个字。", "title")
    if category not in CATEGORIES:
        raise refuse(f"没有“{category}”这个分类，可选：{'、'.join(CATEGORIES)}。", "category", "unknown_category")
    tags_t = _short_list(tags, "tags", "标签", MAX_TAGS, MAX_TAG)
    questions_t = _short_list(questions, "questions", "用户问题", MAX_QUESTIONS, MAX_QUESTION)
    body = (body or "").replace("\r\n", "\n").strip()
    if len(body.encode("utf-8")) > MAX_BODY_BYTES:
        raise refuse(f"正文超过 {MAX_BODY_BYTES // 1024} KB，请拆成几篇文章。", "body", "body_too_large")
    if not body:
        raise refuse("正文不能为空。", "body")
    for name, value in (("title", title), ("body", body), *(("tags", t) for t in tags_t),
                        *(("questions", q) for q in questions_t)):
        if _CONTROL.search(value):
            raise refuse("内容里有无法显示的控制字符，请删除后再保存。", name, "bad_markdown")
    check_markdown(body)
    for name, value in (("title", title), ("body", body), *(("questions", q) for q in questions_t)):
        check_numbers(value, name)
    return Text(title=title, category=category, body=body, tags=tags_t, questions=questions_t)


def _short_list(values, field: str, name: str, most: int, longest: int) -> tuple[str, ...]:
    items = tuple(str(v).strip() for v in (values or ()) if str(v).strip())
    if len(items) > most:
        raise refuse(f"{name}最多 {most} 个。", field)
    for item in items:
        if len(item) > longest or "\n" in item:
            raise refuse(f"每个{name}最多 {longest} 个字，不能换行：“{item[:longest]}”。", field)
    return items


# ---------------------------------------------------------------- Markdown
def _walk(nodes: list[dict]) -> Iterator[dict]:
    for node in nodes:
        yield node
        yield from _walk(node.get("children") or [])


def check_markdown(body: str) -> None:
    """No raw HTML; links and images only to safe places (the sanitiser would drop the rest silently)."""
    for node in _walk(render.tokens(body)):
        kind = node.get("type")
        if kind in ("block_html", "inline_html"):
            raw = str(node.get("raw", "")).strip()[:40]
            raise refuse(f"正文里不能使用 HTML 标签（{raw}），请改用 Markdown 格式。", "body", "raw_html")
        if kind in ("link", "image"):
            url = str((node.get("attrs") or {}).get("url", "")).strip()
            check_link(url, image=kind == "image")


def check_link(url: str, *, image: bool = False) -> None:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if image and scheme not in ("", "https"):
        raise refuse(f"图片只能来自本站或 https 地址：{url[:60]}", "body", "bad_link")
    if scheme and scheme not in LINK_SCHEMES:
        raise refuse(f"链接地址不安全，不能使用 {scheme}: 开头的链接。", "body", "bad_link")
    if scheme in ("http", "https") and not parts.netloc:
        raise refuse(f"链接地址不完整：{url[:60]}", "body", "bad_link")
    if scheme == "tel":
        check_numbers(parts.path, "body")


ARTICLE_LINK = re.compile(r"^/help/articles/([^/?#]+)/?(?:[?#].*)?$")


def linked_articles(body: str) -> list[str]:
    """The slugs of the help-centre articles ``body`` links to (``/help/articles/<slug>``), in order, once each."""
    found: list[str] = []
    for node in _walk(render.tokens(body)):
        if node.get("type") == "link":
            match = ARTICLE_LINK.match(str((node.get("attrs") or {}).get("url", "")).strip())
            if match and match.group(1) not in found:
                found.append(match.group(1))
    return found


def check_article_links(body: str, is_live) -> None:
    """Every linked article exists and is published (``is_live(slug)``): a user never lands on a dead link."""
    for slug in linked_articles(body):
        if not is_live(slug):
            raise refuse(f"链接指向的文章“{slug}”不存在或未发布，请改成已发布文章的地址。", "body", "dead_link")


# ---------------------------------------------------------------- phone numbers
def phone_numbers(text: str) -> list[str]:
    """The phone-like numbers written in ``text``, as written."""
    found = []
    for match in _PHONE.finditer(text):
        after = text[match.end():].lstrip(" ")
        if after.startswith(_NOT_A_PHONE_AFTER):
            continue
        found.append(match.group(0))
    return found


def official_digits() -> frozenset[str]:
    from chalicelib.search import contacts
    book = contacts.directory()
    return frozenset(contacts.digits(n) for n in [*(h.number for h in book.hotlines),
                                                  *(r.number for r in book.regulators)]) | PUBLIC_LINES


def check_numbers(text: str, field: str) -> None:
    numbers = phone_numbers(text)
    if not numbers:
        return
    official = official_digits()
    for number in numbers:
        digits = re.sub(r"\D", "", number)
        if digits.startswith("86") and number.lstrip().startswith(("+86", "86")):
            digits = digits[2:]
        if digits not in official:
            raise refuse(f"“{number.strip()}”不是本钱包公布的官方联系电话（也不是监管或报警电话），"
                         "不能写进文章。官方号码以「联系客服」页为准。", field, "unofficial_number")
