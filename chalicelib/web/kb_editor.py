"""The knowledge-base editor in the workspace (``/agent/kb``): the article list with search, the new/edit form with
a live preview rendered by the help centre's own renderer, review, publishing, unpublishing, rollback, versions
and diffs — over the content facade (``chalicelib/content/service.py``) the ``/support/kb/articles`` API calls,
so roles, four eyes and the ``If-Match`` conflict are the API's own.

A save over an older version (someone saved since the form was opened) comes back as the form (409) with the text
typed kept and the other's version shown beside it; bad input comes back as the form (400) with the reason. Every
form carries the session's CSRF token; changes answer 303.
"""
from __future__ import annotations

import json
import re
from urllib.parse import quote

from chalicelib.content import service as content
from chalicelib.edge import pages
from chalicelib.edge.pages import Reply
from chalicelib.kernel import refusals, review
from chalicelib.kernel.context import Context
from chalicelib.kernel.schema import as_body
from chalicelib.web import kb_versions, session

DONE = {"saved": "已保存为草稿。", "submitted": "已提交审核。", "published": "已发布：索引重建后几十秒内用户可搜到。",
        "unpublished": "已下线：旧链接跳转到替代文章，或显示“已下线”。", "rolled_back": "已回滚并发布所选版本。"}
TITLES = {400: "内容有误", 403: "无权操作", 404: "找不到这篇文章", 409: "文章已被他人修改", 412: "文章已被他人修改"}
BACK = ("/agent/kb", "返回知识库")
JSON_TYPE = {"Content-Type": "application/json; charset=utf-8"}
_SPLIT_TAGS = re.compile(r"[,，、\n]+")


def _categories() -> dict[str, str]:
    from chalicelib.search import service as search
    return {c.id: c.name for c in search.categories().categories}


def _numbers() -> list[str]:
    from chalicelib.search import contacts
    book = contacts.directory()
    return [line.number for line in book.hotlines] + [line.number for line in book.regulators]


def rendered(ws: session.WebSession, body: str) -> str:
    """What users will see: the content renderer (sanitised Markdown) and the help centre's tap-to-call numbers —
    the functions the article page itself uses."""
    from chalicelib.helpcentre import pages as help_pages
    return help_pages.tel_links(content.preview(ws.actor, body), _numbers())


# ---------------------------------------------------------------- the list
@pages.page("agent", titles=TITLES, back=BACK)
def index(request) -> Reply:
    ws = session.require(request, "agent")
    ctx = Context.current()
    query = request.query_params or {}
    q, state = (query.get("q") or "").strip()[:100], query.get("state") or ""
    articles = [as_body(a) for a in content.list_articles(ws.actor, ctx).articles]
    if q:
        articles = [a for a in articles if q.lower() in (a["title"] + " " + a["slug"]).lower()]
    if state:
        articles = [a for a in articles if a["state"] == state]
    articles.sort(key=lambda a: a["updated_at"], reverse=True)
    return pages.html("web/kb_list.html", title="知识库", door="agent", ws=ws, articles=articles, q=q, state=state,
                      categories=_categories(), local_time=kb_versions.local_time(ctx),
                      may_write=content.can(ws.actor, content.WRITE),
                      may_edit_lines=ws.actor.has_role("kb-editor", "senior-support"))


# ---------------------------------------------------------------- the form
def _fields(form: dict) -> dict:
    return {"title": form.get("title", "").strip(), "category": form.get("category", ""),
            "tags": [t.strip() for t in _SPLIT_TAGS.split(form.get("tags", "")) if t.strip()],
            "questions": [line.strip() for line in form.get("questions", "").splitlines() if line.strip()],
            "body": form.get("body", "").replace("\r\n", "\n"), "note": form.get("note", "").strip() or None}


def _form_page(ws: session.WebSession, *, article: dict | None, fields: dict, status: int = 200, error: str = "",
               preview: str | None = None, theirs: dict | None = None, done: str = "",
               version: int | None = None) -> Reply:
    ctx = Context.current()
    versions = []
    if article is not None and content.can(ws.actor, content.READ_DRAFTS):
        versions = [as_body(v) for v in content.versions(ws.actor, article["slug"], ctx).versions]
        versions.reverse()
    return pages.html("web/kb_article.html", status=status, title=fields["title"] or "新文章", door="agent", ws=ws,
                      article=article, fields=fields, error=error, theirs=theirs, done=DONE.get(done, ""),
                      preview=preview if preview is not None else rendered(ws, fields["body"]),
                      version=version if version is not None else (article["version"] if article else 0),
                      categories=_categories(), versions=versions, local_time=kb_versions.local_time(ctx),
                      publish_why=_publish_why(article), may_approve=content.can(ws.actor, content.APPROVE),
                      may_write=content.can(ws.actor, content.WRITE))


def _publish_why(article: dict | None) -> str | None:
    """Why the publish button is disabled (None: it is not) — the service's own refusal (``kernel/review.py``)."""
    return article["publish_refusal"] if article else None


@pages.page("agent", titles=TITLES, back=BACK)
def new_form(request) -> Reply:
    ws = session.require(request, "agent")
    content.require(ws.actor, content.WRITE)
    question = ((request.query_params or {}).get("question") or "").strip()[:200]
    fields = {"title": "", "category": "", "tags": [], "questions": [question] if question else [], "body": "",
              "note": None}
    return _form_page(ws, article=None, fields=fields)


@pages.page("agent", titles=TITLES, back=BACK)
def create(request) -> Reply:
    ws, form = pages.posted(request, "agent")
    fields = _fields(form)
    if form.get("action") == "preview":
        return _form_page(ws, article=None, fields=fields)
    from chalicelib.content import schemas
    try:
        made = content.create_article(ws.actor, schemas.NewArticle(**fields), Context.current())
    except refusals.Invalid as exc:
        return _form_page(ws, article=None, fields=fields, status=400, error=f"{exc.message} 没有保存。")
    return pages.redirect(f"/agent/kb/articles/{quote(made.slug)}?done=saved")


@pages.page("agent", titles=TITLES, back=BACK)
def edit(request, slug: str) -> Reply:
    ws = session.require(request, "agent")
    article = as_body(content.get_article(ws.actor, slug, Context.current()))
    fields = {**article["text"], "note": None}
    return _form_page(ws, article=article, fields=fields, done=(request.query_params or {}).get("done", ""))


@pages.page("agent", titles=TITLES, back=BACK)
def save(request, slug: str) -> Reply:
    ws, form = pages.posted(request, "agent")
    ctx = Context.current()
    fields = _fields(form)
    article = as_body(content.get_article(ws.actor, slug, ctx))
    sent = form.get("version", "")
    expected = int(sent) if sent.isdigit() and len(sent) < 8 else None
    if form.get("action") == "preview":
        return _form_page(ws, article=article, fields=fields, version=expected)
    from chalicelib.content import schemas
    try:
        content.save_draft(ws.actor, slug, schemas.ArticleChange(**fields), expected, ctx)
    except refusals.Outdated as exc:
        theirs = (exc.details or {}).get("current") or {}
        return _form_page(ws, article=article, fields=fields, status=409, theirs=theirs, version=article["version"],
                          error=f"{exc.message} 你的修改还在左边的表单里，右边是对方保存的版本。")
    except refusals.Invalid as exc:
        return _form_page(ws, article=article, fields=fields, status=400, version=expected,
                          error=f"{exc.message} 没有保存，你的修改还在表单里。")
    return pages.redirect(f"/agent/kb/articles/{quote(slug)}?done=saved")


@pages.page("agent", titles=TITLES, back=BACK)
def workflow(request, slug: str, action: str) -> Reply:
    """submit | publish | unpublish | rollback, each through the content facade (refusals become pages)."""
    ws, form = pages.posted(request, "agent")
    ctx = Context.current()
    from chalicelib.content import schemas
    note = form.get("note", "").strip() or None
    if action == "submit":
        content.submit(ws.actor, slug, note, ctx)
        done = "submitted"
    elif action == "publish":
        content.publish(ws.actor, slug, ctx)
        done = "published"
    elif action == "unpublish":
        content.unpublish(ws.actor, slug, schemas.Unpublish(replacement=form.get("replacement") or None, note=note),
                          ctx)
        done = "unpublished"
    else:
        content.rollback(ws.actor, slug, schemas.Rollback(version=kb_versions.rollback_version(form), note=note), ctx)
        done = "rolled_back"
    return pages.redirect(f"/agent/kb/articles/{quote(slug)}?done={done}")


# ---------------------------------------------------------------- versions compared
def _lines(text: dict) -> list[str]:
    return [f"标题：{text['title']}", f"分类：{text['category']}", f"标签：{'、'.join(text['tags'])}",
            *[f"用户问法：{q}" for q in text["questions"]], "", *text["body"].splitlines()]


@pages.page("agent", titles=TITLES, back=BACK)
def diff(request, slug: str) -> Reply:
    ws = session.require(request, "agent")
    ctx = Context.current()
    query = request.query_params or {}
    older, newer = kb_versions.compared(query)
    found = as_body(content.diff(ws.actor, slug, older, newer, ctx))
    old = as_body(content.version(ws.actor, slug, older, ctx))["text"]
    new = as_body(content.version(ws.actor, slug, newer, ctx))["text"]
    shown = {"older": older, "newer": newer, "changed": found["changed"], "unified": found["diff"],
             "rows": review.side_by_side(_lines(old), _lines(new))}
    base = f"/agent/kb/articles/{quote(slug)}"
    return pages.html("web/kb_diff.html", title=f"{new['title']}：第 {older} 版 ↔ 第 {newer} 版", door="agent", ws=ws,
                      diff=shown, back_url=base, unified=query.get("view") == "unified",
                      unified_url=f"{base}/diff?from={older}&to={newer}&view=unified")


# ---------------------------------------------------------------- the live preview (the page's script)
def preview_json(request) -> Reply:
    """``POST /agent/kb/preview`` ``{"body": markdown}`` with ``X-CSRF-Token`` → ``{"html"}`` (JSON errors)."""
    def error(status: int, code: str, message: str) -> Reply:
        return Reply(status, json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False), JSON_TYPE)
    try:
        ws = session.require(request, "agent")
        session.check_csrf(ws, {"csrf_token": (request.headers or {}).get("x-csrf-token", "")})
    except session.LoginRequired:
        return error(401, "unauthorized", "登录已失效，请重新登录。")
    except session.Forbidden as exc:
        return error(403, exc.code, exc.message)
    try:
        body = json.loads(request.raw_body or b"{}").get("body", "")
    except (ValueError, AttributeError):
        return error(400, "invalid_json", "预览请求有误。")
    if not isinstance(body, str):
        return error(400, "invalid_json", "预览请求有误。")
    try:
        html = rendered(ws, body)
    except refusals.DomainError as exc:
        return error(403 if isinstance(exc, refusals.NotAllowed) else 400, exc.code or "invalid", exc.message or "")
    return Reply(200, json.dumps({"html": html}, ensure_ascii=False), JSON_TYPE)
