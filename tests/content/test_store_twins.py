"""The content store and its in-memory twin keep the same promises: each case runs against both (the twin in the
fast tier, ``-m unit``; DynamoDB against moto). Heads change only over the revision read, versions are never
overwritten, a lost condition writes nothing of its unit; the list and the published set come from the GSIs."""
from __future__ import annotations

import pytest

from chalicelib.content import store
from chalicelib.content.memory_store import InMemoryContentStore
from chalicelib.content.model import Article, Audit, Text, Version


@pytest.fixture(params=[pytest.param("memory", marks=pytest.mark.unit), "dynamodb"])
def kind(request):
    if request.param == "memory":
        request.getfixturevalue("memory")
        store.use(InMemoryContentStore())
        request.addfinalizer(lambda: store.use(None))
    else:
        request.getfixturevalue("aws")
    return request.param


TEXT = Text(title="还款到账时间", category="repayment", body="一般 **2 小时内** 到账。", tags=("到账",),
            questions=("多久到账", "还没到账"))


def version(slug: str, number: int, **changes) -> Version:
    return Version(slug=slug, number=number, text=TEXT, author_id="u-editor", author_name="editor",
                   at=f"2026-12-09T02:3{number}:00Z", note="改", updated="2026-12-09", **changes)


def head(slug: str, **changes) -> Article:
    fields = dict(slug=slug, state="draft", current=1, last_author_id="u-editor", created_at="2026-12-09T02:30:00Z",
                  updated_at="2026-12-09T02:30:00Z", updated_by="editor", title=TEXT.title, category=TEXT.category)
    return Article(**{**fields, **changes})


def commit(*adds) -> None:
    uow = store.begin()
    for add in adds:
        add(uow)
    uow.commit()


def audit(slug: str, action: str, number: int, revision: int = 1) -> Audit:
    return Audit(slug=slug, at=f"2026-12-09T02:3{number}:00Z", actor_id="u-editor", actor_name="editor",
                 action=action, version=number, revision=revision, detail={"note": "x"})


def test_an_article_and_its_versions_round_trip(kind):
    first = version("a-1", 1)
    commit(lambda u: store.add_article(u, head("a-1")), lambda u: store.add_version(u, first),
           lambda u: store.record(u, audit("a-1", "create", 1)))
    assert store.get_article("a-1") == head("a-1")
    assert store.get_version("a-1", 1) == first and store.get_version("a-1", 2) is None
    live = head("a-1").next(state="published", published_version=2, published=version("a-1", 2, based_on=1),
                            ever_published=(2,), current=2, replacement=None)
    commit(lambda u: store.add_version(u, version("a-1", 2, based_on=1)), lambda u: store.save_article(u, live, 1))
    assert store.get_article("a-1") == live
    assert [v.number for v in store.versions("a-1")] == [1, 2]
    commit(lambda u: store.record(u, audit("a-1", "publish", 2, revision=2)))
    assert [(a.action, a.version, a.revision, a.detail) for a in store.audit_of("a-1")] == [
        ("create", 1, 1, {"note": "x"}), ("publish", 2, 2, {"note": "x"})]
    with pytest.raises(store.Conflict) as twice:
        commit(lambda u: store.record(u, audit("a-1", "save", 3, revision=2)))
    assert "audit" in twice.value


def test_a_stale_revision_or_an_existing_version_writes_nothing_of_its_unit(kind):
    commit(lambda u: store.add_article(u, head("b-1")), lambda u: store.add_version(u, version("b-1", 1)))
    with pytest.raises(store.Conflict) as lost:
        commit(lambda u: store.add_version(u, version("b-1", 2)),
               lambda u: store.save_article(u, head("b-1", current=2).next(), 7),
               lambda u: store.record(u, audit("b-1", "save", 2)))
    assert "article" in lost.value and store.get_version("b-1", 2) is None and store.audit_of("b-1") == []
    with pytest.raises(store.Conflict) as again:
        commit(lambda u: store.add_version(u, version("b-1", 1)))
    assert "version" in again.value
    with pytest.raises(store.Conflict):
        commit(lambda u: store.add_article(u, head("b-1")))


def test_the_list_holds_every_article_and_the_published_set_only_live_ones(kind):
    live = head("c-live", state="published", published_version=1, published=version("c-live", 1))
    gone = head("c-gone", state="unpublished", replacement="c-live")
    for article in (head("c-draft"), live, gone):
        commit(lambda u, a=article: store.add_article(u, a))
    assert [a.slug for a in store.articles()] == ["c-draft", "c-gone", "c-live"]
    assert store.published_articles() == [live]


def test_the_published_set_reads_past_one_batch_of_heads(kind):
    live = [head(f"d-{n:03d}", state="published", published_version=1, published=version(f"d-{n:03d}", 1))
            for n in range(130)]
    for article in live:
        commit(lambda u, a=article: store.add_article(u, a))
    commit(lambda u: store.add_article(u, head("d-draft")))
    assert [a.slug for a in store.published_articles()] == [a.slug for a in live]
