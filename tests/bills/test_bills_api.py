"""Saved bills over HTTP: CRUD, newest first and paged, the catalogue, utility look-up, input validation (4xx JSON)."""
import json

import pytest

from tests.bills.conftest import CARD, card_bill, loan_bill, utility_bill


@pytest.fixture(autouse=True)
def _today(clock_at):
    clock_at("2026-12-05 10:00")


def test_a_card_is_kept_as_issuer_last4_and_token_never_the_number(as_alice, aws, capsys):
    from chalicelib.adapters import aws as aws_clients
    from chalicelib.config import settings

    saved = as_alice.save(card_bill(name="工资卡还款"))
    assert saved.status == 201 and saved.headers["location"] == f"/bills/{saved.json['id']}"
    bill = saved.json
    assert bill["payee"]["issuer"] == "招商银行" and bill["payee"]["card_last4"] == "4324"
    assert bill["payee"]["card_token"].startswith("ct_") and "card_number" not in bill["payee"]
    assert bill["label"] == "招商银行信用卡（尾号 4324）" and bill["name"] == "工资卡还款"
    assert bill["next_due_date"] == "2026-12-10" and bill["next_reminder_at"] == "2026-12-07T08:00:00+08:00"
    assert as_alice.get(f"/bills/{bill['id']}").json == bill

    dumped = json.dumps(aws_clients.client("dynamodb").scan(TableName=settings().bills_table)["Items"])
    assert CARD not in dumped and CARD[:12] not in dumped        # the table holds the last 4 only
    assert CARD not in capsys.readouterr().out                  # and so do the logs


def test_bills_list_newest_first_in_pages(as_alice, as_bob, clock_at):
    ids = []
    for day in range(1, 6):
        clock_at(f"2026-12-05 10:0{day}")
        ids.append(as_alice.save(loan_bill(due_day=day)).json["id"])
    as_bob.save(loan_bill())
    first = as_alice.get("/bills?limit=2").json
    assert [b["id"] for b in first["items"]] == ids[::-1][:2] and first["next_cursor"]
    second = as_alice.get(f"/bills?limit=2&cursor={first['next_cursor']}").json
    third = as_alice.get(f"/bills?limit=2&cursor={second['next_cursor']}").json
    assert [b["id"] for b in second["items"] + third["items"]] == ids[::-1][2:]
    assert third["next_cursor"] is None


def test_change_and_delete(as_alice):
    bill_id = as_alice.save(card_bill()).json["id"]
    changed = as_alice.patch(f"/bills/{bill_id}", {"statement_due_date": "2026-12-20", "reminders": False})
    assert changed.status == 200
    assert changed.json["statement_due_date"] == "2026-12-20" and "due_day" not in changed.json
    assert changed.json["next_due_date"] == "2026-12-20" and "next_reminder_at" not in changed.json
    assert as_alice.delete(f"/bills/{bill_id}").json == {"id": bill_id, "deleted": True}
    assert as_alice.get(f"/bills/{bill_id}").status == 404


def test_someone_elses_bill_looks_missing(as_alice, as_bob):
    bill_id = as_alice.save(card_bill()).json["id"]
    for response in (as_bob.get(f"/bills/{bill_id}"), as_bob.patch(f"/bills/{bill_id}", {"reminders": False}),
                     as_bob.delete(f"/bills/{bill_id}"), as_bob.schedule(bill_id, {"mode": "by_due_date",
                                                                                   "amount": "10.00"})):
        assert response.status == 404 and response.json["error"]["code"] == "bill_not_found"


@pytest.mark.parametrize("body, status, code", [
    (card_bill(payee={"kind": "credit_card", "issuer": "招商银行", "card_number": "6225880137654325"}), 400, None),
    (card_bill(payee={"kind": "credit_card", "issuer": "某某银行", "card_number": CARD}), 400, "not_in_catalogue"),
    (loan_bill(payee={"kind": "loan", "platform": "地下钱庄", "contract_number": "X-1234"}), 400, "not_in_catalogue"),
    (utility_bill(payee={**utility_bill()["payee"], "biller": "北京市燃气集团"}), 400, "not_in_catalogue"),
    (utility_bill(payee={**utility_bill()["payee"], "account_number": "31000000"}), 400, "account_not_found"),
    ({**card_bill(), "statement_due_date": "2026-12-20"}, 400, None),          # both due fields
    ({"payee": card_bill()["payee"]}, 400, None),                              # neither
    (card_bill(due_day=32), 400, None),
    (card_bill(due_day="10"), 400, None),
    ({"payee": card_bill()["payee"], "statement_due_date": "2026-12-01"}, 400, "due_date_in_past"),
    ({"payee": card_bill()["payee"], "statement_due_date": "12/20"}, 400, None),
    ({"payee": card_bill()["payee"], "statement_due_date": "9999-12-31"}, 400, "due_date_too_far"),
    (card_bill(extra=1), 400, None),
    (card_bill(reminders="yes"), 400, None),
])
def test_bad_bills_are_clear_4xx_json(as_alice, body, status, code):
    response = as_alice.save(body)
    assert response.status == status, response.text
    error = response.json["error"]
    assert error["message"] and (code is None or error["code"] == code)
    assert as_alice.get("/bills").json["items"] == []


@pytest.mark.parametrize("path, body", [
    ("/bills/bl_00000000000000000000", {}),
    ("/bills/bl_00000000000000000000", {"due_day": 5, "statement_due_date": "2026-12-20"}),
])
def test_bad_changes_are_4xx(as_alice, path, body):
    bill_id = as_alice.save(card_bill()).json["id"]
    response = as_alice.patch(f"/bills/{bill_id}", body)
    assert response.status == 400 and response.json["error"]["message"]


def test_bad_cursor_and_limit(as_alice):
    assert as_alice.get("/bills?cursor=bm90LWpzb24").status == 400
    assert as_alice.get("/bills?limit=0").status == 400
    assert as_alice.get("/bills?limit=abc").status == 400


def test_a_bill_with_an_open_schedule_cannot_be_deleted(as_alice):
    bill_id = as_alice.save(card_bill()).json["id"]
    schedule = as_alice.schedule(bill_id, {"mode": "by_due_date", "amount": "100.00"}).json
    refused = as_alice.delete(f"/bills/{bill_id}")
    assert refused.status == 409 and refused.json["error"]["code"] == "bill_has_schedules"
    as_alice.post(f"/schedules/{schedule['id']}/cancel")
    assert as_alice.delete(f"/bills/{bill_id}").status == 200


def test_catalogue_by_kind_and_city(api):
    everything = api.get("/catalogue").json
    assert everything["version"] and "上海" in everything["cities"]
    assert {e["kind"] for e in everything["items"]} == {"card_issuer", "loan_platform", "biller"}
    shanghai = api.get("/catalogue?kind=biller&city=" + "上海").json["items"]
    assert {(e["utility"], e["name"]) for e in shanghai} >= {("electricity", "国网上海市电力公司")}
    assert all(e["city"] == "上海" for e in shanghai)
    platforms = api.get("/catalogue?kind=loan_platform").json["items"]
    assert all(p["licensee"] for p in platforms)
    missing = api.get("/catalogue?city=火星")
    assert missing.status == 404 and missing.json["error"]["code"] == "city_not_found"
    assert api.get("/catalogue?kind=atm").status == 400


def test_utility_lookup_shows_amount_due_and_masked_holder(as_alice):
    found = as_alice.post("/bills/lookup", {"utility": "electricity", "city": "上海", "biller": "国网上海市电力公司",
                                            "account_number": "3100123456"}).json
    assert found["found"] is True and "*" in found["holder_masked"] and float(found["amount_due"]) > 0
    assert found["holder_masked"] in found["message"]
    unknown = as_alice.post("/bills/lookup", {"utility": "electricity", "city": "上海", "biller": "国网上海市电力公司",
                                              "account_number": "31000000"}).json
    assert unknown == {"found": False, "message": unknown["message"]}
    saved = as_alice.save(utility_bill()).json
    assert saved["payee"]["holder_masked"] == found["holder_masked"]


def test_a_saved_card_pays_by_its_token_and_only_for_its_owner(as_alice, as_bob):
    token = as_alice.save(card_bill()).json["payee"]["card_token"]
    body = {"amount": "100.00", "payee": {"kind": "credit_card", "issuer": "招商银行", "card_token": token}}
    paid = as_alice.post("/repayments", body, headers={"Idempotency-Key": "k1"})
    assert paid.status == 201 and paid.json["payee"] == {"kind": "credit_card", "issuer": "招商银行",
                                                          "card_last4": "4324"}
    stolen = as_bob.post("/repayments", body, headers={"Idempotency-Key": "k2"})
    assert stolen.status == 400 and stolen.json["error"]["code"] == "card_token_invalid"
    both = {"amount": "1.00", "payee": {**body["payee"], "card_number": CARD}}
    assert as_alice.post("/repayments", both, headers={"Idempotency-Key": "k3"}).status == 400
