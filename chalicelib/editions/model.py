"""The rules of editable documents: kinds, who may write and publish, states, and what a valid document is.

No AWS, no HTTP: frozen values and functions the service applies (and the pages ask, so a page disables a button
for the same reason the API refuses it).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Literal

from chalicelib.kernel import refusals, review
from chalicelib.kernel.actor import Actor

WRITERS, APPROVERS = review.WRITERS, review.APPROVERS    # the review rules articles share (kernel/review.py)
SEED_AUTHOR = "seed"                       # the version imported from the packaged YAML
MAX_NOTE_CHARS = 200
MAX_DOCUMENT_BYTES = 100_000

Status = Literal["draft", "in_review", "published"]
DRAFT: Status = "draft"
IN_REVIEW: Status = "in_review"
PUBLISHED: Status = "published"
STATUS_TITLES = review.STATE_NAMES


@dataclass(frozen=True)
class Kind:
    name: str
    title: str
    four_eyes: bool        # published only by an approver who is not the last author


KINDS = {"contacts": Kind("contacts", "官方联系方式", four_eyes=True),   # a wrong hotline number is a fraud risk
         "macros": Kind("macros", "快捷回复", four_eyes=False)}


def kind(name: str) -> Kind:
    found = KINDS.get(name)
    if found is None:
        raise refusals.Missing("没有这种内容。", code="not_found")
    return found


@dataclass(frozen=True)
class Version:
    number: int
    document: dict[str, Any]
    note: str
    author: str            # the username (staff only ever see this; it never reaches a user)
    at: dt.datetime


@dataclass(frozen=True)
class Head:
    """Where a kind stands: ``rev`` grows with every change (what ``If-Match`` names)."""
    kind: str
    rev: int
    latest: int                        # the newest version's number
    status: Status                     # of the newest version: draft, in_review or published
    published: int | None              # the version users see (None: the packaged YAML)
    last_author: str                   # of the newest version
    updated_at: dt.datetime


# ---------------------------------------------------------------- who may do what (pages and API alike)
def may_read(actor: Actor) -> bool:
    return actor.has_role(*WRITERS)


def may_write(actor: Actor) -> bool:
    return actor.has_role(*WRITERS)


def publish_refusal(actor: Actor, spec: Kind, head: Head | None) -> refusals.DomainError | None:
    """Why ``actor`` may not publish now (None: they may): ``review.publish_refusal`` over the kind's head. The
    service raises it; the page shows its message beside a disabled button."""
    return review.publish_refusal(actor, head.status if head else None, head.last_author if head else "",
                                  four_eyes=spec.four_eyes)


def require_read(actor: Actor) -> None:
    if not may_read(actor):
        raise refusals.NotAllowed("只有内容编辑（kb-editor）和高级客服可以查看和修改这些内容。", code="forbidden_role")


def require_write(actor: Actor) -> None:
    if not may_write(actor):
        raise refusals.NotAllowed("只有内容编辑（kb-editor）和高级客服可以修改这些内容。", code="forbidden_role")


def check_note(note: str) -> str:
    text = (note or "").strip()
    if not text:
        raise refusals.Invalid("请写一句修改说明（改了什么、为什么）。", code="note_required", field="note")
    if len(text) > MAX_NOTE_CHARS:
        raise refusals.Invalid(f"修改说明不能超过 {MAX_NOTE_CHARS} 个字。", code="note_too_long", field="note")
    return text


# ---------------------------------------------------------------- valid documents
MACRO_FIELDS = frozenset({"reference", "category_title", "step_title", "deadline_local", "username", "hotline",
                          "security_line", "repayment"})
_MACRO_ID = re.compile(r"^[a-z0-9_]{1,40}$")


def check_macros(document: dict) -> dict:
    """``{"version", "macros": [{id, title, text, await_user}]}``: unique ids, Jinja2 that parses and names only
    the fields a 工单 gives (a typo would otherwise fail only when an agent opens the macro)."""
    import jinja2
    from jinja2 import meta
    from jinja2.sandbox import SandboxedEnvironment

    items = document.get("macros")
    if not isinstance(items, list) or not items:
        raise refusals.Invalid("至少要有一条快捷回复（macros 列表）。", code="invalid_document", field="macros")
    env, seen, cleaned = SandboxedEnvironment(), set(), []
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict) or not {"id", "title", "text", "await_user"} <= set(item):
            raise refusals.Invalid(f"第 {n} 条快捷回复缺少 id、title、text 或 await_user。",
                                   code="invalid_document", field="macros")
        macro_id, title, text = str(item["id"]), str(item["title"]).strip(), str(item["text"])
        if not _MACRO_ID.match(macro_id) or macro_id in seen:
            raise refusals.Invalid(f"第 {n} 条快捷回复的 id「{macro_id[:40]}」无效或重复（小写字母、数字、下划线）。",
                                   code="invalid_document", field="macros")
        if not title or not text.strip() or not isinstance(item["await_user"], bool):
            raise refusals.Invalid(f"快捷回复「{macro_id}」的标题、正文不能为空，await_user 只能是 true 或 false。",
                                   code="invalid_document", field="macros")
        try:
            unknown = meta.find_undeclared_variables(env.parse(text)) - MACRO_FIELDS
        except jinja2.TemplateSyntaxError as exc:
            raise refusals.Invalid(f"快捷回复「{macro_id}」的模板写错了（第 {exc.lineno} 行）：{exc.message}",
                                   code="invalid_template", field="macros") from None
        if unknown:
            raise refusals.Invalid(f"快捷回复「{macro_id}」用了不存在的字段：{'、'.join(sorted(unknown))}。"
                                   f"可用：{'、'.join(sorted(MACRO_FIELDS))}。", code="invalid_template",
                                   field="macros")
        seen.add(macro_id)
        cleaned.append({"id": macro_id, "title": title, "await_user": item["await_user"], "text": text})
    return {"version": str(document.get("version") or ""), "macros": cleaned}


def check_contacts(document: dict, *, security_hotline: str) -> dict:
    """The contact directory's shape (``search.contacts.ContactDirectory``), every number a phone number, the
    customer-service and security lines present, the security line the configured one (``SECURITY_HOTLINE``:
    the freeze notices text it, so it is changed with the settings, never here alone)."""
    import pydantic

    from chalicelib.search import contacts

    try:
        book = contacts.ContactDirectory.model_validate(document)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise refusals.Invalid(f"联系方式格式不对：{where}（{first['msg']}）。", code="invalid_document",
                               field=where or None) from None
    ids = [line.id for line in book.hotlines]
    if len(ids) != len(set(ids)):
        raise refusals.Invalid("热线的 id 不能重复。", code="invalid_document", field="hotlines")
    lines: list = [*book.hotlines, *book.regulators]
    for line in lines:
        digits = contacts.digits(line.number)
        if not re.fullmatch(r"[\d\- ]+", line.number) or not 3 <= len(digits) <= 20:
            raise refusals.Invalid(f"号码「{line.number[:40]}」不是有效的电话号码（只能有数字、横线，3–20 位）。",
                                   code="invalid_number", field="number")
    for needed in ("customer_service", "security"):
        if book.hotline(needed) is None:
            raise refusals.Invalid(f"不能删除热线「{needed}」：页面和通知都在用它。", code="invalid_document",
                                   field="hotlines")
    security = book.hotline("security")
    if security is not None and contacts.digits(security.number) != contacts.digits(security_hotline):
        raise refusals.Invalid(f"安全专线必须是 {security_hotline}（与设置 SECURITY_HOTLINE 一致，"
                               "冻结通知里用的是它）。改这个号码需要同时改设置。", code="invalid_number",
                               field="number")
    return book.model_dump(mode="json", exclude_unset=True)


def checked(spec: Kind, document: Any, *, security_hotline: str) -> dict:
    if not isinstance(document, dict):
        raise refusals.Invalid("内容必须是一个对象（YAML/JSON 映射）。", code="invalid_document", field="document")
    import json
    if len(json.dumps(document, ensure_ascii=False).encode("utf-8")) > MAX_DOCUMENT_BYTES:
        raise refusals.Invalid(f"内容太大（上限 {MAX_DOCUMENT_BYTES // 1000} kB）。", code="too_large",
                               field="document")
    if spec.name == "contacts":
        return check_contacts(document, security_hotline=security_hotline)
    return check_macros(document)
