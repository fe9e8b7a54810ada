"""The lead's team view on the in-memory twins (#25 item 3): who carries which 工单, what waits, last seen, and a
lead setting another agent's status (``assignment.set_status``, behind the team page)."""
from __future__ import annotations

import pytest

from chalicelib.escalation import service
from chalicelib.kernel import refusals
from chalicelib.kernel.actor import SUPPORT, Actor
from tests.escalation.unit.conftest import ALICE, LEAD

pytestmark = pytest.mark.unit

ANN = Actor("u-ann", "ann", frozenset({SUPPORT}))
BEN = Actor("u-ben", "ben", frozenset({SUPPORT}))


def opened(at) -> str:
    return service.open_case(ALICE, at.ctx(), category="repayment_delay", description="还款三天了还没到账，请帮忙查询",
                             repayment_id=None).body["case_id"]


def test_the_team_view_lists_what_each_agent_carries_and_the_pool(cases, at):
    for agent in (ANN, BEN):
        service.me(agent, at.ctx())
        service.set_capacity(LEAD, at.ctx(), agent.username, 1)
        service.set_status(LEAD, at.ctx(), agent.username, "available")
    ids = [opened(at) for _ in range(3)]
    team = service.team(LEAD, at.ctx())
    carried = {a.name: a.carrying for a in team.agents}
    assert sorted(carried["ann"] + carried["ben"]) == sorted(ids[:2]) and len(carried["ann"]) == 1
    assert team.pool == [ids[2]] and team.waiting == 1
    # The lead sends ann away: her 工单 goes back to the pool (ben is full), and the view says so.
    gone = service.set_status(LEAD, at.ctx(), "ann", "away")
    assert gone.reassigned == 1 and gone.load == 0 and gone.status == "away"
    team = service.team(LEAD, at.ctx())
    assert sorted(team.pool) == sorted([carried["ann"][0], ids[2]]) and team.waiting == 2
    assert {a.name: a.carrying for a in team.agents}["ann"] == []


def test_last_seen_moves_when_the_agent_works_but_is_written_at_most_once_a_minute(cases, at):
    first = service.me(ANN, at.ctx()).last_seen
    assert first is not None
    at.advance(seconds=30)
    assert service.me(ANN, at.ctx()).last_seen == first
    at.advance(seconds=31)
    later = service.me(ANN, at.ctx()).last_seen
    assert later is not None and later > first


def test_only_a_lead_sets_another_agents_status_and_only_of_a_known_agent(cases, at):
    service.me(ANN, at.ctx())
    with pytest.raises(refusals.NotAllowed):
        service.set_status(BEN, at.ctx(), "ann", "away")
    with pytest.raises(refusals.Missing):
        service.set_status(LEAD, at.ctx(), "nobody", "away")
