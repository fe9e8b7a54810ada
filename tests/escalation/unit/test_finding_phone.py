"""Finding a 工单 by the phone's last four digits and a date, on the in-memory twins: the owner's phone (the
Cognito twin, ``PHONES`` in conftest) is read when the 工单 opens and only its last four digits are kept; the
day is the business calendar's day (Shanghai); bad input is a Chinese refusal; the role rule of every search
holds; each user shown gets an access record."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

from chalicelib.escalation import service
from chalicelib.escalation.items import to_item
from chalicelib.escalation.schemas import CaseSearchQuery
from chalicelib.kernel import refusals
from tests.escalation.unit.conftest import AGENT, ALICE, BOB, LEAD, opened

pytestmark = pytest.mark.unit
TUESDAY = dt.date(2026, 11, 24)   # ``at`` starts on it, 10:00 in Shanghai


def found(at, actor=AGENT, **query) -> list[str]:
    return [c.case_id for c in service.search(actor, at.ctx(), CaseSearchQuery(**query)).items]


def test_the_last_four_and_the_day_find_every_user_whose_phone_ends_so_and_only_that_day(cases, at):
    alices = opened(at)
    at.advance(minutes=5)                        # newest first: bob's after alice's
    bobs = opened(at, BOB, description="手续费扣多了", category="fees")   # bob's phone ends 8001 too
    at.advance(days=1)
    later = opened(at)
    assert found(at, phone_last4="8001", date=TUESDAY) == [bobs, alices]
    assert found(at, phone_last4="8001", date=TUESDAY + dt.timedelta(days=1)) == [later]
    assert found(at, phone_last4="0001", date=TUESDAY) == []
    assert found(at, phone_last4="８００１", date=TUESDAY, category="fees") == [bobs]   # full width; filters apply


def test_the_day_is_the_callers_day_in_shanghai_not_the_utc_day(cases, at):
    at.advance(hours=13, minutes=30)            # 23:30 in Shanghai, 15:30 UTC: still Tuesday
    late = opened(at)
    at.advance(hours=1)                          # 00:30 Wednesday in Shanghai, yet 16:30 UTC Tuesday
    after_midnight = opened(at)
    assert found(at, phone_last4="8001", date=TUESDAY) == [late]
    assert found(at, phone_last4="8001", date=TUESDAY + dt.timedelta(days=1)) == [after_midnight]


def test_a_range_of_up_to_31_days_is_searched_and_a_longer_one_is_refused(cases, at):
    first = opened(at)
    at.advance(days=30)
    last = opened(at)
    assert found(at, phone_last4="8001", since=TUESDAY, until=TUESDAY + dt.timedelta(days=30)) == [last, first]
    with pytest.raises(refusals.Invalid) as refused:
        found(at, phone_last4="8001", since=TUESDAY, until=TUESDAY + dt.timedelta(days=31))
    assert "31 天" in str(refused.value)


@pytest.mark.parametrize(("query", "code"), [
    ({"phone_last4": "800", "date": TUESDAY}, "invalid_phone_last4"),
    ({"phone_last4": "18001", "date": TUESDAY}, "invalid_phone_last4"),
    ({"phone_last4": "80a1", "date": TUESDAY}, "invalid_phone_last4"),
    ({"phone_last4": "8001"}, "date_required"),
    ({"phone_last4": "8001", "since": TUESDAY}, "date_required"),
    ({"phone_last4": "8001", "date": TUESDAY, "since": TUESDAY}, "invalid_dates"),
    ({"q": "到账", "date": TUESDAY}, "invalid_dates"),
    ({"phone_last4": "8001", "user": "alice", "date": TUESDAY}, "invalid_search"),
])
def test_bad_digits_a_missing_day_or_a_day_without_the_digits_is_a_chinese_refusal(cases, at, query, code):
    opened(at)
    with pytest.raises(refusals.Invalid) as refused:
        found(at, **query)
    assert refused.value.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(refused.value))


def test_only_the_last_four_are_kept_never_the_number(cases, at):
    case_id = opened(at)
    stored = cases.get(case_id)
    assert stored.phone4 == "8001"
    item = str(to_item(stored))
    assert "PHONE4#8001" in item and "13800138001" not in item and "138001" not in item


def test_a_failed_phone_lookup_still_opens_the_case_found_by_the_other_searches(cases, at, monkeypatch):
    from chalicelib.adapters import sms

    def down(username):
        raise ConnectionError("cognito unreachable")
    monkeypatch.setattr(sms, "user_phone", down)
    case_id = opened(at)
    assert cases.get(case_id).phone4 is None
    assert found(at, user="alice") == [case_id]
    assert found(at, phone_last4="8001", date=TUESDAY) == []


def test_a_frontline_agent_does_not_find_a_senior_case_by_phone(cases, at):
    senior = opened(at)
    service.escalate(AGENT, at.ctx(), senior, "转高级客服", uuid.uuid4().hex)
    assert found(at, AGENT, phone_last4="8001", date=TUESDAY) == []
    assert found(at, LEAD, phone_last4="8001", date=TUESDAY) == [senior]


def test_every_user_shown_gets_an_access_record_and_an_empty_search_leaves_none(cases, at, repay_twin):
    alices = opened(at)
    bobs = opened(at, BOB)
    found(at, phone_last4="8001", date=TUESDAY - dt.timedelta(days=1))
    assert repay_twin.access_records(ALICE.user_id) == [] and repay_twin.access_records(BOB.user_id) == []
    found(at, phone_last4="8001", date=TUESDAY)
    [for_alice] = repay_twin.access_records(ALICE.user_id)
    [for_bob] = repay_twin.access_records(BOB.user_id)
    assert (for_alice["event"], for_alice["case_ids"]) == ("staff_searched_by_phone", [alices])
    assert (for_bob["event"], for_bob["case_ids"], for_bob["staff_id"]) == ("staff_searched_by_phone", [bobs],
                                                                           AGENT.user_id)

