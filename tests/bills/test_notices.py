"""The in-app inbox (GET /notices): the SMS's words, owner only, newest first and paged, read once, written
exactly once with the outcome or reminder it announces (re-runs and overlapping sweeps add nothing), and
not held back by the quiet hours."""
import pytest

from chalicelib.bills import store
from tests.bills.conftest import card_bill, drain, loan_bill, settle_all, sweep, texts
from tests.repay.conftest import atomic_calls, in_parallel  # noqa: F401 (fixture)

PHONE = "+8613800138001"   # alice


def _pay(user, amount):
    return user.post("/repayments", {"amount": amount, "payee": loan_bill()["payee"]},
                     headers={"Idempotency-Key": amount})


def _settlement_bodies() -> list[str]:
    from chalicelib.adapters import aws
    from chalicelib.config import settings
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=settings().settlement_queue)["QueueUrl"]
    bodies = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for m in messages:
            bodies.append(m["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return bodies


def _inbox(user, **query):
    path = "/notices" + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    response = user.get(path)
    assert response.status == 200, response.json
    return response.json


def test_outcomes_land_in_the_inbox_with_the_sms_words(as_alice, clock_at, sms_sent):
    clock_at("2026-12-07 10:00")
    for amount in ("100.00", "100.55", "100.56"):       # settles, fails (invalid account), is delayed
        _pay(as_alice, amount)
    settle_all()
    page = _inbox(as_alice)
    assert sorted(n["kind"] for n in page["items"]) == ["delayed", "failed", "settled"]   # one each
    assert page["unread"] == 3 and page["unread_more"] is False and page["next_cursor"] is None
    sms = texts(sms_sent, PHONE)
    for notice in page["items"]:
        assert notice["read"] is False and notice["ref"]["repayment_id"].startswith("rp_")
        assert [t for t in sms if t.endswith(notice["text"])], notice["text"]     # same words as the text
    [failed] = [n for n in page["items"] if n["kind"] == "failed"]
    assert "/help/articles/repayment-failed" in failed["text"]


def test_only_the_owner_sees_and_reads_a_notice(as_alice, as_bob, clock_at):
    clock_at("2026-12-07 10:00")
    _pay(as_alice, "100.00")
    settle_all()
    [notice] = _inbox(as_alice)["items"]
    assert _inbox(as_bob)["items"] == [] and _inbox(as_bob)["unread"] == 0
    refused = as_bob.post(f"/notices/{notice['id']}/read")
    assert refused.status == 404 and refused.json["error"]["code"] == "notice_not_found"
    assert as_bob.post("/notices/nt_nonsense/read").status == 404
    assert _inbox(as_alice)["items"][0]["read"] is False                       # bob changed nothing


def test_read_twice_counts_once(as_alice, clock_at):
    clock_at("2026-12-07 10:00")
    _pay(as_alice, "100.00")
    clock_at("2026-12-07 10:01")
    _pay(as_alice, "100.01")
    settle_all()
    first, second = _inbox(as_alice)["items"]
    clock_at("2026-12-07 11:00")
    read = as_alice.post(f"/notices/{first['id']}/read")
    assert read.status == 200 and read.json["read"] is True and read.json["read_at"].startswith("2026-12-07T03:00")
    clock_at("2026-12-07 12:00")
    again = as_alice.post(f"/notices/{first['id']}/read")
    assert again.status == 200 and again.json == read.json                    # harmless, first time kept
    assert as_alice.get("/notices/unread").json == {"unread": 1, "unread_more": False}
    page = _inbox(as_alice)
    assert page["unread"] == 1 and [n["read"] for n in page["items"]] == [True, False]
    assert second["id"] == page["items"][1]["id"]


def test_paging_newest_first_without_gaps_or_repeats(as_alice, clock_at):
    clock_at("2026-12-07 10:00")
    amounts = [f"1{n:02d}.00" for n in range(7)]
    for n, amount in enumerate(amounts):
        clock_at(f"2026-12-07 10:{n:02d}")
        _pay(as_alice, amount)
        settle_all()
    seen, cursor = [], None
    while True:
        page = _inbox(as_alice, limit=3, **({"cursor": cursor} if cursor else {}))
        assert len(page["items"]) <= 3 and page["items"]
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7 and len({n["id"] for n in seen}) == 7
    assert [n["created_at"] for n in seen] == sorted((n["created_at"] for n in seen), reverse=True)
    assert amounts[-1] in seen[0]["text"] and amounts[0] in seen[-1]["text"]
    assert as_alice.get("/notices?cursor=bm9wZQ").status == 400
    assert as_alice.get("/notices?limit=0").status == 400


def test_a_redelivered_settlement_adds_no_second_notice(as_alice, clock_at, sms_sent):
    from chalicelib.repay import service as repay
    clock_at("2026-12-07 10:00")
    _pay(as_alice, "100.00")
    [body] = _settlement_bodies()
    assert repay.settle(body, repay.current()) == "succeeded"
    assert repay.settle(body, repay.current()) == "stale"                       # SQS delivered it twice
    assert len(_inbox(as_alice)["items"]) == 1
    assert len([t for t in texts(sms_sent, PHONE) if "已到账" in t]) == 1


def test_reminders_once_under_overlapping_sweeps(as_alice, alice, clock_at, sms_sent, atomic_calls):
    clock_at("2026-12-01 10:00")
    saved = as_alice.save(card_bill()).json
    clock_at("2026-12-07 09:00")
    before_b = store.get_bill_and_wake(alice.user_id, saved["id"])
    b_result = []

    def read_before_b(user_id, bill_id):         # sweep A read the bill, then sweep B ran start to end
        if not b_result:
            b_result.append("running")
            b_result[0] = sweep()
        return before_b
    with pytest.MonkeyPatch.context() as patch:      # only this (the fixtures' environment stays as it is)
        patch.setattr(store, "get_bill_and_wake", read_before_b)
        assert sweep() == {"duplicate": 1}
    assert b_result == [{"reminded": 1}]
    assert not [r for r in in_parallel(4, sweep) if isinstance(r, Exception)]   # and more sweeps at once
    [notice] = _inbox(as_alice)["items"]
    assert notice["kind"] == "reminder" and notice["ref"] == {"bill_id": saved["id"]}
    assert "3 天后（12 月 10 日）到期" in notice["text"]
    assert [t for t in texts(sms_sent, PHONE) if "到期" in t] == [f"【RepayDesk】{notice['text']}"]


def test_inbox_is_not_held_back_by_the_quiet_hours(as_alice, clock_at, sms_sent):
    clock_at("2026-12-07 23:10")
    _pay(as_alice, "100.00")
    settle_all()
    [notice] = _inbox(as_alice)["items"]                      # at once in the app …
    assert "已到账" in notice["text"]
    assert not [t for t in texts(sms_sent, PHONE) if "已到账" in t]     # … the text waits for 08:00
    clock_at("2026-12-08 08:00")
    drain()
    assert len([t for t in texts(sms_sent, PHONE) if "已到账" in t]) == 1
    assert len(_inbox(as_alice)["items"]) == 1


def test_a_schedule_failure_is_told_in_the_app_too(as_alice, alice, clock_at, sms_sent):
    clock_at("2026-12-01 10:00")
    bill = as_alice.save(loan_bill(reminders=False)).json
    made = as_alice.schedule(bill["id"], {"mode": "on_date", "run_on": "2026-12-03", "amount": "100.55"}).json
    clock_at("2026-12-03 09:00")
    sweep()
    settle_all()
    clock_at("2026-12-03 09:05")
    sweep()
    kinds = [(n["kind"], n["ref"].get("schedule_id")) for n in _inbox(as_alice)["items"]]
    assert ("schedule", made["id"]) in kinds
    assert "failed" not in [kind for kind, _ in kinds]      # the settlement leaves it to the schedule's notice


@pytest.mark.parametrize("path", ["/notices", "/notices/unread"])
def test_inbox_needs_a_signed_in_user(api, path):
    assert api.get(path).status == 401
