"""Feedback on articles, zero-result queries per day, /support/kb-gaps, and analytics outages."""
from __future__ import annotations

import datetime as dt
import time
from urllib.parse import quote

import pytest

from tests.search._kb import fixture_index, kb_api  # noqa: F401  (fixtures)


def vote(api, slug, helpful, comment=None):
    body = {"helpful": helpful} if comment is None else {"helpful": helpful, "comment": comment}
    return api.post(f"/kb/articles/{slug}/feedback", json_body=body)


def gaps(api, user, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return api.get(f"/support/kb-gaps{'?' + query if query else ''}", token=user.token)


def zero_search(api, q):
    response = api.get(f"/kb/search?q={quote(q)}")
    assert response.status == 200 and response.json["total"] == 0
    return response


def test_feedback_is_stored_and_counted(kb_api, agent):
    from chalicelib.search import store
    assert vote(kb_api, "fees", False, "没写清楚最低收费").status == 201
    assert vote(kb_api, "fees", False).status == 201
    assert vote(kb_api, "fees", True).status == 201
    assert vote(kb_api, "find-hotline", True).status == 201
    stored = store.votes("fees")
    assert sorted(v["helpful"] for v in stored) == [False, False, True]
    assert "没写清楚最低收费" in [v["comment"] for v in stored]
    least = gaps(kb_api, agent).json["least_helpful_articles"]
    assert least[0] == {"slug": "fees", "title": "转账和提现的手续费", "helpful": 1, "not_helpful": 2,
                        "helpful_ratio": 0.333}
    assert "find-hotline" not in [a["slug"] for a in least]  # never unhelpful


def test_a_signed_in_user_votes_once_per_article(aws, fixture_index, monkeypatch):
    from chalicelib import config
    from chalicelib.edge import errors
    from chalicelib.search import service, store
    monkeypatch.setenv("KB_INDEX_DIR", str(fixture_index))
    config.reload()
    service.reset()
    service.record_feedback("fees", helpful=True, comment=None, user_id="user-1")
    with pytest.raises(errors.Conflict):
        service.record_feedback("fees", helpful=False, comment=None, user_id="user-1")
    assert store.article_feedback() == [{"slug": "fees", "helpful": 1, "not_helpful": 0}]
    service.reset()


@pytest.mark.parametrize("body", [{}, {"helpful": "yes"}, {"helpful": 1}, {"helpful": True, "extra": 1},
                                  {"helpful": True, "comment": "长" * 501}, {"helpful": True, "comment": 5}])
def test_bad_feedback_is_a_400(kb_api, body):
    response = kb_api.post("/kb/articles/fees/feedback", json_body=body)
    assert response.status == 400
    assert response.json["error"]["code"] == "validation_error"


def test_feedback_on_an_unknown_article_is_a_404(kb_api):
    response = vote(kb_api, "no-such-article", True)
    assert response.status == 404
    assert response.json["error"]["code"] == "article_not_found"


def test_zero_result_queries_are_counted_per_day_and_listed_for_support(kb_api, agent, lead):
    from chalicelib.kernel import clock
    from chalicelib.search import service
    clock.freeze(dt.datetime(2026, 11, 20, 4, 0, tzinfo=dt.UTC))
    zero_search(kb_api, "天气预报")
    zero_search(kb_api, "天气预报")
    zero_search(kb_api, "股票开户")
    kb_api.get(f"/kb/search?q={quote('还款')}")  # found something: not a gap
    clock.advance(dt.timedelta(days=1))
    zero_search(kb_api, "天气预报")
    service.flush_analytics()
    body = gaps(kb_api, agent).json
    assert body["to"] == "2026-11-21" and body["from"] == "2026-11-15"
    assert body["zero_result_queries"] == [   # each offers 「写一篇文章」 with the query as a user question
        {"query": "天气预报", "count": 3, "last_seen": "2026-11-21",
         "write_url": f"/agent/kb/new?question={quote('天气预报')}"},
        {"query": "股票开户", "count": 1, "last_seen": "2026-11-20",
         "write_url": f"/agent/kb/new?question={quote('股票开户')}"},
    ]
    # only the last day
    assert [q["query"] for q in gaps(kb_api, lead, days=1).json["zero_result_queries"]] == ["天气预报"]
    assert len(gaps(kb_api, lead, limit=1).json["zero_result_queries"]) == 1


def test_kb_gaps_is_for_support_roles_only(kb_api, alice, agent):
    assert kb_api.get("/support/kb-gaps").status == 401
    response = gaps(kb_api, alice)
    assert response.status == 403
    assert gaps(kb_api, agent).status == 200
    assert gaps(kb_api, agent, limit=0).status == 400
    assert gaps(kb_api, agent, days=32).status == 400


def test_search_answers_when_analytics_store_raises(kb_api, monkeypatch):
    from chalicelib.search import service, store

    def broken(query, *, day):
        raise ConnectionError("dynamodb unreachable")
    monkeypatch.setattr(store, "count_zero_result", broken)
    response = zero_search(kb_api, "天气预报")
    assert response.json["results"] == []
    service.flush_analytics()
    assert kb_api.get(f"/kb/search?q={quote('还款失败')}").json["results"][0]["slug"] == "repayment-failed"


def test_search_does_not_wait_for_a_slow_analytics_store(kb_api, monkeypatch):
    from chalicelib.search import service, store
    monkeypatch.setattr(store, "count_zero_result", lambda query, *, day: time.sleep(1.5))
    started = time.perf_counter()
    zero_search(kb_api, "天气预报")
    assert time.perf_counter() - started < 1.0
    service.flush_analytics()


def test_search_answers_when_the_analytics_table_is_gone(kb_api):
    from chalicelib.adapters import aws
    from chalicelib.config import settings
    from chalicelib.search import service, store
    aws.client("dynamodb").delete_table(TableName=settings().kb_table)
    zero_search(kb_api, "天气预报")
    service.flush_analytics()
    assert not store.analytics_available()  # the outage is remembered: no retry storm
    zero_search(kb_api, "股票开户")
    assert kb_api.get(f"/kb/search?q={quote('还款')}").status == 200


def test_feedback_is_rate_limited_per_caller(kb_api, monkeypatch):
    from chalicelib import config
    from chalicelib.search import store
    monkeypatch.setenv("RATE_LIMITS", "kb_feedback=2/3600")
    config.reload()
    assert vote(kb_api, "fees", True).status == 201
    assert vote(kb_api, "fees", True).status == 201
    refused = vote(kb_api, "fees", True)
    assert refused.status == 429 and int(refused.headers["retry-after"]) > 0
    assert len(store.votes("fees")) == 2          # the refused vote was not stored
