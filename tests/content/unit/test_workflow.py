"""The article workflow on the in-memory twin (fast tier): versions, four eyes, conflicts, rollback, roles."""
from __future__ import annotations

import pytest

from chalicelib.content import schemas, service
from chalicelib.kernel import refusals
from tests.content.conftest import AGENT, ALICE, ARTICLE, EDITOR, EDITOR2, LEAD, LEAD2

pytestmark = pytest.mark.unit


def create(who=EDITOR, **changes) -> schemas.ArticleView:
    return service.create_article(who, schemas.NewArticle.model_validate({**ARTICLE, **changes}), service.current())


def save(slug: str, if_match: int | None, who=EDITOR, **changes) -> schemas.ArticleView:
    body = {k: v for k, v in {**ARTICLE, **changes}.items() if k != "slug"}
    return service.save_draft(who, slug, schemas.ArticleChange.model_validate(body), if_match, service.current())


def through_review(slug: str, author=EDITOR, approver=LEAD) -> schemas.PublishResult:
    service.submit(author, slug, None, service.current())
    return service.publish(approver, slug, service.current())


def test_a_new_article_is_a_draft_that_only_editors_and_approvers_see(content):
    made = create(slug="repay-arrival")
    assert (made.slug, made.state, made.version, made.published_version) == ("repay-arrival", "draft", 1, None)
    assert service.get_article(LEAD, "repay-arrival", service.current()).text.body == ARTICLE["body"]
    with pytest.raises(refusals.Missing):   # a frontline agent never reads a draft
        service.get_article(AGENT, "repay-arrival", service.current())
    assert service.list_articles(AGENT, service.current()).articles == []
    assert service.published_sources() == []


def test_four_eyes_the_author_cannot_publish_their_own_version(content, builds):
    slug = create(who=LEAD, slug="lead-wrote").slug    # a senior agent may write, but not approve their own text
    service.submit(LEAD, slug, "请审核", service.current())
    with pytest.raises(refusals.NotAllowed) as refused:
        service.publish(LEAD, slug, service.current())
    assert refused.value.code == "four_eyes"
    assert service.get_article(LEAD, slug, service.current()).state == "in_review"
    assert builds.reasons == []
    published = service.publish(LEAD2, slug, service.current())
    assert (published.article.state, published.article.published_version, published.build_id) == ("published", 1, "b-1")
    assert builds.reasons == ["publish lead-wrote v1"]
    assert builds.requested_by == [LEAD2.username]   # the build shows who approved it, not its author


def test_an_editor_cannot_publish_and_publish_needs_a_review_first(content):
    slug = create(slug="needs-review").slug
    with pytest.raises(refusals.Conflicting):
        service.publish(LEAD, slug, service.current())       # a draft is not published without a review
    service.submit(EDITOR, slug, None, service.current())
    with pytest.raises(refusals.NotAllowed):
        service.publish(EDITOR2, slug, service.current())    # another editor is not an approver


def test_editing_a_published_article_keeps_the_live_version_until_the_new_one_is_approved(content):
    slug = create(slug="live-edit").slug
    through_review(slug)
    save(slug, 1, who=EDITOR2, body="还款一般 **1 小时内** 到账。", note="时效改了")
    assert service.get_article(AGENT, slug, service.current()).text.body == ARTICLE["body"]   # users: still v1
    assert "1 小时内" not in dict(service.published_sources())[slug]
    draft = service.get_article(EDITOR, slug, service.current())
    assert (draft.state, draft.version, draft.published_version) == ("draft", 2, 1)
    through_review(slug, author=EDITOR2)
    assert "1 小时内" in dict(service.published_sources())[slug]
    kept = service.versions(LEAD, slug, service.current()).versions
    assert [(v.version, v.author, v.note) for v in kept] == [(1, "editor", "新建"), (2, "editor2", "时效改了")]


def test_a_stale_save_is_412_with_both_texts_and_nothing_is_lost(content):
    slug = create(slug="two-editors").slug
    save(slug, 1, who=EDITOR2, body="第二位编辑先保存的内容。")
    with pytest.raises(refusals.Outdated) as stale:
        save(slug, 1, who=EDITOR, body="第一位编辑晚保存的内容。")
    details = stale.value.details
    assert details["current"]["version"] == 2 and details["current"]["author"] == "editor2"
    assert details["current"]["text"]["body"] == "第二位编辑先保存的内容。"
    assert details["yours"]["body"] == "第一位编辑晚保存的内容。"
    assert "-第二位编辑先保存的内容。" in details["diff"] and "+第一位编辑晚保存的内容。" in details["diff"]
    assert [v.version for v in service.versions(EDITOR, slug, service.current()).versions] == [1, 2]
    merged = save(slug, 2, who=EDITOR, body="合并后的内容。")     # against the newest version it saves
    assert merged.version == 3


def test_unpublish_with_a_replacement_and_rollback_to_an_earlier_published_version(content, builds):
    old, new = create(slug="old-guide").slug, create(slug="new-guide").slug
    through_review(old)
    through_review(new)
    with pytest.raises(refusals.Invalid):
        service.unpublish(LEAD, old, schemas.Unpublish(replacement="no-such"), service.current())
    result = service.unpublish(LEAD, old, schemas.Unpublish(replacement=new), service.current())
    assert result.article.state == "unpublished" and result.build_id
    assert [s for s, _ in service.published_sources()] == [new]
    assert service.retired(old) == service.Retired(slug=old, replacement=new)
    assert service.retired(new) is None and service.retired("never-was") is None

    save(new, 1, body="新版说明，尚未审核。")
    through_review(new)
    back = service.rollback(LEAD, new, schemas.Rollback(version=1), service.current())
    assert (back.article.version, back.article.published_version, back.article.state) == (3, 3, "published")
    assert dict(service.published_sources())[new].endswith(ARTICLE["body"] + "\n")
    kept = service.versions(EDITOR, new, service.current()).versions
    assert (kept[-1].kind, kept[-1].based_on) == ("rollback", 1)
    assert builds.reasons[-1] == "rollback new-guide to v1"


def test_rollback_only_to_a_version_that_was_live_once(content):
    slug = create(slug="draft-only").slug
    save(slug, 1, body="从未审核过的草稿。")
    through_review(slug)   # v2 published; v1 never was
    with pytest.raises(refusals.Conflicting):
        service.rollback(LEAD, slug, schemas.Rollback(version=1), service.current())
    with pytest.raises(refusals.NotAllowed):
        service.rollback(EDITOR, slug, schemas.Rollback(version=2), service.current())


def test_wallet_users_and_frontline_agents_cannot_write(content):
    for who in (ALICE, AGENT):
        with pytest.raises(refusals.NotAllowed):
            create(who=who)
    with pytest.raises(refusals.NotAllowed):
        service.list_articles(ALICE, service.current())
    assert content.heads == {}


def test_every_change_is_an_audit_record_of_who_what_and_which_version(content):
    slug = create(slug="audited").slug
    through_review(slug)
    service.unpublish(LEAD, slug, schemas.Unpublish(), service.current())
    assert [(a.action, a.actor_name, a.version) for a in content.audit_of(slug)] == [
        ("create", "editor", 1), ("submit", "editor", 1), ("publish", "lead", 1), ("unpublish", "lead", 1)]
    assert [(action, version) for _, action, version in service.publish_history(slug)] == [
        ("publish", 1), ("unpublish", 1)]


def test_a_taken_slug_is_refused_and_the_first_article_is_untouched(content):
    create(slug="taken")
    with pytest.raises(refusals.Conflicting) as taken:
        create(slug="taken", title="另一篇")
    assert taken.value.field == "slug"
    assert service.get_article(EDITOR, "taken", service.current()).text.title == ARTICLE["title"]


def test_diff_between_two_versions(content):
    slug = create(slug="diffed").slug
    save(slug, 1, title="信用卡还款多久到账", questions=["还款多久到账"])
    shown = service.diff(EDITOR, slug, 1, 2, service.current())
    assert "-标题：信用卡还款到账时间" in shown.diff and "+标题：信用卡还款多久到账" in shown.diff
    assert "-问题：还了款怎么还没到账" in shown.diff and shown.changed
    assert not service.diff(EDITOR, slug, 2, 2, service.current()).changed
    with pytest.raises(refusals.Missing):
        service.diff(EDITOR, slug, 1, 9, service.current())


def test_a_link_to_an_article_users_cannot_open_is_refused_on_save(content):
    create(slug="target")
    body = "详见[到账说明](/help/articles/target)。"
    with pytest.raises(refusals.Invalid) as dead:
        create(slug="linking", body=body)           # the target is only a draft
    assert (dead.value.code, dead.value.field) == ("dead_link", "body") and "target" in dead.value.message
    with pytest.raises(refusals.Invalid):
        create(slug="linking", body="见[这里](/help/articles/no-such-article)")
    through_review("target")
    assert create(slug="linking", body=body).text.body == body
