"""The case rules as plain functions: given the moment and the step clocks, no AWS, no settings (#10 §3)."""
import datetime as dt

import pytest

from chalicelib.escalation import hours, model
from chalicelib.kernel.business_calendar import BusinessCalendar

UTC = dt.UTC
MONDAY_10 = dt.datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
CLOCKS = hours.Clocks(BusinessCalendar())                 # weekends only, no holidays


def new_case(now=MONDAY_10, category="fees", clocks=CLOCKS):
    return model.open_case(case_id="RD-20261123-AAAA", user_id="u1", username="alice", category=category,
                           description="手续费不对", repayment_id=None, now=now, clocks=clocks)


def test_an_owner_escalates_only_after_an_answer_or_the_lapsed_limit():
    case = new_case()
    with pytest.raises(model.RuleViolation) as refused:
        model.escalate(case, MONDAY_10, clocks=CLOCKS, actor="user", reason="没人理")
    assert refused.value.code == "step_not_answered" and refused.value.not_before == case.deadline
    # staff and the system move it at will
    assert model.escalate(case, MONDAY_10, clocks=CLOCKS, actor="support", reason="转上级", by="s1").step == "senior"
    # an answer at this step lets the owner move it ...
    answered = model.reply(case, MONDAY_10, clocks=CLOCKS, by="s1", await_user=False)
    moved = model.escalate(answered, MONDAY_10, clocks=CLOCKS, actor="user", reason="没解决")
    assert moved.step == "senior" and not model.answered_at_step(moved)
    # ... but not the next step on the strength of the old answer; the lapsed limit does
    with pytest.raises(model.RuleViolation):
        model.escalate(moved, MONDAY_10, clocks=CLOCKS, actor="user", reason="还是没解决")
    lapsed_at = model.parse(moved.deadline)
    assert model.escalate(moved, lapsed_at, clocks=CLOCKS, actor="user", reason="超时了").step == "public_feedback"


def test_the_clocks_given_decide_the_deadline():
    business = new_case()
    assert business.deadline == "2026-11-23T06:00:00.000Z"  # 4 business hours: 14:00 Shanghai
    short = new_case(clocks=hours.Clocks(BusinessCalendar(), {"frontline": 60}))
    assert short.deadline == "2026-11-23T02:01:00.000Z"
    holiday = hours.Clocks(BusinessCalendar(holidays=frozenset({dt.date(2026, 11, 23)})))
    assert new_case(clocks=holiday).deadline == "2026-11-24T05:00:00.000Z"  # Tuesday 13:00 Shanghai
