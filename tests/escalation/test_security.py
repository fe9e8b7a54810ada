"""Stolen funds: senior at once, P1, repayments frozen (423) until senior support unfreezes."""
import datetime as dt
import uuid

from tests.repay.conftest import card


def pay(api, user):
    return api.post("/repayments", json_body=card("100.00"), token=user.token,
                    headers={"Idempotency-Key": uuid.uuid4().hex})


def test_security_case_freezes_repayments_until_senior_support_unfreezes(api, alice, agent, lead, clock, open_case,
                                                                         inbox, sms_sent):
    assert pay(api, alice).status == 201
    case = open_case(alice, category="account_security", description="我的账户被盗，有陌生人在还款")
    assert case["step"] == "senior" and case["priority"] == "P1"
    # round the clock: 2 hours from now, not business hours
    assert case["deadline_local"] == "2026-11-24 12:00" and "全天候" in case["what_next"]
    assert case["timeline"][0]["to"] == "senior"

    frozen = pay(api, alice)
    assert frozen.status == 423 and frozen.json["error"]["code"] == "account_frozen"
    assert pay(api, agent).status == 201  # only the reporting user's account

    # the senior team is told at once; the user gets the official hotline
    assert [(m["event"], m["priority"]) for m in inbox("senior")] == [("case.arrived", "P1")]
    assert inbox("frontline") == []
    phone, text = sms_sent()[-1]
    assert phone == "+8613800138001" and "010-0000-1002" in text and "冻结" in text

    # only senior-support unfreezes
    target = f"/support/accounts/{alice.user_id}/unfreeze"
    assert api.post(target, token=alice.token).status == 403
    assert api.post(target, token=agent.token).status == 403
    assert pay(api, alice).status == 423
    lifted = api.post(target, token=lead.token)
    assert lifted.status == 200 and lifted.json == {"user_id": alice.user_id, "frozen": False}
    assert pay(api, alice).status == 201

    view = api.get(f"/support/cases/{case['case_id']}", token=alice.token).json
    assert view["timeline"][-1]["event"] == "unfrozen" and view["timeline"][-1]["actor"] == "support"


def test_security_case_lapses_round_the_clock(api, alice, clock, sweep, open_case, inbox):
    from chalicelib.kernel import clock as clock_module
    clock_module.freeze(dt.datetime(2026, 11, 28, 22, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))  # Saturday night
    case = open_case(alice, category="account_security", description="收到陌生设备登录提醒，钱被转走了")
    inbox("senior")
    clock.advance(dt.timedelta(hours=2))
    assert sweep()["escalated"] == 1
    assert [m["event"] for m in inbox("public-feedback")] == ["case.arrived"]
    assert api.get(f"/support/cases/{case['case_id']}", token=alice.token).json["step"] == "public_feedback"


def test_support_role_cannot_act_on_a_senior_step(api, alice, agent, lead, clock, open_case):
    case_id = open_case(alice, category="account_security", description="账户异常登录，余额被转走")["case_id"]
    for path, body in (("escalate", {"reason": "转上级"}), ("resolve", {"summary": "已处理"}),
                       ("reply", {"message": "您好"}), ("assign", {})):
        refused = api.post(f"/support/cases/{case_id}/{path}", token=agent.token, json_body=body,
                           headers={"Idempotency-Key": uuid.uuid4().hex})
        assert refused.status == 403, (path, refused.text)
        assert refused.json["error"]["code"] == "forbidden_role"
    assert api.post(f"/support/cases/{case_id}/assign", token=lead.token, json_body={}).status == 200
