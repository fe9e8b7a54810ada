"""Articles and the contacts directory go through one review rule (``chalicelib/kernel/review.py``), on the in-memory
twins (fast tier): the author of the version in review is refused with the same code and words by both, the view
shows that reason before anyone presses 发布, nothing in review is the same 409 for both, and both diffs pair lines
the same way."""
from __future__ import annotations

import copy

import pytest

from chalicelib.content import schemas
from chalicelib.content import service as articles
from chalicelib.editions import service as editions
from chalicelib.kernel import refusals, review
from chalicelib.kernel.context import Context
from tests.content.conftest import ARTICLE, LEAD, LEAD2
from tests.editions.fixtures import editions_live, editions_twin

pytestmark = pytest.mark.unit


def _article_in_review(slug: str) -> None:
    articles.create_article(LEAD, schemas.NewArticle.model_validate({**ARTICLE, "slug": slug}), Context.current())
    articles.submit(LEAD, slug, None, Context.current())


def _contacts_in_review() -> int:
    document = copy.deepcopy(editions.packaged("contacts"))
    next(line for line in document["hotlines"] if line["id"] == "backup")["number"] = "021-0000-1009"
    saved = editions.save_draft(LEAD, Context.current(), "contacts", document, "备用热线换号", 0)
    return editions.submit(LEAD, Context.current(), "contacts", saved.rev).rev


def test_the_author_of_the_version_in_review_is_refused_alike_and_told_why_beforehand(content, editions_live,
                                                                                     editions_twin):
    _article_in_review("one-rule")
    rev = _contacts_in_review()
    shown = articles.get_article(LEAD, "one-rule", Context.current())
    seen = editions.read(LEAD, "contacts")
    assert shown.can_publish is False and seen.can_publish is False
    assert shown.publish_refusal == seen.publish_refusal == review.OWN_VERSION and "四眼原则" in shown.publish_refusal
    with pytest.raises(refusals.NotAllowed) as article_refused:
        articles.publish(LEAD, "one-rule", Context.current())
    with pytest.raises(refusals.NotAllowed) as contacts_refused:
        editions.publish(LEAD, Context.current(), "contacts", rev)
    assert article_refused.value.code == contacts_refused.value.code == "four_eyes"
    assert article_refused.value.message == contacts_refused.value.message
    # a second approver sees no reason and publishes both
    assert articles.get_article(LEAD2, "one-rule", Context.current()).publish_refusal is None
    assert editions.read(LEAD2, "contacts").publish_refusal is None
    assert articles.publish(LEAD2, "one-rule", Context.current()).article.state == "published"
    assert editions.publish(LEAD2, Context.current(), "contacts", rev).status == "published"


def test_nothing_in_review_is_the_same_conflict_for_both(content, editions_live, editions_twin):
    articles.create_article(LEAD, schemas.NewArticle.model_validate({**ARTICLE, "slug": "a-draft"}), Context.current())
    with pytest.raises(refusals.Conflicting) as article_refused:
        articles.publish(LEAD2, "a-draft", Context.current())
    with pytest.raises(refusals.Conflicting) as contacts_refused:
        editions.publish(LEAD2, Context.current(), "contacts", 0)
    assert article_refused.value.code == contacts_refused.value.code == "not_in_review"
    assert articles.get_article(LEAD2, "a-draft", Context.current()).publish_refusal == review.NOT_IN_REVIEW


def test_side_by_side_pairs_changed_lines_and_keeps_the_rest():
    rows = review.side_by_side(["a", "b", "c"], ["a", "B", "B2", "c"])
    assert rows == [{"kind": "same", "old": "a", "new": "a"}, {"kind": "changed", "old": "b", "new": "B"},
                    {"kind": "changed", "old": None, "new": "B2"}, {"kind": "same", "old": "c", "new": "c"}]
    assert review.unified(["a"], ["a"], "1", "2") == ""
    assert "-b" in review.unified(["a", "b"], ["a"], "第 1 版", "第 2 版")
