"""Every kind from quote to settlement, through the API and the SQS worker."""
import pytest

from tests.repay.conftest import card, loan, run_worker, utility


@pytest.mark.parametrize("body, kind", [(card("1234.50"), "credit_card"), (loan("800.00"), "loan"),
                                        (utility("88.80"), "utility")])
def test_quote_create_settle(as_alice, business_hours, body, kind):
    quote = as_alice.quote(body)
    assert quote.status == 200, quote.json
    assert quote.json["kind"] == kind and quote.json["amount"] == body["amount"]

    created = as_alice.create(body)
    assert created.status == 201, created.json
    repayment = created.json
    assert repayment["status"] == "processing"
    assert repayment["total"] == quote.json["total"] and repayment["fee"] == quote.json["fee"]
    assert repayment["expected_arrival"] == quote.json["expected_arrival"]
    assert created.headers["location"] == f"/repayments/{repayment['id']}"

    assert len(run_worker()) == 1
    settled = as_alice.get(repayment["id"]).json
    assert settled["status"] == "succeeded"
    assert settled["actual_arrival"].startswith("2026-11-25T10:00:00+08:00")
    assert [e["event"] for e in settled["timeline"]] == ["created", "settled"]
    assert [e["status"] for e in settled["timeline"]] == ["processing", "succeeded"]


def test_card_number_is_kept_as_last_four_only(as_alice, business_hours):
    from chalicelib.repay import store
    created = as_alice.create(card("10.00")).json
    assert created["payee"] == {"kind": "credit_card", "issuer": "招商银行", "card_last4": "4324"}
    partition = store._table().query(KeyConditionExpression="pk = :pk",
                                     ExpressionAttributeValues={":pk": f"USER#{as_alice.user.user_id}"})["Items"]
    assert {i["sk"].split("#")[0] for i in partition} == {"REPAY", "IDEM", "USAGE"}
    from chalicelib.adapters import aws
    from chalicelib.config import settings
    outbox_items = aws.table(settings().outbox_table).scan()["Items"]   # test-only look at everything stored
    assert outbox_items
    assert "6225880137654324" not in repr(partition) + repr(outbox_items)
