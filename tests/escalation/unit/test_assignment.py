"""Assignment (#25 item 3) on the in-memory twins: round-robin, capacity, the pool, away hand-back, reassignment."""
from __future__ import annotations

import uuid

import pytest

from chalicelib.escalation import service
from chalicelib.kernel import refusals
from chalicelib.kernel.actor import SUPPORT, Actor
from tests.escalation.unit.conftest import ALICE, BOB, LEAD

pytestmark = pytest.mark.unit

ANN = Actor("u-ann", "ann", frozenset({SUPPORT}))
BEN = Actor("u-ben", "ben", frozenset({SUPPORT}))
CAT = Actor("u-cat", "cat", frozenset({SUPPORT}))


def opened(at, who=ALICE) -> str:
    return service.open_case(who, at.ctx(), category="repayment_delay", description="还款三天了还没到账，请帮忙查询",
                             repayment_id=None).body["case_id"]


def available(at, *agents, capacity=None):
    for agent in agents:
        service.set_my_status(agent, at.ctx(), "available")
        if capacity is not None:
            service.set_capacity(LEAD, at.ctx(), agent.username, capacity)


def assignee(cases, case_id):
    return cases.get(case_id).assignee


def loads(at):
    return {a.name: (a.status, a.capacity, a.load) for a in service.team(LEAD, at.ctx()).agents}


def test_two_agents_of_capacity_one_three_new_cases_go_one_one_and_one_waits(cases, at):
    available(at, ANN, BEN, capacity=1)
    first, second, third = (opened(at) for _ in range(3))
    assert {assignee(cases, first), assignee(cases, second)} == {"ann", "ben"}
    assert assignee(cases, third) is None
    team = service.team(LEAD, at.ctx())
    assert team.waiting == 1 and loads(at) == {"ann": ("available", 1, 1), "ben": ("available", 1, 1)}
    # Resolving frees a place: the waiting one goes to whoever freed it.
    done = first if assignee(cases, first) == "ann" else second
    service.resolve(ANN, at.ctx(), done, "已查明：银行处理延迟，款项已到账。")
    assert assignee(cases, third) == "ann"
    assert loads(at)["ann"] == ("available", 1, 1) and service.team(LEAD, at.ctx()).waiting == 0


def test_round_robin_takes_turns_and_skips_who_is_away(cases, at):
    available(at, ANN, BEN, CAT, capacity=10)
    service.set_my_status(CAT, at.ctx(), "away")
    order = [assignee(cases, opened(at)) for _ in range(6)]
    assert sorted(order) == ["ann", "ann", "ann", "ben", "ben", "ben"]
    assert all(a != b for a, b in zip(order, order[1:], strict=False))   # turns alternate


def test_nobody_available_all_wait_and_an_agent_coming_online_pulls_up_to_capacity(cases, at):
    service.me(ANN, at.ctx())                      # registered, offline
    service.set_capacity(LEAD, at.ctx(), "ann", 2)
    ids = [opened(at) for _ in range(3)]
    assert [assignee(cases, i) for i in ids] == [None, None, None]
    came = service.set_my_status(ANN, at.ctx(), "available")
    assert came.reassigned == 2 and came.load == 2
    assert sorted(str(assignee(cases, i)) for i in ids) == ["None", "ann", "ann"]


def test_going_away_hands_open_cases_back_and_they_are_reassigned(cases, at):
    available(at, ANN, BEN, capacity=5)
    ids = [opened(at) for _ in range(4)]
    anns = [i for i in ids if assignee(cases, i) == "ann"]
    gone = service.set_my_status(ANN, at.ctx(), "away")
    assert gone.reassigned == 2 and gone.load == 0
    assert [assignee(cases, i) for i in ids] == ["ben"] * 4
    assert loads(at) == {"ann": ("away", 5, 0), "ben": ("available", 5, 4)}
    staff = service.get_case(LEAD, at.ctx(), anns[0])
    assert any("退回待分配" in e.text and "ann" in e.text for e in staff.timeline)
    mine = service.get_case(ALICE, at.ctx(), anns[0]).model_dump_json()
    assert "ann" not in mine and "ben" not in mine and "退回" not in mine


def test_the_lead_reassigns_to_a_named_agent_within_capacity_only(cases, at):
    available(at, ANN, BEN, capacity=1)
    first, second = opened(at), opened(at, BOB)
    held_by_ann = first if assignee(cases, first) == "ann" else second
    with pytest.raises(refusals.Conflicting) as full:
        service.assign(LEAD, at.ctx(), held_by_ann, "ben", idempotency_key=str(uuid.uuid4()))
    assert full.value.code == "agent_at_capacity" and assignee(cases, held_by_ann) == "ann"
    service.set_capacity(LEAD, at.ctx(), "ben", 2)
    service.assign(LEAD, at.ctx(), held_by_ann, "ben")
    assert assignee(cases, held_by_ann) == "ben"
    assert loads(at) == {"ann": ("available", 1, 0), "ben": ("available", 2, 2)}


def test_an_unknown_assignee_is_refused_and_nothing_changes(cases, at):
    case_id = opened(at)
    with pytest.raises(refusals.Invalid) as refused:
        service.assign(LEAD, at.ctx(), case_id, "somebody-typed-this")
    assert refused.value.code == "unknown_agent" and assignee(cases, case_id) is None


def test_only_a_lead_sees_the_team_or_sets_capacity(cases, at):
    service.me(ANN, at.ctx())
    with pytest.raises(refusals.NotAllowed):
        service.team(ANN, at.ctx())
    with pytest.raises(refusals.NotAllowed):
        service.set_capacity(ANN, at.ctx(), "ann", 50)
    with pytest.raises(refusals.NotAllowed):
        service.me(ALICE, at.ctx())


def test_escalating_frees_the_frontline_agent_and_goes_to_an_available_senior(cases, at):
    available(at, ANN, LEAD, capacity=3)
    case_id = opened(at)
    assert assignee(cases, case_id) == "ann"
    service.escalate(ANN, at.ctx(), case_id, "需要高级客服核实", idempotency_key=str(uuid.uuid4()))
    assert cases.get(case_id).step == "senior" and assignee(cases, case_id) == LEAD.username
    assert loads(at)["ann"][2] == 0 and loads(at)[LEAD.username][2] == 1


def test_presence_names_the_other_agents_on_a_case_and_forgets_them_after_ten_seconds(cases, at):
    case_id = opened(at)
    assert service.presence(ANN, at.ctx(), case_id, typing=False).others == []
    at.advance(seconds=3)
    seen_by_ben = service.presence(BEN, at.ctx(), case_id, typing=True).others
    assert [(o.name, o.typing) for o in seen_by_ben] == [("ann", False)]
    seen_by_ann = service.presence(ANN, at.ctx(), case_id, typing=False).others
    assert [(o.name, o.typing) for o in seen_by_ann] == [("ben", True)]
    at.advance(seconds=11)   # ben stopped polling: gone from what ann sees
    assert service.presence(ANN, at.ctx(), case_id, typing=False).others == []
    with pytest.raises(refusals.Missing):   # a user is not staff: the case is not theirs to watch
        service.presence(BOB, at.ctx(), case_id, typing=False)


def test_a_case_escalated_while_being_placed_is_not_given_to_a_frontline_agent(cases, at):
    """The sweep moves a waiting 工单 on to senior between the placement's read and its write: the placement's
    retry looks among senior agents (none here: it waits), never hands it to the frontline agent it first tried."""
    from chalicelib.escalation import casework, hours, model, placement

    case_id = opened(at)                                  # nobody available yet: it waits at frontline
    stale = cases.get(case_id)
    ctx = at.ctx()
    moved = model.escalate(stale, ctx.now, clocks=hours.clocks(ctx.settings), actor="system",
                           reason="一线客服未在时限内答复，系统自动升级")
    casework.commit(stale, moved, ctx=ctx)                # the sweep's move lands first
    available(at, ANN, capacity=10)                       # a frontline agent comes online (pulls frontline only)
    placed = placement.place(at.ctx(), stale, casework.commit)   # a placement still holding the old read
    assert placed.step == "senior" and placed.assignee is None
    assert cases.get(case_id).assignee is None and loads(at)["ann"] == ("available", 10, 0)
