"""Satisfaction on confirm, evidence attachments in S3, and new messages since a cursor (#12)."""
from __future__ import annotations

import base64
import json

import pytest
import requests

PNG = (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)


def _resolved(api, user, agent, open_case) -> str:
    case_id = open_case(user)["case_id"]
    assert api.post(f"/support/cases/{case_id}/resolve", token=agent.token,
                    json_body={"summary": "已到账"}).status == 200
    return case_id


# ---------------------------------------------------------------- CSAT
def test_confirm_with_a_rating_stores_it_once_and_staff_see_it(api, alice, agent, clock, open_case):
    case_id = _resolved(api, alice, agent, open_case)
    confirmed = api.post(f"/support/cases/{case_id}/confirm", token=alice.token,
                         json_body={"rating": 4, "comment": "  处理得很快 "})
    assert confirmed.status == 200, confirmed.text
    assert confirmed.json["status"] == "closed"
    assert confirmed.json["satisfaction"]["rating"] == 4
    assert confirmed.json["satisfaction"]["comment"] == "处理得很快"

    staff_view = api.get(f"/support/cases/{case_id}", token=agent.token).json
    assert staff_view["satisfaction"]["rating"] == 4 and staff_view["satisfaction"]["comment"] == "处理得很快"
    assert "满意度 4/5" in staff_view["timeline"][-1]["reason"]
    export = api.get(f"/support/cases/{case_id}/export", token=agent.token).json
    assert export["satisfaction"]["rating"] == 4
    assert "满意度" in api.get(f"/support/cases/{case_id}/export.html", token=agent.token).text

    # Once: a second rating of the same case is refused and the first one stays.
    again = api.post(f"/support/cases/{case_id}/satisfaction", token=alice.token, json_body={"rating": 1})
    assert again.status == 409 and again.json["error"]["code"] == "already_rated"
    assert api.get(f"/support/cases/{case_id}", token=alice.token).json["satisfaction"]["rating"] == 4


@pytest.mark.parametrize("body, field", [
    ({"rating": 0}, "rating"), ({"rating": 6}, "rating"), ({"rating": "5"}, "rating"), ({"rating": 4.5}, "rating"),
    ({"comment": "没有评分"}, "rating"), ({"rating": 3, "comment": "长" * 501}, "comment"),
    ({"rating": 3, "extra": 1}, "extra"),
])
def test_bad_ratings_are_refused_and_the_case_stays_resolved(api, alice, agent, clock, open_case, body, field):
    case_id = _resolved(api, alice, agent, open_case)
    refused = api.post(f"/support/cases/{case_id}/confirm", token=alice.token, json_body=body)
    assert refused.status == 400, refused.text
    assert refused.json["error"]["field"] == field
    view = api.get(f"/support/cases/{case_id}", token=alice.token).json
    assert view["status"] == "resolved" and view["satisfaction"] is None


def test_a_rating_without_a_comment_shows_everywhere(api, alice, agent, clock, open_case):
    case_id = _resolved(api, alice, agent, open_case)
    assert api.post(f"/support/cases/{case_id}/confirm", token=alice.token, json_body={"rating": 5}).status == 200
    view = api.get(f"/support/cases/{case_id}", token=agent.token).json
    assert view["satisfaction"]["rating"] == 5 and view["satisfaction"]["comment"] is None
    printable = api.get(f"/support/cases/{case_id}/export.html", token=agent.token)
    assert printable.status == 200 and "满意度 5/5" in printable.text


def test_a_case_closed_without_a_rating_can_be_rated_once_by_its_owner_only(api, alice, bob, agent, clock,
                                                                            open_case):
    case_id = _resolved(api, alice, agent, open_case)
    early = api.post(f"/support/cases/{case_id}/satisfaction", token=alice.token, json_body={"rating": 5})
    assert early.status == 409 and early.json["error"]["code"] == "case_not_closed"
    assert api.post(f"/support/cases/{case_id}/confirm", token=alice.token).status == 200
    assert api.post(f"/support/cases/{case_id}/satisfaction", token=bob.token,
                    json_body={"rating": 1}).status == 404
    assert api.post(f"/support/cases/{case_id}/satisfaction", token=agent.token,
                    json_body={"rating": 1}).status == 403
    rated = api.post(f"/support/cases/{case_id}/satisfaction", token=alice.token, json_body={"rating": 2})
    assert rated.status == 200 and rated.json["satisfaction"] == {**rated.json["satisfaction"], "rating": 2}
    assert api.post(f"/support/cases/{case_id}/satisfaction", token=alice.token,
                    json_body={"rating": 5}).status == 409


# ---------------------------------------------------------------- attachments
def _bucket_keys() -> list[str]:
    from chalicelib.adapters import aws
    from chalicelib.config import settings
    response = aws.client("s3").list_objects_v2(Bucket=settings().attachments_bucket)
    return [o["Key"] for o in response.get("Contents", [])]


def _policy(fields: dict) -> dict:
    return json.loads(base64.b64decode(fields["policy"]))


def _upload(grant: dict, content: bytes, content_type: str = "image/png") -> requests.Response:
    return requests.post(grant["url"], data=grant["fields"], files={"file": ("x", content, content_type)},
                         timeout=10)


def test_owner_gets_a_presigned_post_whose_policy_fixes_key_type_and_size(api, alice, clock, open_case):
    case_id = open_case(alice)["case_id"]
    granted = api.post(f"/support/cases/{case_id}/attachments", token=alice.token,
                       json_body={"filename": "../../扣款 截图.PNG", "content_type": "image/png", "size": len(PNG)})
    assert granted.status == 201, granted.text
    grant = granted.json
    key = grant["fields"]["key"]
    assert key.startswith(f"cases/{case_id}/{grant['attachment_id']}/") and key.endswith("/扣款_截图.png")
    conditions = _policy(grant["fields"])["conditions"]
    assert ["content-length-range", 1, 10 * 1024 * 1024] in conditions
    assert {"Content-Type": "image/png"} in conditions and {"key": key} in conditions
    assert grant["fields"]["Content-Type"] == "image/png"

    assert _upload(grant, PNG).status_code in (200, 204)
    listed = api.get(f"/support/cases/{case_id}/attachments", token=alice.token)
    assert listed.status == 200, listed.text
    [item] = listed.json["items"]
    assert (item["filename"], item["content_type"], item["size"]) == ("扣款_截图.png", "image/png", len(PNG))

    # The download link is a short-lived presigned GET that saves the file instead of showing it.
    url = item["download_url"]
    assert "X-Amz-Expires=300" in url and "response-content-disposition=attachment" in url
    downloaded = requests.get(url, timeout=10)
    assert downloaded.status_code == 200 and downloaded.content == PNG
    assert downloaded.headers["Content-Disposition"].startswith("attachment")


def test_staff_download_and_the_export_lists_the_evidence(api, alice, agent, clock, open_case):
    case_id = open_case(alice)["case_id"]
    grant = api.post(f"/support/cases/{case_id}/attachments", token=alice.token,
                     json_body={"filename": "bank.pdf", "content_type": "application/pdf", "size": 9}).json
    assert _upload(grant, b"%PDF-1.4\n", "application/pdf").status_code in (200, 204)
    staff = api.get(f"/support/cases/{case_id}/attachments", token=agent.token).json["items"]
    assert [a["filename"] for a in staff] == ["bank.pdf"]
    assert requests.get(staff[0]["download_url"], timeout=10).content == b"%PDF-1.4\n"
    export = api.get(f"/support/cases/{case_id}/export", token=alice.token).json
    assert [(a["filename"], a["size"]) for a in export["attachments"]] == [("bank.pdf", 9)]
    assert "bank.pdf" in api.get(f"/support/cases/{case_id}/export.html", token=agent.token).text


@pytest.mark.parametrize("body, code", [
    ({"filename": "huge.png", "content_type": "image/png", "size": 10 * 1024 * 1024 + 1}, "attachment_too_large"),
    ({"filename": "run.exe", "content_type": "application/x-msdownload", "size": 100}, "attachment_type"),
    ({"filename": "page.html", "content_type": "text/html", "size": 100}, "attachment_type"),
    ({"filename": "x.svg", "content_type": "image/svg+xml", "size": 100}, "attachment_type"),
])
def test_oversized_or_wrong_type_is_refused_and_nothing_is_stored(api, alice, clock, open_case, body, code):
    case_id = open_case(alice)["case_id"]
    refused = api.post(f"/support/cases/{case_id}/attachments", token=alice.token, json_body=body)
    assert refused.status == 400 and refused.json["error"]["code"] == code, refused.text
    assert _bucket_keys() == []


def test_someone_elses_case_gets_no_upload_form(api, alice, bob, agent, clock, open_case):
    case_id = open_case(alice)["case_id"]
    body = {"filename": "a.png", "content_type": "image/png", "size": 10}
    assert api.post(f"/support/cases/{case_id}/attachments", token=bob.token, json_body=body).status == 404
    assert api.post(f"/support/cases/{case_id}/attachments", token=agent.token, json_body=body).status == 403
    assert api.get(f"/support/cases/{case_id}/attachments", token=bob.token).status == 404
    assert api.post("/support/cases/RD-20261124-ZZZZ/attachments", token=bob.token, json_body=body).status == 404
    assert _bucket_keys() == []


def test_the_bucket_is_private_encrypted_and_expires_objects(aws):
    from chalicelib.adapters import aws as clients
    from chalicelib.config import settings
    s3, bucket = clients.client("s3"), settings().attachments_bucket
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    [rule] = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rule["Status"] == "Enabled" and rule["Expiration"]["Days"] > 0
    cors = s3.get_bucket_cors(Bucket=bucket)["CORSRules"][0]
    assert "POST" in cors["AllowedMethods"] and "http://127.0.0.1:*" in cors["AllowedOrigins"]


# ---------------------------------------------------------------- messages since a cursor
def test_messages_since_a_cursor_returns_only_newer_ones(api, alice, bob, agent, clock, open_case):
    import datetime as dt
    case_id = open_case(alice)["case_id"]
    first = api.get(f"/support/cases/{case_id}/messages", token=alice.token)
    assert first.status == 200, first.text
    assert first.json["items"] == [] and first.json["cursor"] is None

    api.post(f"/support/cases/{case_id}/reply", token=agent.token, json_body={"message": "请提供扣款截图"})
    clock.advance(dt.timedelta(seconds=1))
    page = api.get(f"/support/cases/{case_id}/messages", token=alice.token).json
    assert [m["text"] for m in page["items"]] == ["请提供扣款截图"] and page["status"] == "waiting_user"
    cursor = page["cursor"]
    assert api.get(f"/support/cases/{case_id}/messages?after={cursor}", token=alice.token).json["items"] == []

    api.post(f"/support/cases/{case_id}/messages", token=alice.token, json_body={"message": "已上传"})
    clock.advance(dt.timedelta(seconds=1))
    api.post(f"/support/cases/{case_id}/reply", token=agent.token, json_body={"message": "收到"})
    newer = api.get(f"/support/cases/{case_id}/messages?after={cursor}", token=alice.token).json
    assert [(m["author"], m["text"]) for m in newer["items"]] == [("user", "已上传"), ("support", "收到")]
    assert api.get(f"/support/cases/{case_id}/messages?after={newer['cursor']}",
                   token=alice.token).json["items"] == []

    assert api.get(f"/support/cases/{case_id}/messages", token=bob.token).status == 404
    bad = api.get(f"/support/cases/{case_id}/messages?after=NOTE%23x", token=alice.token)
    assert bad.status == 400
    assert bad.json["error"]["field"] == "after"


# ---------------------------------------------------------------- wording and links
def test_texts_say_gongdan_and_link_to_my_cases(api, alice, agent, clock, open_case, sms_sent, emails_sent,
                                                monkeypatch):
    from chalicelib import config
    base = "https://help.example.com"
    monkeypatch.setenv("PUBLIC_BASE_URL", base + "/")
    config.reload()
    case_id = open_case(alice)["case_id"]
    api.post(f"/support/cases/{case_id}/reply", token=agent.token, json_body={"message": "请提供截图"})
    texts = [text for phone, text in sms_sent() if phone == "+8613800138001"]
    assert len(texts) == 2
    for text in texts:
        assert "工单" in text and "案件" not in text
        assert text.endswith(f"「我的工单」：{base}/help/cases/{case_id}")
    assert all("案件" not in subject + body for _, subject, body in emails_sent())
    view = api.get(f"/support/cases/{case_id}", token=alice.token).json
    assert "案件" not in view["what_next"] + view["step_description"]
    missing = api.get("/support/cases/RD-20261124-ZZZZ", token=alice.token).json["error"]["message"]
    assert "工单" in missing and "案件" not in missing
