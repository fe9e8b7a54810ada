"""Search signals (#13): recorded without personal data, exported, learned from at build, and
never making a knowledge-base question worse."""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from chalicelib.kernel.schema import as_body
from tests.search._kb import FIXTURES, fixture_index, kb, kb_api  # noqa: F401  (fixtures)


def recorded():
    from chalicelib.config import settings
    from chalicelib.kernel import clock
    from chalicelib.search import service, store

    service.flush_analytics()
    day = clock.local_now(settings().time_zone).date().isoformat()
    return sorted((s["kind"], s["slug"], s["query"], s["count"]) for s in store.signals([day]))


@pytest.mark.parametrize("query", [
    "我的手机13812345678还款失败", "卡号 6222 0212 3456 7890 扣款了", "身份证11010519491231002x",
    "138-1234-5678", "验证码 482913", "邮箱 zhang.san@example.com 收不到",
])
def test_personal_looking_queries_are_never_stored(query):
    from chalicelib.search import signals
    assert signals.looks_personal(query)
    assert not signals.valid(query, "fees", "click")


@pytest.mark.parametrize("query", ["12363", "95188打不通", "花呗还款失败", "提现 0.1% 手续费", "iphone 15 怎么绑卡"])
def test_ordinary_queries_are_kept(query):
    from chalicelib.search import signals
    assert not signals.looks_personal(query)


def test_clicks_votes_and_cases_are_recorded_without_the_user(kb_api):
    # a result opened from /help/search, the JavaScript click event, a vote after the search, a case
    assert kb_api.get(f"/help/articles/fees?q={quote('提现要钱吗')}").status == 200
    assert kb_api.post("/kb/signals", json_body={"query": "提现要钱吗", "slug": "fees", "kind": "click"}).status == 202
    assert kb_api.post("/kb/articles/fees/feedback", json_body={"helpful": True, "query": "提现要钱吗"}).status == 201
    assert kb_api.post("/kb/signals", json_body={"query": "还款一直失败", "slug": "repayment-failed",
                                                 "kind": "case"}).status == 202
    assert kb_api.get("/help/articles/fees").status == 200  # not from a search: nothing to record
    assert recorded() == [("case", "repayment-failed", "还款一直失败", 1), ("click", "fees", "提现要钱吗", 2),
                          ("helpful", "fees", "提现要钱吗", 1)]


def test_personal_queries_and_unknown_articles_are_accepted_but_not_stored(kb_api):
    for body in ({"query": "我的卡号6222021234567890", "slug": "fees", "kind": "click"},
                 {"query": "提现", "slug": "no-such-article", "kind": "click"}):
        assert kb_api.post("/kb/signals", json_body=body).status == 202
    assert kb_api.get(f"/help/articles/fees?q={quote('手机 13812345678')}").status == 200
    assert kb_api.post("/kb/articles/fees/feedback",
                       json_body={"helpful": False, "query": "身份证 110105194912310021"}).status == 201
    assert recorded() == []


@pytest.mark.parametrize("body", [{}, {"query": "提现", "slug": "fees"},
                                  {"query": "提现", "slug": "fees", "kind": "like"},
                                  {"query": "", "slug": "fees", "kind": "click"},
                                  {"query": "长" * 201, "slug": "fees", "kind": "click"},
                                  {"query": "提现", "slug": "fees", "kind": "click", "user": "u1"}])
def test_a_bad_signal_is_a_400(kb_api, body):
    response = kb_api.post("/kb/signals", json_body=body)
    assert response.status == 400 and response.json["error"]["code"]


def test_export_writes_the_build_format(kb_api, tmp_path):
    from chalicelib.search.__main__ import main
    kb_api.post("/kb/signals", json_body={"query": "提现要钱吗", "slug": "fees", "kind": "click"})
    kb_api.post("/kb/signals", json_body={"query": "提现要钱吗", "slug": "fees", "kind": "click"})
    kb_api.post("/kb/signals", json_body={"query": "还款一直失败", "slug": "repayment-failed", "kind": "case"})
    kb_api.post("/kb/articles/fees/feedback", json_body={"helpful": True, "query": "提现要钱吗"})
    recorded()
    out = tmp_path / "signals.jsonl"
    assert main(["export-signals", "--days", "3", "--out", str(out)]) == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted((s["kind"], s["slug"], s["query"], s.get("count", 1)) for s in lines) == [
        ("click", "fees", "提现要钱吗", 2), ("helpful", "fees", "提现要钱吗", 1),
        ("not_helpful", "repayment-failed", "还款一直失败", 1)]  # a case after a search: the article did not help
    assert all(set(s) <= {"query", "slug", "kind", "at", "count"} and s["at"] for s in lines)


def write_signals(path, rows):
    path.write_text("".join(json.dumps({"query": q, "slug": slug, "kind": kind, "at": "2026-11-30"},
                                       ensure_ascii=False) + "\n" for q, slug, kind in rows), encoding="utf-8")
    return path


def ranks(index_dir, queries):
    from chalicelib.search.index import KbIndex
    kb = KbIndex(index_dir)
    out = {}
    for query, slug in queries:
        hits, _, _ = kb.search(query, limit=50)
        slugs = [kb.stored(h.docnum)["slug"] for h in hits]
        out[(query, slug)] = slugs.index(slug) if slug in slugs else 99
    return out


def test_build_with_signals_learns_recurring_questions(tmp_path):
    from chalicelib.search.__main__ import main
    signals = write_signals(tmp_path / "s.jsonl", [
        ("钱转不出来要扣多少", "fees", "click"), ("钱转不出来要扣多少！", "fees", "click"),
        ("钱转不出来要扣多少", "fees", "helpful"),
        ("往卡里转要扣钱不", "fees", "click"),  # once: not yet a recurring question
        ("我的手机13812345678", "fees", "click"), ("我的手机13812345678", "fees", "click"),
        ("我的手机13812345678", "fees", "click"),  # personal: skipped by the build too
    ])
    plain, learned = tmp_path / "plain", tmp_path / "learned"
    assert main(["build", "--source", str(FIXTURES), "--out", str(plain)]) == 0
    assert main(["build", "--source", str(FIXTURES), "--out", str(learned), "--signals", str(signals)]) == 0
    model = json.loads((learned / "learned.json").read_text(encoding="utf-8"))
    assert model["pairs"] == 2 and "13812345678" not in json.dumps(model, ensure_ascii=False)
    assert list(model["queries"]) == ["钱转不出来要扣多少"]
    # the article shares no word with the question, yet users keep finding it for that question
    query = "钱转不出来，要扣多少？"
    assert ranks(plain, [(query, "fees")])[(query, "fees")] > 0
    assert ranks(learned, [(query, "fees")])[(query, "fees")] == 0


def test_a_bad_signals_file_stops_the_build_and_keeps_the_old_index(tmp_path, capsys):
    from chalicelib.search.__main__ import main
    out = tmp_path / "index"
    assert main(["build", "--source", str(FIXTURES), "--out", str(out)]) == 0
    before = (out / "meta.json").read_text(encoding="utf-8")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query": "提现", "slug": "fees", "kind": "click"}\n'
                   '{"query": "提现", "slug": "fees", "kind": "like"}\n', encoding="utf-8")
    assert main(["build", "--source", str(FIXTURES), "--out", str(out), "--signals", str(bad)]) == 1
    assert "bad.jsonl:2" in capsys.readouterr().err
    assert (out / "meta.json").read_text(encoding="utf-8") == before


def test_signals_never_make_a_knowledge_base_question_worse(tmp_path):
    """Half of each article's test questions clicked (three times each, and once on the wrong
    article, as users do); no test question ranks its article lower than without signals."""
    from chalicelib.search.build import build
    from tests.search.test_kb_articles import KB, QUERIES

    cases = [(q, slug) for slug, qs in QUERIES.items() for q in qs]
    rows = [(q, slug, "click") for slug, qs in QUERIES.items() for q in qs[::2]] * 3
    slugs = list(QUERIES)
    rows += [(qs[0], slugs[(i + 1) % len(slugs)], "click")
             for i, (slug, qs) in enumerate(QUERIES.items()) if i % 4 == 0]
    signals = write_signals(tmp_path / "s.jsonl", rows)
    build(KB, tmp_path / "plain")
    build(KB, tmp_path / "learned", signals=signals)
    before, after = ranks(tmp_path / "plain", cases), ranks(tmp_path / "learned", cases)
    worse = {case: (before[case], after[case]) for case in cases if after[case] > before[case]}
    assert not worse, worse
    assert all(rank == 0 for rank in after.values())


def test_results_are_never_cut_below_the_limit_while_articles_match(kb):
    # 还款失败: one article is about it, one shares 还款, and 花呗's repayment article only
    # shares a character — listed all the same, marked weak (the help centre's "可能相关")
    body = as_body(kb.search("还款失败", limit=50))
    assert [(r["slug"], r.get("weak", False)) for r in body["results"]] == [
        ("repayment-failed", False), ("repayment-delay", False), ("huabei-repay", True)]
    assert body["total"] == 3
    few = as_body(kb.search("还款失败", limit=2))
    assert [r["slug"] for r in few["results"]] == ["repayment-failed", "repayment-delay"] and few["total"] == 3


def test_a_rebuilt_model_in_s3_is_picked_up_without_a_redeploy(aws, fixture_index, tmp_path, monkeypatch):
    from chalicelib import config
    from chalicelib.adapters import aws as aws_clients
    from chalicelib.search import service
    from chalicelib.search.build import build

    learned = tmp_path / "learned"
    build(FIXTURES, learned, signals=write_signals(tmp_path / "s.jsonl", [("钱转不出来要扣多少", "fees", "click")] * 3))
    s3 = aws_clients.client("s3")
    s3.create_bucket(Bucket="kb-models", CreateBucketConfiguration={"LocationConstraint": config.settings().region})
    s3.put_object(Bucket="kb-models", Key="learned.json", Body=(learned / "learned.json").read_bytes())
    monkeypatch.setenv("KB_INDEX_DIR", str(fixture_index))  # built without signals
    config.reload()
    service.reset()
    first = [r.slug for r in service.search("钱转不出来要扣多少").results]   # the deployed index alone
    monkeypatch.setenv("KB_LEARNED_URI", "s3://kb-models/learned.json")
    monkeypatch.setenv("KB_LEARNED_REFRESH_SECONDS", "300")
    config.reload()
    service.reset()
    try:
        # a container's first search only arms the check (a cold start loads no boto3); the
        # next one starts the fetch on a background thread (it never waits for it)
        service.search("钱转不出来要扣多少")
        service.search("钱转不出来要扣多少")
        service.wait_for_learned()
        after = [r.slug for r in service.search("钱转不出来要扣多少").results]
        assert "fees" not in first[:1] and after[0] == "fees"
        # checked again only after the interval: a newer object is not fetched on every search
        s3.delete_object(Bucket="kb-models", Key="learned.json")
        service.search("钱转不出来要扣多少")
        service.wait_for_learned()
        assert [r.slug for r in service.search("钱转不出来要扣多少").results][0] == "fees"
    finally:
        service.flush_analytics()
        service.reset()


SCHEDULED_EVENT = {"id": "evt", "detail-type": "Scheduled Event", "source": "aws.events",
                   "time": "2026-11-30T18:00:00Z", "region": "ap-southeast-1", "resources": [],
                   "detail": {}, "account": "123456789012", "version": "0"}


def test_the_daily_rebuild_learns_from_recorded_signals_and_searches_pick_it_up(kb_api, monkeypatch):
    from chalicelib import config
    from chalicelib.adapters import aws as aws_clients
    from chalicelib.routes.knowledge_base import relearn_kb
    from chalicelib.search import service

    question = "钱转不出来要扣多少"
    before = [r["slug"] for r in kb_api.get(f"/kb/search?q={quote(question)}").json["results"]]
    for _ in range(3):  # users asked this and opened the fees article each time
        assert kb_api.post("/kb/signals", json_body={"query": question, "slug": "fees", "kind": "click"}).status == 202
    service.flush_analytics()
    relearn_kb(SCHEDULED_EVENT, None)  # no KB_LEARNED_URI (local stage): nothing to write, no error

    s3 = aws_clients.client("s3")
    s3.create_bucket(Bucket="kb-models", CreateBucketConfiguration={"LocationConstraint": config.settings().region})
    monkeypatch.setenv("KB_LEARNED_URI", "s3://kb-models/kb/learned.json")
    config.reload()
    service.reset()
    try:
        relearn_kb(SCHEDULED_EVENT, None)
        model = json.loads(s3.get_object(Bucket="kb-models", Key="kb/learned.json")["Body"].read())
        assert model["signals"] == 3 and model["pairs"] == 1
        for _ in range(2):  # the first search of a container arms the check, the next one fetches
            kb_api.get(f"/kb/search?q={quote(question)}")
        service.wait_for_learned()
        after = [r["slug"] for r in kb_api.get(f"/kb/search?q={quote(question)}").json["results"]]
        assert before[:1] != ["fees"] and after[0] == "fees"
    finally:
        service.flush_analytics()
        service.reset()
