"""The bills use cases and the in-app inbox against the in-memory stores (the fast tier, ``pytest -m unit``)."""
from __future__ import annotations

import pytest

from chalicelib.bills import schemas, service
from chalicelib.kernel import clock, refusals
from chalicelib.kernel.actor import Actor
from chalicelib.repay import service as repay
from tests.bills.conftest import at, card_bill

ALICE = Actor(user_id="u-alice", username="alice")
BOB = Actor(user_id="u-bob", username="bob")


@pytest.fixture
def twins(memory):
    memory.sms.phones.update(alice="+8613800138001")
    return memory


def move_to(text: str) -> None:
    clock.freeze(at(text))


def save(body: dict, actor: Actor = ALICE) -> dict:
    return service.create_bill(actor, schemas.NewBill.model_validate(body), service.current())


def schedule(bill_id: str, body: dict) -> dict:
    return service.create_schedule(ALICE, bill_id, schemas.NewSchedule.model_validate(body), service.current())


def sweep() -> dict:
    return service.sweep(service.current())


def texts(twins) -> list[str]:
    return [m.body for m in twins.outbox.messages() if m.channel == "sms"]


def test_a_saved_bill_is_listed_changed_and_deleted_by_its_owner_only(twins):
    move_to("2026-12-01 10:00")
    bill = save(card_bill())
    assert bill["next_due_date"] == "2026-12-10" and bill["label"] == "招商银行信用卡（尾号 4324）"
    assert [b["id"] for b in service.list_bills(ALICE, schemas.PageQuery(), service.current())["items"]] == [bill["id"]]
    assert service.list_bills(BOB, schemas.PageQuery(), service.current())["items"] == []
    with pytest.raises(refusals.Missing):
        service.get_bill(BOB, bill["id"], service.current())
    changed = service.update_bill(ALICE, bill["id"], schemas.BillChange(due_day=20), service.current())
    assert changed["next_due_date"] == "2026-12-20"
    assert service.delete_bill(ALICE, bill["id"], service.current()) == {"id": bill["id"], "deleted": True}
    assert service.list_bills(ALICE, schemas.PageQuery(), service.current())["items"] == []


def test_a_change_that_lost_a_race_is_applied_to_the_new_state(twins, monkeypatch):
    """Two changes read the same version: the second to commit loses its ``bill`` condition, reads again and
    applies its own change on top — neither change is lost."""
    move_to("2026-12-01 10:00")
    bill = save(card_bill())
    from chalicelib.bills import store
    real_get, raced = store.get_bill_and_wake, []

    def read_then_the_other_commits(user_id, bill_id):
        found = real_get(user_id, bill_id)
        if not raced:
            raced.append(None)
            raced[0] = (service.update_bill(ALICE, bill["id"], schemas.BillChange(name="房贷卡"), service.current()))
        return found
    monkeypatch.setattr(store, "get_bill_and_wake", read_then_the_other_commits)
    after = service.update_bill(ALICE, bill["id"], schemas.BillChange(due_day=20), service.current())
    assert after["name"] == "房贷卡" and after["due_day"] == 20


def test_reminders_are_sent_once_per_kind_and_land_in_the_inbox(twins):
    move_to("2026-12-01 10:00")
    bill = save(card_bill())
    move_to("2026-12-06 23:59")
    assert sweep() == {}
    move_to("2026-12-07 08:00")
    assert sweep() == {"reminded": 1}
    move_to("2026-12-07 12:00")
    assert sweep() == {}                                   # once per kind
    [text] = texts(twins)
    assert "3 天后（12 月 10 日）到期" in text and "6225" not in text
    page = service.list_notices(ALICE, schemas.PageQuery(), service.current())
    assert page["unread"] == 1 and page["items"][0]["kind"] == "reminder"
    assert page["items"][0]["ref"] == {"bill_id": bill["id"]} and text.endswith(page["items"][0]["text"])


def test_a_notice_is_read_once_and_only_by_its_owner(twins):
    move_to("2026-12-01 10:00")
    save(card_bill())
    move_to("2026-12-07 08:00")
    sweep()
    [notice] = service.list_notices(ALICE, schemas.PageQuery(), service.current())["items"]
    with pytest.raises(refusals.Missing):
        service.read_notice(BOB, notice["id"], service.current())
    read = service.read_notice(ALICE, notice["id"], service.current())
    assert read["read"] and service.unread_notices(ALICE, service.current()) == {"unread": 0, "unread_more": False}
    assert service.read_notice(ALICE, notice["id"], service.current())["read_at"] == read["read_at"]   # a repeat


def test_a_scheduled_repayment_runs_once_settles_and_completes(twins):
    move_to("2026-12-07 10:00")
    bill = save(card_bill(reminders=False))
    made = schedule(bill["id"], {"mode": "by_due_date", "amount": "300.00"})
    assert made["status"] == "active" and made["runs_at"] == "2026-12-10T16:00:00+08:00"
    move_to("2026-12-10 15:59")
    assert sweep() == {}
    move_to("2026-12-10 16:00")
    assert sweep() == {"started": 1}
    assert sweep() == {}                                          # started once: its next look is later
    [repayment] = twins.repay.repayments.values()
    assert repayment.amount_fen == 300_00 and repayment.schedule_id == made["id"]
    [body] = [m.body for m in twins.outbox.messages() if m.channel == "sqs" and m.target.endswith("-settlement")]
    assert repay.settle(body, repay.current()) == "succeeded"
    move_to("2026-12-10 16:02")
    assert sweep() == {"succeeded": 1}
    done = service.get_schedule(ALICE, made["id"], service.current())
    assert done["status"] == "completed"
    assert [(h["outcome"], h["repayment_id"]) for h in done["history"]] == [("succeeded", repayment.id)]


def test_a_frozen_account_skips_the_scheduled_run_and_pays_nothing(twins):
    move_to("2026-12-07 10:00")
    bill = save(card_bill(reminders=False))
    made = schedule(bill["id"], {"mode": "by_due_date", "amount": "300.00"})
    repay.freeze_account(ALICE.user_id, reason="stolen phone", case_id="c1")
    move_to("2026-12-10 16:00")
    assert sweep() == {"skipped_frozen": 1}
    assert twins.repay.repayments == {}
    assert service.get_schedule(ALICE, made["id"], service.current())["history"][0]["outcome"] == "skipped_frozen"
    assert any("未扣款" in t for t in texts(twins))


def test_a_large_schedule_needs_its_code_once(twins):
    move_to("2026-12-07 10:00")
    bill = save(card_bill(reminders=False))
    made = schedule(bill["id"], {"mode": "by_due_date", "amount": "6000.00"})
    assert made["status"] == "verification_required"
    code = twins.sms.sent[-1][1].split("验证码 ")[1][:6]
    confirmed = service.verify_schedule(ALICE, made["id"], code, service.current())
    assert confirmed["status"] == "active"
    move_to("2026-12-10 16:00")
    assert sweep() == {"started": 1}
    [repayment] = twins.repay.repayments.values()
    assert repayment.status == "processing"                       # preverified: no second code at run time

