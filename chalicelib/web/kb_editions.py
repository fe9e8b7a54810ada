"""The workspace pages of contacts and quick replies (``/agent/kb/contacts``, ``/agent/kb/macros``), over the
editions service the API calls — the same role checks, the same four eyes, the same stale-save refusal.

The document is edited as YAML (what ``kb/contacts.yaml`` and ``macros.yaml`` look like). A refused save comes back
as the page with the typed text kept (400: why; 409: someone saved since — their text is shown beside yours, yours
stays in the form, nothing is lost). Every form carries the session's CSRF token and answers 303.
"""
from __future__ import annotations

from urllib.parse import urlencode

import yaml

from chalicelib.edge import pages
from chalicelib.edge.pages import Reply
from chalicelib.editions import service as editions
from chalicelib.kernel import refusals
from chalicelib.kernel.context import Context
from chalicelib.kernel.schema import as_body
from chalicelib.web import kb_versions, session

MAX_TEXT_CHARS = 100_000
DONE = {"saved": "已保存为草稿。", "submitted": "已提交审核。", "published": "已发布：几秒内对用户生效。",
        "rolled_back": "已把旧版本存为新草稿，请提交审核。"}
BACK = ("/agent/kb", "返回知识库")
TITLES = {400: "内容有误", 403: "无权操作", 404: "找不到这份内容", 409: "内容已被他人修改", 412: "内容已被他人修改"}


def _show(ws: session.WebSession, kind: str, *, status: int = 200, error: str = "", yours: str | None = None,
          note: str = "", theirs: dict | None = None, done: str = "") -> Reply:
    ctx = Context.current()
    view = as_body(editions.read(ws.actor, kind))
    listed = as_body(editions.versions(ws.actor, kind))
    return pages.html("web/kb_edition.html", status=status, title=view["title"], door="agent", ws=ws, view=view,
                      versions=listed["items"], records=listed["records"][:20], error=error,
                      text=yours if yours is not None else view["text"], note=note, theirs=theirs,
                      done=DONE.get(done, ""), local_time=kb_versions.local_time(ctx))


@pages.page("agent", titles=TITLES, back=BACK)
def show(request, kind: str) -> Reply:
    ws = session.require(request, "agent")
    return _show(ws, kind, done=(request.query_params or {}).get("done", ""))


def _rev(form: dict) -> int:
    raw = form.get("rev", "")
    if not raw.isdigit() or len(raw) > 9:
        raise refusals.Invalid("表单缺少版本信息，请刷新页面后重试。", code="rev_required")
    return int(raw)


@pages.page("agent", titles=TITLES, back=BACK)
def save(request, kind: str) -> Reply:
    ws, form = pages.posted(request, "agent")
    text, note = form.get("text", "")[:MAX_TEXT_CHARS + 1], form.get("note", "")[:400]
    if len(text) > MAX_TEXT_CHARS:
        return _show(ws, kind, status=400, error=f"内容太长（上限 {MAX_TEXT_CHARS} 个字符）。",
                     yours=text[:MAX_TEXT_CHARS], note=note)
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行" if mark is not None else "某处"
        return _show(ws, kind, status=400, error=f"YAML 格式有误（{where}），没有保存。", yours=text, note=note)
    try:
        editions.save_draft(ws.actor, Context.current(), kind, document, note, _rev(form))
    except editions.Stale:
        current = as_body(editions.read(ws.actor, kind))
        return _show(ws, kind, status=409, yours=text, note=note, theirs=current,
                     error=(f"你打开之后，{current['last_author']} 又保存了第 {current['latest_version']} 版。"
                            "你的修改还在下面的编辑框里，没有保存：对照右边对方的版本合并后再保存。"))
    except refusals.Invalid as exc:
        return _show(ws, kind, status=400, error=f"{exc.message} 没有保存，你的修改还在编辑框里。", yours=text,
                     note=note)
    return pages.redirect(f"/agent/kb/{kind}?done=saved")


@pages.page("agent", titles=TITLES, back=BACK)
def submit(request, kind: str) -> Reply:
    ws, form = pages.posted(request, "agent")
    editions.submit(ws.actor, Context.current(), kind, _rev(form))
    return pages.redirect(f"/agent/kb/{kind}?done=submitted")


@pages.page("agent", titles=TITLES, back=BACK)
def publish(request, kind: str) -> Reply:
    ws, form = pages.posted(request, "agent")
    editions.publish(ws.actor, Context.current(), kind, _rev(form))
    return pages.redirect(f"/agent/kb/{kind}?done=published")


@pages.page("agent", titles=TITLES, back=BACK)
def rollback(request, kind: str) -> Reply:
    ws, form = pages.posted(request, "agent")
    editions.rollback(ws.actor, Context.current(), kind, kb_versions.rollback_version(form), _rev(form))
    return pages.redirect(f"/agent/kb/{kind}?done=rolled_back")


@pages.page("agent", titles=TITLES, back=BACK)
def diff(request, kind: str) -> Reply:
    ws = session.require(request, "agent")
    query = request.query_params or {}
    older, newer = kb_versions.compared(query)
    found = as_body(editions.diff(ws.actor, kind, older, newer))
    view = as_body(editions.read(ws.actor, kind))
    return pages.html("web/kb_diff.html", title=f"{view['title']}：第 {found['older']} 版 ↔ 第 {found['newer']} 版",
                      door="agent", ws=ws, diff=found, back_url=f"/agent/kb/{kind}",
                      unified_url=f"/agent/kb/{kind}/diff?"
                      + urlencode({"from": older, "to": newer, "view": "unified"}),
                      unified=query.get("view") == "unified")
