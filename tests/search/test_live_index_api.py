"""The live index over HTTP, on moto: an article edited by an editor and published by a lead through the content API
queues a build that goes through the build queue and the
build function (DynamoDB pointer, S3 archive); the container's refresher picks it up and /kb/search finds the new
wording. ``GET /support/kb/builds/{id}``: staff only, 404 for an unknown build."""
from __future__ import annotations

import json
import shutil
from urllib.parse import quote

import pytest

from tests.search._kb import FIXTURES, fixture_index, kb_api  # noqa: F401  (fixtures)

NEW_WORDING = "熊猫积分兑换券"
BASE = "/support/kb/articles"


def sqs_event(queue_url: str, bodies: list[str]) -> dict:
    return {"Records": [{"messageId": f"m{n}", "receiptHandle": f"r{n}", "body": body, "attributes": {},
                         "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                         "eventSourceARN": "arn:aws:sqs:ap-southeast-1:123456789012:" + queue_url.rsplit("/", 1)[-1],
                         "awsRegion": "ap-southeast-1"} for n, body in enumerate(bodies)]}


@pytest.fixture
def editor(make_user):
    return make_user("editor", role="kb-editor", phone="+8613800138005")


def test_a_published_change_is_found_by_search_after_the_build_function_runs(kb_api, editor, lead, alice, agent,
                                                                            monkeypatch, tmp_path):
    from chalicelib import config
    from chalicelib.adapters import aws as aws_clients
    from chalicelib.content import service as content
    from chalicelib.routes.knowledge_base import build_kb_index
    from chalicelib.search import service

    seed = tmp_path / "kb"      # the seed make serve imports (content refuses the sanitiser's <script> fixture)
    seed.mkdir()
    for path in FIXTURES.glob("*.md"):
        if path.stem != "account-compromised":
            shutil.copyfile(path, seed / path.name)
    content.import_seed(seed, content.current())
    monkeypatch.setenv("KB_LIVE_REFRESH_SECONDS", "3600")   # armed; the test drives the refresher's step
    config.reload()
    service.reset()
    try:
        before = kb_api.get(f"/kb/search?q={quote(NEW_WORDING)}").json
        assert "fees" not in [r["slug"] for r in before["results"]][:1]

        article = kb_api.get(f"{BASE}/fees", token=editor.token).json
        text = article["text"]
        saved = kb_api.request("PUT", f"{BASE}/fees", token=editor.token, headers={"If-Match": str(article["version"])},
                               json_body={**{k: text[k] for k in ("title", "category", "tags", "questions")},
                                          "body": text["body"] + f"\n\n本月起可领取{NEW_WORDING}。", "note": "新活动"})
        assert saved.status == 200, saved.json
        assert kb_api.post(f"{BASE}/fees/submit", token=editor.token, json_body={}).status == 200
        published = kb_api.post(f"{BASE}/fees/publish", token=lead.token)
        assert published.status == 202
        build_id = published.json["build_id"]
        status = kb_api.get(f"/support/kb/builds/{build_id}", token=lead.token)
        assert status.status == 200 and status.json["status"] == "queued" and status.json["requested_by"] == "lead"
        assert kb_api.get(f"/support/kb/builds/{build_id}", token=alice.token).status == 403
        assert kb_api.get(f"/support/kb/builds/{build_id}").status == 401
        missing = kb_api.get("/support/kb/builds/kb99-000000", token=agent.token)
        assert missing.status == 404 and missing.json["error"]["code"] == "build_not_found"

        sqs = aws_clients.client("sqs")        # the message the build function receives
        url = sqs.get_queue_url(QueueName=config.settings().kb_build_queue)["QueueUrl"]
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        assert [json.loads(m["Body"]) for m in received] == [{"build": build_id}]
        build_kb_index(sqs_event(url, [m["Body"] for m in received]), None)

        done = kb_api.get(f"/support/kb/builds/{build_id}", token=lead.token).json
        assert done["status"] == "live" and done["articles"] == len(list(seed.glob("*.md")))
        s3 = aws_clients.client("s3")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=config.settings().kb_index_bucket)["Contents"]]
        assert len(keys) == 1 and keys[0].startswith("builds/") and build_id in keys[0]

        service._refresher.root = tmp_path / "live"
        assert service._refresher.step()
        after = kb_api.get(f"/kb/search?q={quote(NEW_WORDING)}").json
        assert after["results"][0]["slug"] == "fees" and "<mark>" in after["results"][0]["snippet"]
    finally:
        service.flush_analytics()
        service.reset()
