"""The live index (#23 "publishing is live in seconds, never half-done"): builds ordered by their sequence, the
pointer moving forward only, a failed build keeping the live index, containers swapping whole indexes.

Fast tier: the in-memory store twin (``live_memory_store``) and queues, no moto; the refresher is driven by
calling its step with an injected clock, never by waiting on the wall clock."""
from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from tests.search._kb import FIXTURES, fixture_index  # noqa: F401  (fixtures)

pytestmark = pytest.mark.unit

QUESTION = "收费标准"
UNIMPORTABLE = {"account-compromised"}   # its body holds a <script> tag (the search sanitiser's test article)


def fees_version(n: int) -> str:
    """The fixtures' fees article as an editor's n-th published version (title and body carry n)."""
    return (f"---\nslug: fees\ntitle: 转账和提现的手续费（第{n}版）\ncategory: repayment\n"
            f"questions:\n  - 提现要收费吗\ntags: [手续费, 提现]\n---\n"
            f"第{n}版收费标准：提现到银行卡超过免费额度后收取 0.1% 手续费。\n")


def sources(fees: str | None = None, **replace: str) -> list[tuple[str, str]]:
    found = [(p.stem, p.read_text(encoding="utf-8")) for p in sorted(FIXTURES.glob("*.md"))]
    if fees is not None:
        replace["fees"] = fees
    return [(slug, replace.get(slug, text)) for slug, text in found]


@pytest.fixture
def store(monkeypatch, tmp_path):
    """The live store's in-memory twin and in-memory queues; the published set = the search fixtures imported
    into the content domain's in-memory twin (what ``make serve`` does with kb/)."""
    from chalicelib import config
    from chalicelib.adapters import queues, unit_of_work
    from chalicelib.content import service as content
    from chalicelib.content import store as content_store
    from chalicelib.content.memory_store import InMemoryContentStore
    from chalicelib.kernel import clock
    from chalicelib.search import live_store
    from chalicelib.search.live_memory_store import InMemoryLiveStore

    # analytics events stay in this process (no AWS in the fast tier)
    monkeypatch.setattr("chalicelib.adapters.events.record", lambda kind, **fields: None)
    twin, sent = InMemoryLiveStore(), queues.InMemoryQueues()
    previous = live_store.use(twin)
    queues.use(sent)
    content_store.use(InMemoryContentStore())
    unit_of_work.use_memory()
    config.reload()
    clock.freeze(clock.parse("2026-12-09T02:30:00Z"))
    seed = tmp_path / "seed"      # the content domain refuses raw HTML: the sanitiser's fixture stays out
    seed.mkdir()
    for path in FIXTURES.glob("*.md"):
        if path.stem not in UNIMPORTABLE:
            shutil.copyfile(path, seed / path.name)
    content.import_seed(seed, content.current())
    twin.sent = sent.sent
    yield twin
    clock.reset()
    unit_of_work.use_memory(False)
    content_store.use(None)
    queues.use(None)
    live_store.use(previous)
    config.reload()


@pytest.fixture(scope="module")
def archives():
    """Built once: the fixtures with fees at version 1 and at version 2 (real index builds)."""
    from chalicelib.search import builds
    return {n: builds.build_archive(sources(fees_version(n)))[0] for n in (1, 2)}


def fake_archive(monkeypatch, archive: bytes = b"index") -> None:
    from chalicelib.search import builds
    monkeypatch.setattr(builds, "build_archive", lambda found: (archive, len(found)))


# --------------------------------------------------------------- queueing and the pointer's rule
def test_a_queued_build_is_recorded_with_who_and_why_and_sent_to_the_build_queue(store):
    from chalicelib.search import builds, service

    build_id = service.queue_build("发布 fees 第 2 版", requested_by="lead")
    status = service.build_status(build_id)
    assert status.status == "queued" and status.requested_by == "lead" and status.why == "发布 fees 第 2 版"
    assert "排队" in status.message and status.finished_at is None
    assert [(queue, json.loads(body)) for queue, body, _ in store.sent] == [
        ("repaydesk-dev-kb-build", {"build": build_id})]
    assert builds.get(build_id).seq == 1 and builds.get(service.queue_build("again")).seq == 2


def test_an_older_build_never_replaces_a_newer_one_when_two_publishes_race(store, monkeypatch):
    from chalicelib.search import builds, service

    fake_archive(monkeypatch)
    older, newer = service.queue_build("first publish"), service.queue_build("second publish")
    assert builds.run(newer, sources=[]) == "live"          # the later publish finished first
    assert builds.run(older, sources=[]) == "superseded"    # already contained in the newer one
    assert store.live()["build_id"] == newer
    assert service.build_status(older).status == "live"     # its change is live (in the newer build)
    assert "随后的一次发布" in service.build_status(older).message
    # …and raced at the pointer itself (both built, the older one writes last): still the newer one
    third, fourth = service.queue_build("3"), service.queue_build("4")
    seq3, seq4 = builds.get(third).seq, builds.get(fourth).seq
    assert store.advance(seq4, fourth, "builds/4", "t") and not store.advance(seq3, third, "builds/3", "t")
    assert not store.advance(seq4, fourth, "builds/4", "t")  # the same build twice neither
    assert store.live()["build_id"] == fourth


def test_an_older_build_arriving_after_a_newer_one_is_live_is_not_even_built(store, monkeypatch):
    from chalicelib.search import builds, service

    fake_archive(monkeypatch)
    older, newer = service.queue_build("a"), service.queue_build("b")
    builds.run(newer, sources=[])
    monkeypatch.setattr(builds, "build_archive", lambda found: pytest.fail("built a superseded build"))
    assert builds.run(older, sources=[]) == "superseded"
    assert builds.run(newer, sources=[]) == "live"   # a second delivery of a finished build changes nothing
    assert len(store.archives) == 1


def test_the_replaced_archive_is_tagged_for_the_buckets_expiry_and_the_live_one_never(store, monkeypatch):
    from chalicelib.search import builds, service

    fake_archive(monkeypatch)
    first, second = service.queue_build("a"), service.queue_build("b")
    builds.run(first, sources=[])
    builds.run(second, sources=[])
    live_key = store.live()["key"]
    assert set(store.archives) == {builds.get(first).key, live_key}
    assert store.tags == {builds.get(first).key: {"Key": "superseded", "Value": "true"}}


# --------------------------------------------------------------- failed builds
def test_a_bad_article_fails_the_build_says_why_in_chinese_and_keeps_the_live_index(store, monkeypatch):
    from chalicelib.search import builds, service

    fake_archive(monkeypatch, b"good")
    good = service.queue_build("good")
    builds.run(good, sources=[])
    monkeypatch.undo()   # the real build: the article is refused before anything is built
    bad = service.queue_build("bad")
    broken = "---\nslug: fees\ncategory: repayment\n---\n没有标题的文章\n"
    assert builds.run(bad, sources=sources(broken)) == "failed"
    status = service.build_status(bad)
    assert status.status == "failed"
    assert "fees" in status.message and "缺少标题" in status.message and "上一版" in status.message
    assert "title is required" not in status.message          # the build's own English stays in the log
    assert store.live()["build_id"] == good and list(store.archives.values()) == [b"good"]


def test_two_articles_with_one_slug_fail_the_build(store):
    from chalicelib.search import builds, service

    bad = service.queue_build("dup")
    assert builds.run(bad, sources=[*sources(), ("fees-copy", sources()[1][1])]) == "failed"
    assert "重复" in service.build_status(bad).message and store.live() is None


def test_an_empty_published_set_never_goes_live(store):
    from chalicelib.search import builds, service

    empty = service.queue_build("nothing")
    assert builds.run(empty, sources=[]) == "failed" and store.live() is None
    assert "没有已发布的文章" in service.build_status(empty).message


def test_an_unexpected_error_is_recorded_raised_for_a_retry_and_a_retry_can_still_go_live(store, monkeypatch):
    from chalicelib.search import builds, service

    build_id = service.queue_build("x")

    def broken(found):
        raise OSError("disk full")
    monkeypatch.setattr(builds, "build_archive", broken)
    with pytest.raises(OSError):
        builds.run(build_id, sources=[])
    status = service.build_status(build_id)
    assert status.status == "failed" and "线上仍是上一版" in status.message and "disk" not in status.message
    assert store.live() is None
    fake_archive(monkeypatch)
    assert builds.run(build_id, sources=[]) == "live"         # SQS delivered it again
    assert service.build_status(build_id).status == "live"


def test_an_unknown_build_is_a_404_in_chinese(store):
    from chalicelib.edge import errors
    from chalicelib.search import service

    with pytest.raises(errors.NotFound) as refused:
        service.build_status("kb99-abcdef")
    assert refused.value.code == "build_not_found"


# --------------------------------------------------------------- the container's refresher
def test_the_refresher_looks_at_most_once_per_interval_and_not_on_the_cold_start(store, tmp_path):
    from chalicelib.search import live

    now = [100.0]
    looks = []
    refresher = live.Refresher(interval=5, install=lambda index, pointer: None, now=lambda: now[0],
                               root=tmp_path)
    refresher.step = lambda: looks.append(now[0]) or False      # count the looks, fetch nothing
    refresher.maybe_start()                                     # the container's first search: arms only
    assert looks == []
    for t in (100.0, 101.0, 104.9, 105.0, 106.0, 110.5):
        now[0] = t
        refresher.maybe_start()
        refresher.wait()
    assert looks == [100.0, 105.0, 110.5]


def test_a_container_swaps_to_a_newer_build_and_a_search_sees_one_whole_index(store, archives, fixture_index,
                                                                             monkeypatch, tmp_path):
    from chalicelib import config
    from chalicelib.search import service

    store.archives.update({"builds/1": archives[1], "builds/2": archives[2]})
    monkeypatch.setenv("KB_INDEX_DIR", str(fixture_index))
    monkeypatch.setenv("KB_LIVE_REFRESH_SECONDS", "3600")    # armed, never due: the test drives the steps
    monkeypatch.setattr("chalicelib.search.store.count_zero_result", lambda query, *, day: None)
    config.reload()
    service.reset()
    try:
        packaged = service.kb_index()
        refresher = service._refresher
        refresher.root = tmp_path / "live"
        assert not refresher.step()                            # no pointer yet: the packaged index stays
        seen, failures, stop = set(), [], threading.Event()
        searched, done = threading.Condition(), [0]

        def searching():
            while not stop.is_set():
                with searched:
                    done[0] += 1
                    searched.notify_all()
                try:
                    for hit in service.search(QUESTION).results:
                        if hit.slug == "fees":    # title and snippet of one search come from one build
                            title_version = hit.title.partition("第")[2][:1] or "0"
                            snippet_version = hit.snippet.partition("第")[2][:1] or "0"
                            assert title_version == snippet_version, (hit.title, hit.snippet)
                            seen.add(title_version)
                except Exception as exc:  # noqa: BLE001  (any error is a failure of the swap)
                    with searched:
                        failures.append(exc)
                        searched.notify_all()
                    return
        threads = [threading.Thread(target=searching) for _ in range(3)]
        for thread in threads:
            thread.start()
        try:
            for n in (1, 2):
                assert store.advance(n, f"b{n}", f"builds/{n}", "t")
                assert refresher.step()                         # fetched, opened, installed
                assert service.search(QUESTION).results[0].title.endswith(f"（第{n}版）")
                assert not refresher.step()                     # nothing newer: nothing fetched
                with searched:   # let every searcher run whole searches on this build too
                    target = done[0] + 6
                    searched.wait_for(lambda target=target: done[0] >= target or bool(failures))
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        assert failures == [] and {"1", "2"} <= seen
        assert service.kb_index() is not packaged and refresher.seq == 2
        assert len(list((tmp_path / "live").iterdir())) <= 2   # older builds' folders are removed
    finally:
        service.flush_analytics()
        service.reset()
        config.reload()


def test_a_broken_archive_keeps_the_index_in_use(store, archives, fixture_index, monkeypatch, tmp_path):
    from chalicelib import config
    from chalicelib.search import service

    store.archives.update({"builds/1": archives[1], "builds/2": b"not a gzip"})
    monkeypatch.setenv("KB_INDEX_DIR", str(fixture_index))
    monkeypatch.setenv("KB_LIVE_REFRESH_SECONDS", "3600")
    config.reload()
    service.reset()
    try:
        service.kb_index()
        service._refresher.root = tmp_path / "live"
        store.advance(1, "b1", "builds/1", "t")
        assert service._refresher.step()
        store.advance(2, "b2", "builds/2", "t")
        assert not service._refresher.step()                  # logged; version 1 goes on serving
        assert service.kb_index().stored(service.kb_index().docnum_for("fees"))["title"].endswith("（第1版）")
    finally:
        service.reset()
        config.reload()


def test_the_click_learned_ranking_keeps_working_across_a_rebuild(store, archives, fixture_index, monkeypatch,
                                                                 tmp_path):
    from chalicelib import config
    from chalicelib.search import learned_store, live, service
    from chalicelib.search.build import build
    from chalicelib.search.index import KbIndex
    from tests.search.test_signals import write_signals

    taught = tmp_path / "taught"
    build(FIXTURES, taught, signals=write_signals(tmp_path / "s.jsonl", [("钱转不出来要扣多少", "fees", "click")] * 3))
    body = (taught / "learned.json").read_bytes()
    shutil.rmtree(taught)
    monkeypatch.setattr(learned_store, "fetch", lambda uri, etag: None if etag else (body, "v1"))
    monkeypatch.setattr("chalicelib.search.store.count_zero_result", lambda query, *, day: None)
    monkeypatch.setenv("KB_INDEX_DIR", str(fixture_index))
    monkeypatch.setenv("KB_LEARNED_URI", "s3://kb-models/learned.json")
    monkeypatch.setenv("KB_LIVE_REFRESH_SECONDS", "3600")
    config.reload()
    service.reset()
    try:
        service.search("钱转不出来要扣多少")
        service.search("钱转不出来要扣多少")
        service.wait_for_learned()
        assert service.search("钱转不出来要扣多少").results[0].slug == "fees"
        service._refresher.root = tmp_path / "live"
        store.archives["builds/1"] = archives[1]     # built from the articles alone, no signals
        store.advance(1, "b1", "builds/1", "t")
        assert service._refresher.step()
        rebuilt = service.search("钱转不出来要扣多少").results
        assert rebuilt[0].slug == "fees" and rebuilt[0].title.endswith("（第1版）")
        # …which is the learned model's doing: the same build alone ranks another article first
        alone = KbIndex(live.unpack(archives[1], tmp_path / "alone"))
        hits, _, _ = alone.search("钱转不出来要扣多少", category=None, limit=3)
        assert alone.stored(hits[0].docnum)["slug"] != "fees"
    finally:
        service.flush_analytics()
        service.reset()
        config.reload()


def test_the_archive_holds_a_whole_index_folder(archives, tmp_path):
    from chalicelib.search import live
    from chalicelib.search.index import KbIndex

    folder = live.unpack(archives[2], tmp_path / "two")
    index = KbIndex(folder)
    assert index.doc_count == len(list(Path(FIXTURES).glob("*.md")))
    assert index.stored(index.docnum_for("fees"))["title"] == "转账和提现的手续费（第2版）"
    with pytest.raises(FileExistsError):   # never unpacked over a folder in use
        live.unpack(archives[2], folder)


# --------------------------------------------------------------- the published set comes from the content domain
def test_a_publish_in_content_queues_a_build_that_indexes_the_published_text_and_never_a_draft(store, tmp_path):
    from chalicelib.content import schemas as content_schemas
    from chalicelib.content import service as content
    from chalicelib.search import builds, live, service
    from chalicelib.search.index import KbIndex
    from tests.content.conftest import EDITOR, LEAD

    def change(body: str) -> content_schemas.ArticleChange:
        shown = content.get_article(EDITOR, "fees", content.current()).text
        return content_schemas.ArticleChange(title=shown.title, category=shown.category, body=body,
                                             tags=list(shown.tags), questions=list(shown.questions))

    def indexed_body(build_id: str, folder: str) -> str:
        archive = store.archives[builds.get(build_id).key]
        index = KbIndex(live.unpack(archive, tmp_path / folder))
        return str(index.stored(index.docnum_for("fees")))

    content.save_draft(EDITOR, "fees", change("本月起提现可领取熊猫积分兑换券。"), None, content.current())
    content.submit(EDITOR, "fees", "新活动", content.current())
    published = content.publish(LEAD, "fees", content.current())
    assert published.build_id is not None
    status = service.build_status(published.build_id)
    assert (status.status, status.requested_by, status.why) == ("queued", "lead", "publish fees v2")

    assert builds.run(published.build_id) == "live"          # no sources passed: the content facade's set
    assert service.build_status(published.build_id).articles == len(content.published_sources())
    assert "熊猫积分兑换券" in indexed_body(published.build_id, "v2")

    # a later draft (saved, even submitted) is not in the next build: users never find it
    content.save_draft(EDITOR, "fees", change("草稿：尚未审核的新收费规则。"), None, content.current())
    content.submit(EDITOR, "fees", None, content.current())
    later = service.queue_build("another article's publish", requested_by="lead")
    assert builds.run(later) == "live"
    text = indexed_body(later, "v3")
    assert "熊猫积分兑换券" in text and "尚未审核" not in text
