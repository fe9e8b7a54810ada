"""The scheduled sweep on the in-memory store: warn, escalate a lapsed step, flag the final step, auto-close;
a case a person moved between the sweep's read and write is left alone."""
from __future__ import annotations

import pytest

from chalicelib.escalation import service
from tests.escalation.unit.conftest import AGENT, ALICE, LEAD
from tests.escalation.unit.test_use_cases import key, opened

pytestmark = pytest.mark.unit


def test_the_team_is_warned_then_the_lapsed_step_escalates_once(cases, at):
    case_id = opened(at)["case_id"]
    at.advance(hours=3)                              # 75 % of the 4 business hours
    assert service.sweep(at.ctx())["warned"] == 1
    assert service.sweep(at.ctx())["warned"] == 0    # warned once
    at.advance(hours=1)
    done = service.sweep(at.ctx())
    assert done["escalated"] == 1 and cases.get(case_id).step == "senior"
    escalated = [e for e in cases.get(case_id).timeline if e["event"] == "escalated"]
    assert [(e["from"], e["to"], e["actor"]) for e in escalated] == [("frontline", "senior", "system")]
    assert service.sweep(at.ctx())["escalated"] == 0
    assert "step:frontline" in cases.get(case_id).breaches   # the SLA breach recorded with the move


def test_a_person_moving_the_case_first_makes_the_sweep_skip_it(cases, at, monkeypatch):
    case_id = opened(at)["case_id"]
    at.advance(hours=5)
    read = cases.due_cases

    def user_clicks_between_read_and_write(*args, **kwargs):
        stale = read(*args, **kwargs)
        service.escalate(ALICE, at.ctx(), case_id, "一直没人回复", key())
        return stale
    monkeypatch.setattr(cases, "due_cases", user_clicks_between_read_and_write)
    done = service.sweep(at.ctx())
    assert done["escalated"] == 0 and done["skipped"] == 1
    moves = [e["actor"] for e in cases.get(case_id).timeline if e["event"] == "escalated"]
    assert moves == ["user"]


def test_a_resolved_case_closes_after_seven_days_without_reopen(cases, at):
    case_id = opened(at)["case_id"]
    service.resolve(AGENT, at.ctx(), case_id, "已到账")
    at.advance(days=6)
    assert service.sweep(at.ctx())["closed"] == 0
    at.advance(days=1, seconds=1)
    assert service.sweep(at.ctx())["closed"] == 1
    assert cases.get(case_id).status == "closed"


def test_the_final_step_is_flagged_overdue_not_escalated(cases, at):
    case_id = opened(at)["case_id"]
    for _ in range(3):
        service.escalate(AGENT if cases.get(case_id).step == "frontline" else LEAD, at.ctx(), case_id, "升级",
                         key())
    assert cases.get(case_id).step == "legal_guidance"
    at.advance(days=30)
    done = service.sweep(at.ctx())
    assert done["overdue"] == 1 and done["escalated"] == 0
    assert cases.get(case_id).overdue and cases.get(case_id).step == "legal_guidance"

