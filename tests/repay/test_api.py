"""The repayment routes' edges: authentication, ownership, freeze, history, and every kind of bad input."""
import datetime as dt
import json

from chalicelib.kernel import clock
from chalicelib.repay import service
from tests.repay.conftest import BAD_CARD, card, loan, run_worker, utility

ROUTES = [("POST", "/repayments/quote"), ("POST", "/repayments"), ("GET", "/repayments"),
          ("GET", "/repayments/rp_0000000000000000000a"), ("POST", "/repayments/rp_0000000000000000000a/verify"),
          ("POST", "/repayments/rp_0000000000000000000a/retry")]


def test_401_without_or_with_a_bad_token(api):
    for method, path in ROUTES:
        # No header at all is refused before the authorizer runs (API Gateway / chalice local behaviour).
        assert api.request(method, path, json_body=card()).status == 401, path
        for headers in ({"Authorization": "Bearer not.a.token"}, {"Authorization": "Basic abc"}):
            response = api.request(method, path, json_body=card(), headers=headers)
            assert response.status == 401, path
            assert response.json["error"]["code"] == "unauthorized"


def test_another_users_repayment_is_404(as_alice, as_bob, business_hours):
    repayment_id = as_alice.create(card("100.51")).json["id"]
    run_worker()
    for response in (as_bob.get(repayment_id), as_bob.retry(repayment_id), as_bob.verify(repayment_id, "123456")):
        assert response.status == 404 and response.json["error"]["code"] == "repayment_not_found"
    assert as_alice.get(repayment_id).status == 200
    assert as_bob.get("rp_unknown").status == 404
    assert as_bob.api.get("/repayments", token=as_bob.user.token).json["items"] == []


def test_frozen_account_gets_423_with_the_hotline(as_alice, business_hours):
    service.freeze_account(as_alice.user.user_id, reason="stolen_funds", case_id="case-9")
    response = as_alice.create(card("100.00"), key="while-frozen")
    assert response.status == 423
    assert response.json["error"]["code"] == "account_frozen"
    assert "010-0000-1002" in response.json["error"]["message"]
    assert as_alice.quote(card("100.00")).status == 200          # looking is fine, paying is not
    assert as_alice.api.get("/repayments", token=as_alice.user.token).json["items"] == []
    service.unfreeze_account(as_alice.user.user_id, actor="lead")
    assert as_alice.create(card("100.00"), key="while-frozen").status == 201   # the key was not burnt


def test_freeze_blocks_retry_and_verify_of_existing_repayments(as_alice, business_hours, sms_sent):
    failed_id = as_alice.create(card("100.51")).json["id"]
    run_worker()
    pending_id = as_alice.create(card("6000.00")).json["id"]
    service.freeze_account(as_alice.user.user_id, reason="stolen_funds", case_id="case-9")
    assert as_alice.retry(failed_id).status == 423
    code = [text for _, text in sms_sent()][-1].split("验证码 ")[1][:6]
    assert as_alice.verify(pending_id, code).status == 423
    assert as_alice.get(failed_id).json["status"] == "failed"


def test_history_newest_first_with_filters_and_cursor(as_alice, business_hours):
    ids = []
    for body in (card("10.00"), loan("20.00"), utility("30.00"), card("40.51"), card("50.00")):
        ids.append(as_alice.create(body).json["id"])
        clock.advance(dt.timedelta(seconds=1))
    run_worker()
    get = lambda query: as_alice.api.get(f"/repayments{query}", token=as_alice.user.token)  # noqa: E731
    everything = get("").json
    assert [i["id"] for i in everything["items"]] == ids[::-1] and everything["next_cursor"] is None

    page1 = get("?limit=2").json
    assert [i["id"] for i in page1["items"]] == ids[:2:-1][:2] == [ids[4], ids[3]]
    page2 = get(f"?limit=2&cursor={page1['next_cursor']}").json
    assert [i["id"] for i in page2["items"]] == [ids[2], ids[1]]
    page3 = get(f"?limit=2&cursor={page2['next_cursor']}").json
    assert [i["id"] for i in page3["items"]] == [ids[0]] and page3["next_cursor"] is None

    assert [i["id"] for i in get("?kind=credit_card").json["items"]] == [ids[4], ids[3], ids[0]]
    assert [i["id"] for i in get("?status=failed").json["items"]] == [ids[3]]
    assert [i["id"] for i in get("?status=succeeded&kind=credit_card").json["items"]] == [ids[4], ids[0]]
    first = get("?status=succeeded&kind=credit_card&limit=1").json
    assert [i["id"] for i in first["items"]] == [ids[4]]
    assert [i["id"] for i in get(f"?status=succeeded&kind=credit_card&limit=1&cursor={first['next_cursor']}")
            .json["items"]] == [ids[0]]
    assert get("?status=failed").json["items"][0]["failure"]["reason"] == "insufficient_funds"
    assert get("?kind=loan").json["items"][0]["payee"] == {"kind": "loan", "platform": "微粒贷",
                                                           "contract_number": "WLD-2026-0001"}

    for bad in ("?limit=0", "?limit=101", "?limit=ten", "?status=lost", "?kind=cash", "?cursor=garbage",
                "?sort=asc"):
        response = get(bad)
        assert response.status == 400, bad
        assert response.json["error"]["code"] == "validation_error"


BAD_BODIES = [
    ("amount as float", {**card(), "amount": 100.5}),
    ("amount as integer", {**card(), "amount": 100}),
    ("exponent", card("1e3")),
    ("three decimals", card("1.001")),
    ("zero", card("0.00")),
    ("negative", card("-5.00")),
    ("over the credit card limit", card("50000.01")),
    ("over the utility limit", utility("5000.01")),
    ("bad Luhn", {**card(), "payee": {**card()["payee"], "card_number": BAD_CARD}}),
    ("card number letters", {**card(), "payee": {**card()["payee"], "card_number": "6225abcd37654324"}}),
    ("unknown top-level field", {**card(), "note": "hi"}),
    ("unknown payee field", {**card(), "payee": {**card()["payee"], "cvv": "123"}}),
    ("unknown kind", {**card(), "payee": {"kind": "cash"}}),
    ("missing kind", {**card(), "payee": {"issuer": "招商银行"}}),
    ("missing amount", {"payee": card()["payee"]}),
    ("payee not an object", {**card(), "payee": "card"}),
    ("wrong type in payee", {**loan(), "payee": {**loan()["payee"], "contract_number": 12345}}),
    ("bad utility type", {**utility(), "payee": {**utility()["payee"], "utility": "internet"}}),
    ("empty issuer", {**card(), "payee": {**card()["payee"], "issuer": "  "}}),
    ("bad due date", card("10.00", due_date="30/11/2026")),
    ("due date as number", card("10.00", due_date=20261130)),
]


def test_bad_bodies_are_400(api, alice, business_hours):
    for path in ("/repayments/quote", "/repayments"):
        for label, body in BAD_BODIES:
            response = api.post(path, json_body=body, token=alice.token, headers={"Idempotency-Key": "k1"})
            assert response.status == 400, (path, label, response.json)
            assert response.json["error"]["code"] in {"validation_error", "amount_over_limit"}, label
            assert response.json["error"]["message"]
    assert api.get("/repayments", token=alice.token).json["items"] == []


def test_malformed_json_is_400(api, alice, business_hours):
    for path in ("/repayments/quote", "/repayments", "/repayments/rp_0000000000000000000a/verify"):
        for raw in (b"", b"{", b"[1, 2]", b"\"text\"", b"\xff\xfe", b"null", b"{\"amount\": NaN}"):
            response = api.post(path, body=raw, token=alice.token, headers={"Idempotency-Key": "k1"})
            assert response.status == 400, (path, raw)
            assert response.json["error"]["code"] in {"invalid_json", "validation_error"}, (path, raw)


def test_oversized_body_is_413(api, alice, business_hours):
    for path in ("/repayments/quote", "/repayments"):
        body = json.dumps({**card(), "padding": "x" * (64 * 1024)})
        response = api.post(path, body=body, token=alice.token, headers={"Idempotency-Key": "k1"})
        assert response.status == 413
        assert response.json["error"]["code"] == "payload_too_large"


def test_card_number_with_spaces_is_accepted(as_alice, business_hours):
    body = {**card(), "payee": {**card()["payee"], "card_number": "6225 8801 3765 4324"}}
    assert as_alice.create(body).json["payee"]["card_last4"] == "4324"


def test_openapi_documents_the_repayment_routes(api):
    paths = api.get("/openapi.json").json["paths"]
    create = paths["/repayments"]["post"]
    assert {"201", "202", "400", "401", "409", "413", "422", "423"} <= set(create["responses"])
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in create["parameters"])
    assert "/repayments/{repayment_id}/verify" in paths and "/repayments/{repayment_id}/retry" in paths
