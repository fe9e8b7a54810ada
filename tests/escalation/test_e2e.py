"""End to end on the real local stack: a short frontline limit lapses and the senior team's queue gets the case."""
import json
import time

import pytest
import requests

from devtools.stack import sent_by_moto

pytestmark = pytest.mark.e2e


def test_lapsed_frontline_limit_reaches_the_senior_team_queue(local_stack):
    assert "frontline=3" in local_stack.env["STEP_LIMIT_OVERRIDES"]
    token = local_stack.token("e2e-escalation-user", phone="+8613800138077")
    headers = {"Authorization": f"Bearer {token}"}
    created = requests.post(f"{local_stack.api_url}/support/cases", headers=headers, timeout=15,
                            json={"category": "repayment_delay", "description": "还款两天了还没到账，一直没人回复"})
    assert created.status_code == 201, created.text
    case_id = created.json()["case_id"]
    assert created.json()["step"] == "frontline"

    sqs = local_stack.client("sqs")
    queue_prefix = local_stack.env.get("TEAM_QUEUE_PREFIX", "repaydesk-dev-team-")
    url = sqs.get_queue_url(QueueName=queue_prefix + "senior")["QueueUrl"]
    arrived, deadline = None, time.monotonic() + 45
    while arrived is None and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=2,
                                           MessageAttributeNames=["All"]).get("Messages", []):
            body = json.loads(message["Body"])
            if body.get("case_id") == case_id and body.get("event") == "case.arrived":
                arrived = (body, message)
    assert arrived, "the case never reached the senior team's queue"
    body, message = arrived
    assert body["step"] == "senior" and body["team"] == "senior"
    assert message["MessageAttributes"]["message_id"]["StringValue"].startswith(case_id)

    view = requests.get(f"{local_stack.api_url}/support/cases/{case_id}", headers=headers, timeout=15).json()
    first_move = next(e for e in view["timeline"] if e["event"] == "escalated")
    assert (first_move["from"], first_move["to"], first_move["actor"]) == ("frontline", "senior", "system")

    # what moto captured: the senior team's e-mail (SES) and the user's texts (SNS SMS); they are sent
    # right after the topic message, so give the sender a moment (each look dumps all of moto: seconds on a
    # loaded machine, so the window is generous; it ends as soon as both are there)
    def captured():
        sent = sent_by_moto(local_stack.moto_url)
        emails = [(m["destinations"]["ToAddresses"], m["subject"]) for m in sent["email"]]
        texts = [t["message"] for t in sent["sms"] if t["phone_number"] == "+8613800138077"]
        return emails, texts
    until = time.monotonic() + 60
    while True:
        emails, texts = captured()
        done = (any(to == ["senior@repaydesk.example.com"] and case_id in subject for to, subject in emails)
                and any(case_id in text and "高级客服" in text for text in texts))
        if done or time.monotonic() > until:
            break
        time.sleep(0.5)
    assert any(to == ["senior@repaydesk.example.com"] and case_id in subject for to, subject in emails), emails
    assert any(case_id in text and "已受理" in text for text in texts), texts
    assert any(case_id in text and "高级客服" in text for text in texts), texts
