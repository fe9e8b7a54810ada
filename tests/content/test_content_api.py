"""The content API over the Chalice test client (moto): roles, 201/202, 412 with both texts, 4xx in Chinese,
and the help centre's answer for an article taken down."""
from __future__ import annotations

import pytest

from tests.content.conftest import ARTICLE

BASE = "/support/kb/articles"


@pytest.fixture
def editor(make_user):
    return make_user("editor", role="kb-editor", phone="+8613800138005")


@pytest.fixture
def call(api):
    def request(method: str, path: str, user, body=None, headers=None):
        return api.request(method, path, json_body=body, token=user.token, headers=headers)
    return request


def test_editor_writes_lead_approves_and_publish_answers_202_with_a_build_id(call, editor, lead, agent, builds):
    made = call("POST", BASE, editor, {**ARTICLE, "slug": "arrival-time"})
    assert made.status == 201 and made.headers["location"] == f"{BASE}/arrival-time"
    assert (made.json["state"], made.json["version"]) == ("draft", 1)
    assert "<strong>2 小时内</strong>" in made.json["html"]
    assert call("GET", f"{BASE}/arrival-time", agent).status == 404          # frontline: no drafts
    assert call("POST", f"{BASE}/arrival-time/publish", lead).status == 409  # not yet in review
    assert call("POST", f"{BASE}/arrival-time/submit", editor).json["state"] == "in_review"
    assert call("POST", f"{BASE}/arrival-time/publish", editor).status == 403   # an editor is no approver

    published = call("POST", f"{BASE}/arrival-time/publish", lead)
    assert published.status == 202 and published.json["build_id"] == "b-1"
    assert builds.reasons == ["publish arrival-time v1"]
    seen = call("GET", f"{BASE}/arrival-time", agent).json
    assert seen["state"] == "published" and seen["text"]["body"] == ARTICLE["body"]
    assert [a["slug"] for a in call("GET", BASE, agent).json["articles"]] == ["arrival-time"]


def test_the_author_cannot_approve_their_own_change(call, lead, make_user):
    call("POST", BASE, lead, {**ARTICLE, "slug": "own-change"})
    call("POST", f"{BASE}/own-change/submit", lead)
    refused = call("POST", f"{BASE}/own-change/publish", lead)
    assert refused.status == 403 and refused.json["error"]["code"] == "four_eyes"
    other = make_user("lead2", role="senior-support", phone="+8613800138006")
    assert call("POST", f"{BASE}/own-change/publish", other).status == 202


def test_wallet_users_and_frontline_agents_cannot_write(call, alice, agent):
    assert call("GET", BASE, alice).status == 403
    for user in (alice, agent):
        refused = call("POST", BASE, user, {**ARTICLE, "slug": "not-allowed"})
        assert refused.status == 403 and refused.json["error"]["message"]
    assert call("GET", BASE, agent).json["articles"] == []


def test_a_stale_put_is_412_showing_the_other_change_and_keeping_both(call, editor, lead):
    call("POST", BASE, editor, {**ARTICLE, "slug": "shared-draft"})
    first = call("PUT", f"{BASE}/shared-draft", lead, {**ARTICLE, "body": "审核人先改的正文。"}, {"If-Match": "1"})
    assert first.status == 200 and first.json["version"] == 2
    stale = call("PUT", f"{BASE}/shared-draft", editor, {**ARTICLE, "body": "编辑后改的正文。"}, {"If-Match": "1"})
    assert stale.status == 412
    error = stale.json["error"]
    assert error["code"] == "version_conflict" and "第 2 版" in error["message"]
    assert error["current"]["text"]["body"] == "审核人先改的正文。" and error["yours"]["body"] == "编辑后改的正文。"
    assert call("GET", f"{BASE}/shared-draft", editor).json["text"]["body"] == "审核人先改的正文。"
    assert call("PUT", f"{BASE}/shared-draft", editor, ARTICLE, {"If-Match": "abc"}).status == 400
    versions = call("GET", f"{BASE}/shared-draft/versions", editor).json["versions"]
    assert [(v["version"], v["author"]) for v in versions] == [(1, "editor"), (2, "lead")]
    diff = call("GET", f"{BASE}/shared-draft/diff?from=1&to=2", editor).json
    assert "+审核人先改的正文。" in diff["diff"]
    assert call("GET", f"{BASE}/shared-draft/diff?from=x&to=2", editor).status == 400


@pytest.mark.parametrize("change, code", [
    ({"category": "loans"}, "unknown_category"),
    ({"body": "详情见 <a href='https://x.example'>这里</a>"}, "raw_html"),
    ({"body": "[点我](javascript:alert(1))"}, "bad_link"),
    ({"body": "请拨打 400-888-1234 联系客服。"}, "unofficial_number"),
    ({"body": "还" * 40000}, "body_too_large"),
])
def test_bad_articles_are_4xx_in_chinese_and_nothing_is_stored(call, editor, change, code):
    refused = call("POST", BASE, editor, {**ARTICLE, "slug": "refused", **change})
    assert refused.status == 400 and refused.json["error"]["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.json["error"]["message"])
    assert call("GET", f"{BASE}/refused", editor).status == 404


def test_an_unpublished_article_redirects_to_its_replacement_or_says_it_is_offline(api, call, editor, lead):
    for slug in ("gone-guide", "other-guide", "better-guide"):
        call("POST", BASE, editor, {**ARTICLE, "slug": slug})
        call("POST", f"{BASE}/{slug}/submit", editor)
        call("POST", f"{BASE}/{slug}/publish", lead)
    assert call("POST", f"{BASE}/gone-guide/unpublish", lead, {"replacement": "better-guide"}).status == 202
    assert call("POST", f"{BASE}/other-guide/unpublish", lead).status == 202

    moved = api.get("/help/articles/gone-guide", headers={"Accept": "text/html"})
    assert moved.status == 301 and moved.headers["location"] == "/help/articles/better-guide"
    offline = api.get("/help/articles/other-guide", headers={"Accept": "text/html"})
    assert offline.status == 410 and "已下线" in offline.text and "/help" in offline.text
    call("POST", BASE, editor, {**ARTICLE, "slug": "secret-draft"})
    assert api.get("/help/articles/secret-draft", headers={"Accept": "text/html"}).status == 404


def test_a_repeated_create_with_the_same_idempotency_key_makes_one_article(call, editor):
    body = {k: v for k, v in ARTICLE.items()}
    first = call("POST", BASE, editor, body, {"Idempotency-Key": "create-1"})
    again = call("POST", BASE, editor, body, {"Idempotency-Key": "create-1"})
    assert first.status == again.status == 201 and first.json["slug"] == again.json["slug"]
    assert again.headers.get("idempotent-replayed") == "true"
    assert [a["slug"] for a in call("GET", BASE, editor).json["articles"]] == [first.json["slug"]]


def test_the_seed_import_into_dynamodb_runs_once_and_exports_the_seed_files(aws, tmp_path):
    from pathlib import Path

    from chalicelib.content import service
    kb = Path(__file__).resolve().parents[2] / "kb"
    imported, _ = service.import_seed(kb, service.current())
    again, present = service.import_seed(kb, service.current())
    assert len(imported) == len(present) == len(list(kb.glob("*.md"))) and again == []
    service.export_published(tmp_path)
    for seed in sorted(kb.glob("*.md")):
        assert (tmp_path / seed.name).read_text(encoding="utf-8") == seed.read_text(encoding="utf-8"), seed.name
