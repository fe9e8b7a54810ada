"""Contacts and quick replies as versioned documents, on the in-memory store twin (the fast tier): drafts, review,
four eyes, stale saves, rollback, diffs, and the readers following the published version."""
from __future__ import annotations

import copy

import pytest

from chalicelib import config
from chalicelib.editions import service
from chalicelib.kernel import refusals
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context
from tests.editions.fixtures import editions_live, editions_twin

pytestmark = pytest.mark.unit

EDITOR = Actor("u-ed", "editor", frozenset({"kb-editor"}))
LEAD = Actor("u-lead", "lead", frozenset({"senior-support"}))
LEAD2 = Actor("u-lead2", "lead2", frozenset({"senior-support"}))
AGENT = Actor("u-agent", "agent", frozenset({"support"}))
WALLET = Actor("u-alice", "alice")


@pytest.fixture
def twin(editions_live, editions_twin):
    return editions_twin


def ctx() -> Context:
    return Context.current()


def contacts_with(number: str) -> dict:
    document = copy.deepcopy(service.packaged("contacts"))
    backup = next(line for line in document["hotlines"] if line["id"] == "backup")
    backup["number"] = number
    return document


def test_nothing_saved_shows_the_packaged_file_as_published(twin):
    view = service.read(EDITOR, "contacts")
    assert view.rev == 0 and view.latest_version == 0 and view.status == "published"
    assert view.document == service.packaged("contacts")
    assert service.published("contacts") is None           # readers keep the packaged YAML


def test_a_contact_change_needs_a_second_person_to_publish(twin):
    from chalicelib.search import contacts
    saved = service.save_draft(LEAD, ctx(), "contacts", contacts_with("021-0000-1009"), "备用热线换号", 0)
    assert (saved.status, saved.latest_version, saved.rev) == ("draft", 1, 1)
    assert contacts.directory().hotline("backup").number == "021-0000-1003"   # a draft is never what users see
    submitted = service.submit(LEAD, ctx(), "contacts", saved.rev)
    assert submitted.can_publish is False and "四眼" in submitted.publish_refusal
    with pytest.raises(refusals.NotAllowed) as refused:
        service.publish(LEAD, ctx(), "contacts", submitted.rev)
    assert refused.value.code == "four_eyes"
    assert contacts.directory().hotline("backup").number == "021-0000-1003"
    done = service.publish(LEAD2, ctx(), "contacts", submitted.rev)
    assert done.published_version == 1 and done.status == "published"
    assert contacts.directory().hotline("backup").number == "021-0000-1009"
    assert contacts.verify_number("021-0000-1009").official is True
    assert contacts.verify_number("021-0000-1003").official is False
    actions = [(r.action, r.actor, r.version) for r in service.versions(LEAD, "contacts").records]
    assert actions == [("published", "lead2", 1), ("submitted", "lead", 1), ("saved", "lead", 1)]


def test_an_editor_writes_but_never_publishes_and_staff_without_the_role_cannot_touch(twin):
    saved = service.save_draft(EDITOR, ctx(), "macros", service.packaged("macros"), "原样保存", 0)
    submitted = service.submit(EDITOR, ctx(), "macros", saved.rev)
    with pytest.raises(refusals.NotAllowed):
        service.publish(EDITOR, ctx(), "macros", submitted.rev)
    for outsider in (AGENT, WALLET):
        with pytest.raises(refusals.NotAllowed):
            service.read(outsider, "macros")
        with pytest.raises(refusals.NotAllowed):
            service.save_draft(outsider, ctx(), "macros", service.packaged("macros"), "x", submitted.rev)
    # quick replies need no second person: the approver may publish a change they submitted
    mine = service.submit(LEAD, ctx(), "macros", service.save_draft(LEAD, ctx(), "macros", service.packaged("macros"),
                                                                      "再存一次", submitted.rev).rev)
    assert service.publish(LEAD, ctx(), "macros", mine.rev).published_version == 2


def test_a_save_over_an_older_revision_is_refused_and_stores_nothing(twin):
    first = service.save_draft(EDITOR, ctx(), "contacts", contacts_with("021-0000-1007"), "甲的修改", 0)
    with pytest.raises(service.Stale):
        service.save_draft(LEAD, ctx(), "contacts", contacts_with("021-0000-1008"), "乙的修改", 0)
    view = service.read(LEAD, "contacts")
    assert view.rev == first.rev and view.latest_version == 1
    assert "021-0000-1007" in view.text and "021-0000-1008" not in view.text


@pytest.mark.parametrize("change, message", [
    (lambda d: d["hotlines"].pop(0), "不能删除热线"),
    (lambda d: d["hotlines"][0].update(number="打这个电话"), "不是有效的电话号码"),
    (lambda d: d["hotlines"][1].update(number="010-0000-1012"), "SECURITY_HOTLINE"),
    (lambda d: d.pop("email"), "email"),
])
def test_a_broken_contact_directory_is_refused_with_a_reason(twin, change, message):
    document = copy.deepcopy(service.packaged("contacts"))
    change(document)
    with pytest.raises(refusals.Invalid) as refused:
        service.save_draft(LEAD, ctx(), "contacts", document, "坏的修改", 0)
    assert message in refused.value.message
    assert service.read(LEAD, "contacts").latest_version == 0


def test_a_macro_with_an_unknown_field_or_bad_template_is_refused(twin):
    document = copy.deepcopy(service.packaged("macros"))
    document["macros"][0]["text"] = "您好 {{ refrence }}"
    with pytest.raises(refusals.Invalid, match="refrence"):
        service.save_draft(LEAD, ctx(), "macros", document, "拼错字段", 0)
    document["macros"][0]["text"] = "您好 {% if reference %}"
    with pytest.raises(refusals.Invalid, match="模板写错了"):
        service.save_draft(LEAD, ctx(), "macros", document, "模板不完整", 0)


def test_published_quick_replies_reach_the_workspace(twin):
    from chalicelib.escalation import macros
    document = copy.deepcopy(service.packaged("macros"))
    document["macros"][0]["title"] = "已收到（新版）"
    saved = service.save_draft(EDITOR, ctx(), "macros", document, "改标题", 0)
    assert macros._loaded()[0]["title"] != "已收到（新版）"
    service.publish(LEAD, ctx(), "macros", service.submit(EDITOR, ctx(), "macros", saved.rev).rev)
    assert macros._loaded()[0]["title"] == "已收到（新版）"


def test_rollback_makes_an_earlier_version_a_draft_and_the_diff_shows_the_change(twin):
    v1 = service.save_draft(LEAD, ctx(), "contacts", contacts_with("021-0000-1007"), "第一次", 0)
    v2 = service.save_draft(LEAD, ctx(), "contacts", contacts_with("021-0000-1008"), "第二次", v1.rev)
    diff = service.diff(LEAD, "contacts", 1, 2)
    changed = [(r.old, r.new) for r in diff.rows if r.kind == "changed"]
    assert diff.changed and any("1007" in (old or "") and "1008" in (new or "") for old, new in changed)
    assert "-" in diff.unified and "+" in diff.unified
    back = service.rollback(LEAD, ctx(), "contacts", 1, v2.rev)
    assert back.latest_version == 3 and back.status == "draft" and "021-0000-1007" in back.text
    assert service.versions(LEAD, "contacts").items[0].note == "回滚到第 1 版"


def test_the_seed_imports_once(twin):
    assert service.import_seed("contacts", ctx()) is True
    assert service.import_seed("contacts", ctx()) is False
    view = service.read(LEAD, "contacts")
    assert (view.published_version, view.last_author) == (1, "seed")
    assert service.published("contacts")[1] == view.document


def test_readers_keep_the_packaged_file_when_editing_is_off(twin, monkeypatch):
    saved = service.save_draft(LEAD, ctx(), "contacts", contacts_with("021-0000-1009"), "换号", 0)
    service.publish(LEAD2, ctx(), "contacts", service.submit(LEAD, ctx(), "contacts", saved.rev).rev)
    monkeypatch.setenv("EDITIONS_LIVE", "0")
    config.reload()
    assert service.published("contacts") is None


def test_an_unreadable_table_keeps_the_last_published_version(twin, monkeypatch):
    from chalicelib.search import contacts
    saved = service.save_draft(LEAD, ctx(), "contacts", contacts_with("021-0000-1009"), "换号", 0)
    service.publish(LEAD2, ctx(), "contacts", service.submit(LEAD, ctx(), "contacts", saved.rev).rev)
    assert contacts.directory().hotline("backup").number == "021-0000-1009"

    def down(kind):
        raise ConnectionError("DynamoDB unreachable")
    monkeypatch.setattr(twin, "get_head", down)
    assert contacts.directory().hotline("backup").number == "021-0000-1009"   # not the packaged 021-0000-1003
