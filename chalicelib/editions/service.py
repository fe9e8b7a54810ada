"""The facade of editable documents (contacts, macros): read, save a draft, submit, publish, roll back, versions,
diffs — and ``published(kind)``, what the readers follow.

Every change is one unit of work: the head over the ``rev`` the caller read (someone saved since → ``Stale``, the
other's text kept for the page to show), the new version or status, and an audit record. Role checks are
``model.require_*`` / ``model.publish_refusal``, the same for the API and the workspace page.
"""
from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import yaml

from chalicelib.config import settings
from chalicelib.editions import model, store
from chalicelib.editions.model import Head, Version
from chalicelib.editions.schemas import (
    EditionDiff,
    EditionDiffRow,
    EditionRecord,
    EditionVersionList,
    EditionVersionSummary,
    EditionVersionView,
    EditionView,
)
from chalicelib.kernel import refusals, review
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import logger

MAX_VERSIONS = 100
_PACKAGED_MACROS = Path(__file__).resolve().parents[1] / "escalation" / "macros.yaml"


class Stale(refusals.Outdated):
    """Someone changed it since the caller read ``rev`` (412 through ``errors.from_domain``; the page shows both
    texts)."""
    code = "stale_version"


# ---------------------------------------------------------------- the packaged seed (fallback and first import)
def packaged(kind: str) -> dict:
    """The YAML shipped in the package: ``kb/contacts.yaml`` (as copied next to the index) or ``macros.yaml``."""
    if kind == "contacts":
        from chalicelib.search import contacts
        path = contacts.contacts_file()
    else:
        path = _PACKAGED_MACROS
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def as_yaml(document: dict) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=1000)


# ---------------------------------------------------------------- what readers follow (cached per container)
_cache: dict[str, tuple[float, tuple[int, dict] | None]] = {}
_cache_lock = threading.Lock()


def published(kind: str) -> tuple[int, dict] | None:
    """``(version, document)`` users see now, or None: the packaged YAML (nothing published, or editing switched
    off by ``EDITIONS_LIVE``). Read at most every ``EDITIONS_CACHE_SECONDS`` per container; when the table cannot
    be read, the version read last stays (a reader never fails for it, and never falls back to an older number)."""
    cfg = settings()
    if not cfg.editions_live:
        return None
    with _cache_lock:
        hit = _cache.get(kind)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
    try:
        head = store.get_head(kind)
        found = store.get_version(kind, head.published) if head and head.published is not None else None
        value = (found.number, found.document) if found else None
    except Exception:   # noqa: BLE001 - any failure of the store: what was read last (else the packaged file)
        value = hit[1] if hit is not None else None
        logger.warning("editions unreadable, last known document kept", extra={"kind": kind,
                       "version": value[0] if value else None}, exc_info=True)
    with _cache_lock:
        _cache[kind] = (time.monotonic() + cfg.editions_cache_seconds, value)
    return value


def forget() -> None:
    """Drop the cached published documents (after a publish here; tests)."""
    with _cache_lock:
        _cache.clear()


# ---------------------------------------------------------------- reads
def _view(actor: Actor, spec: model.Kind, head: Head | None) -> EditionView:
    latest = store.get_version(spec.name, head.latest) if head else None
    document = latest.document if latest else packaged(spec.name)
    refusal = model.publish_refusal(actor, spec, head)
    return EditionView(kind=spec.name, title=spec.title, rev=head.rev if head else 0,
                       status=head.status if head else model.PUBLISHED,
                       status_title=model.STATUS_TITLES[head.status if head else model.PUBLISHED],
                       latest_version=head.latest if head else 0,
                       published_version=head.published if head else None,
                       last_author=head.last_author if head else model.SEED_AUTHOR,
                       updated_at=head.updated_at if head else None, document=document, text=as_yaml(document),
                       four_eyes=spec.four_eyes, can_write=model.may_write(actor), can_publish=refusal is None,
                       publish_refusal=refusal.message if refusal else None)


def read(actor: Actor, kind: str) -> EditionView:
    """The newest version (a draft, one in review, or the published one) and what this actor may do with it."""
    spec = model.kind(kind)
    model.require_read(actor)
    return _view(actor, spec, store.get_head(kind))


def versions(actor: Actor, kind: str) -> EditionVersionList:
    spec = model.kind(kind)
    model.require_read(actor)
    head = store.get_head(kind)
    items = [EditionVersionSummary(number=v.number, note=v.note, author=v.author, at=v.at,
                            published=head is not None and head.published == v.number)
             for v in store.versions(spec.name, limit=MAX_VERSIONS)]
    records = [EditionRecord(rev=r["rev"], action=r["action"], actor=r["actor"], version=r["version"], at=r["at"],
                          note=r.get("note", "")) for r in store.records(spec.name, limit=MAX_VERSIONS)]
    return EditionVersionList(kind=spec.name, items=items, records=records)


def _version(spec: model.Kind, number: int) -> Version:
    if number == 0:   # the packaged seed, before anything was imported or saved
        return Version(number=0, document=packaged(spec.name), note="随程序发布的版本", author=model.SEED_AUTHOR,
                       at=Context.current().now)
    found = store.get_version(spec.name, number)
    if found is None:
        raise refusals.Missing(f"没有第 {number} 版。", code="version_not_found")
    return found


def version(actor: Actor, kind: str, number: int) -> EditionVersionView:
    spec = model.kind(kind)
    model.require_read(actor)
    found = _version(spec, number)
    return EditionVersionView(number=found.number, note=found.note, author=found.author, at=found.at,
                       document=found.document, text=as_yaml(found.document))


def diff(actor: Actor, kind: str, older: int, newer: int) -> EditionDiff:
    """Two versions line by line (their YAML): a unified diff and side-by-side rows (equal/removed/added)."""
    spec = model.kind(kind)
    model.require_read(actor)
    a, b = _version(spec, older), _version(spec, newer)
    left, right = as_yaml(a.document).splitlines(), as_yaml(b.document).splitlines()
    rows = [EditionDiffRow(**row) for row in review.side_by_side(left, right)]
    return EditionDiff(kind=spec.name, older=a.number, newer=b.number, rows=rows,
                       unified=review.unified(left, right, f"第 {a.number} 版", f"第 {b.number} 版"),
                       changed=any(r.kind == "changed" for r in rows))


# ---------------------------------------------------------------- changes
def _commit(spec: model.Kind, head: Head, expected: Head | None, action: str, actor: Actor, ctx: Context,
            note: str = "", new_version: Version | None = None) -> None:
    uow = store.begin()
    store.save_head(uow, head, expected.rev if expected else None)
    if new_version is not None:
        store.add_version(uow, spec.name, new_version)
    store.add_record(uow, spec.name, head.rev, {"action": action, "actor": actor.username or actor.user_id,
                                                "version": head.latest, "at": ctx.now.isoformat(), "note": note})
    try:
        uow.commit()
    except store.Conflict:
        raise Stale("保存前已有人修改了这份内容：请对照对方的修改后再保存。", field="rev") from None
    logger.info("edition changed", extra={"kind": spec.name, "action": action, "version": head.latest,
                                          "rev": head.rev})


def _current(spec: model.Kind, rev: int) -> Head | None:
    head = store.get_head(spec.name)
    if (head.rev if head else 0) != rev:
        raise Stale("保存前已有人修改了这份内容：请对照对方的修改后再保存。", field="rev")
    return head


def save_draft(actor: Actor, ctx: Context, kind: str, document, note: str, rev: int) -> EditionView:
    """A new version as a draft, over ``rev`` (what the editor opened). The document is checked first: nothing
    invalid is stored."""
    spec = model.kind(kind)
    model.require_write(actor)
    text = model.check_note(note)
    cleaned = model.checked(spec, document, security_hotline=ctx.settings.security_hotline)
    head = _current(spec, rev)
    number = (head.latest if head else 0) + 1
    who = actor.username or actor.user_id
    new = Head(kind=spec.name, rev=rev + 1, latest=number, status=model.DRAFT,
               published=head.published if head else None, last_author=who, updated_at=ctx.now)
    _commit(spec, new, head, "saved", actor, ctx, text,
            Version(number=number, document=cleaned, note=text, author=who, at=ctx.now))
    return _view(actor, spec, new)


def submit(actor: Actor, ctx: Context, kind: str, rev: int) -> EditionView:
    spec = model.kind(kind)
    model.require_write(actor)
    head = _current(spec, rev)
    if head is None or head.status != model.DRAFT:
        raise refusals.Conflicting("没有可提交的草稿：先保存修改。", code="not_a_draft")
    moved = dataclasses.replace(head, rev=rev + 1, status=model.IN_REVIEW, updated_at=ctx.now)
    _commit(spec, moved, head, "submitted", actor, ctx)
    return _view(actor, spec, moved)


def publish(actor: Actor, ctx: Context, kind: str, rev: int) -> EditionView:
    """The version in review goes live (four eyes where the kind asks for it); readers follow within
    ``EDITIONS_CACHE_SECONDS``."""
    spec = model.kind(kind)
    model.require_read(actor)
    head = _current(spec, rev)
    refusal = model.publish_refusal(actor, spec, head)
    if refusal is not None:
        raise refusal
    assert head is not None
    moved = dataclasses.replace(head, rev=rev + 1, status=model.PUBLISHED, published=head.latest, updated_at=ctx.now)
    _commit(spec, moved, head, "published", actor, ctx)
    forget()
    return _view(actor, spec, moved)


def rollback(actor: Actor, ctx: Context, kind: str, number: int, rev: int) -> EditionView:
    """An earlier version's document as a new draft (then submitted and approved like any change)."""
    earlier = _version(model.kind(kind), number)
    return save_draft(actor, ctx, kind, earlier.document, f"回滚到第 {earlier.number} 版", rev)


def import_seed(kind: str, ctx: Context, document: dict | None = None) -> bool:
    """Version 1, published, from the packaged YAML — only into an empty kind (a deploy's or ``make serve``'s
    first start); False when something is already there."""
    spec = model.kind(kind)
    if store.get_head(kind) is not None:
        return False
    seed = Actor(user_id=model.SEED_AUTHOR, username=model.SEED_AUTHOR)
    cleaned = model.checked(spec, document if document is not None else packaged(kind),
                            security_hotline=ctx.settings.security_hotline)
    head = Head(kind=kind, rev=1, latest=1, status=model.PUBLISHED, published=1, last_author=model.SEED_AUTHOR,
                updated_at=ctx.now)
    try:
        _commit(spec, head, None, "imported", seed, ctx, "导入随程序发布的文件",
                Version(number=1, document=cleaned, note="导入随程序发布的文件", author=model.SEED_AUTHOR, at=ctx.now))
    except Stale:
        return False
    forget()
    return True
