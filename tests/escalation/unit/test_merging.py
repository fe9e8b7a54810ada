"""Merging duplicate 工单 and offering the open one first (issue #25 item 2), on the in-memory store, at a
fixed moment."""
from __future__ import annotations

import pytest

from chalicelib.escalation import service, user_side
from chalicelib.kernel import refusals
from tests.escalation.unit.conftest import AGENT, ALICE, BOB, LEAD

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def own_repayments(monkeypatch):
    """Every repayment id named here is the caller's own (the repay domain is not under test)."""
    monkeypatch.setattr(user_side, "_require_own_repayment", lambda actor, repayment_id: None)


def opened(at, who=ALICE, repayment_id=None, **kwargs) -> str:
    outcome = service.open_case(who, at.ctx(), category="repayment_delay", description="还款三天了还没到账，请帮忙查询",
                                repayment_id=repayment_id, **kwargs)
    assert outcome.status_code == 201
    return outcome.body["case_id"]


def mine(store) -> list[str]:
    return [c.case_id for c in store.cases_of_user(ALICE.user_id)]


def test_a_second_open_case_on_the_same_repayment_is_offered_the_first_unless_the_user_insists(cases, at):
    first = opened(at, repayment_id="rp-1")
    with pytest.raises(refusals.Conflicting) as refused:
        opened(at, repayment_id="rp-1")
    assert refused.value.code == "duplicate_case" and refused.value.details == {"existing": first}
    assert first in str(refused.value) and "你已有一个关于这笔还款的工单" in str(refused.value)
    assert len(cases.cases) == 1
    other = opened(at, repayment_id="rp-2")            # another repayment: no question asked
    insisted = opened(at, repayment_id="rp-1", insist=True)
    assert len({first, other, insisted}) == 3
    opened(at, who=BOB, repayment_id="rp-1")           # another user's 工单 is not "yours"


def test_merge_closes_the_duplicate_with_a_pointer_and_the_user_sees_one_case(cases, at):
    kept = opened(at, repayment_id="rp-1")
    at.advance(minutes=30)
    dup = opened(at, repayment_id="rp-1", insist=True)
    assert sorted(mine(cases)) == sorted([kept, dup])
    answer = service.merge_case(AGENT, at.ctx(), dup, kept.lower())       # typed in lower case
    assert answer.status_code == 200 and answer.body["case_id"] == kept
    merged = cases.get(dup)
    assert merged.status == "closed" and merged.merged_into == kept and merged.deadline is None
    assert mine(cases) == [kept]
    own = service.get_case(ALICE, at.ctx(), dup)
    assert any(f"已合并到 {kept}" in (e.get("text") or "") for e in own.model_dump()["timeline"])
    told = [m["text"] for m in cases.conversation(dup, "MSG")] + [m["text"] for m in cases.conversation(kept, "MSG")]
    assert any(f"后续进展请在 {kept} 中查看" in t for t in told) and not any("agent-wang" in t for t in told)
    assert [e["event"] for e in cases.get(kept).timeline][-1] == "merged_in"
    with pytest.raises(refusals.Conflicting) as offered:          # the kept one is what is offered now
        opened(at, repayment_id="rp-1")
    assert offered.value.details == {"existing": kept}


def test_the_kept_case_takes_the_earlier_clock_whichever_way_round(cases, at):
    early = opened(at)
    deadline = cases.get(early).deadline
    at.advance(hours=1)
    late = opened(at)
    assert cases.get(late).deadline > deadline
    service.merge_case(AGENT, at.ctx(), early, late)   # the later one is kept …
    assert cases.get(late).deadline == deadline        # … with the earlier one's deadline


def test_merge_only_within_one_user_and_never_twice(cases, at):
    alice, bob = opened(at), opened(at, who=BOB)
    with pytest.raises(refusals.Conflicting) as other_user:
        service.merge_case(AGENT, at.ctx(), alice, bob)
    assert other_user.value.code == "merge_other_user"
    with pytest.raises(refusals.Conflicting):
        service.merge_case(AGENT, at.ctx(), alice, alice)
    second = opened(at)
    service.merge_case(AGENT, at.ctx(), second, alice)
    with pytest.raises(refusals.Conflicting) as again:
        service.merge_case(AGENT, at.ctx(), second, alice)
    assert again.value.code == "already_merged"
    with pytest.raises(refusals.NotAllowed):           # users do not merge
        service.merge_case(ALICE, at.ctx(), alice, second)


def test_merge_is_conditional_on_both_versions(cases, at):
    kept, dup = opened(at), opened(at)
    stale = cases.get(dup)
    service.add_user_message(ALICE, at.ctx(), dup, "补充：截图见附件", None)   # dup moves meanwhile
    pair = cases.pair_elements(stale, expected_version=stale.version)
    from chalicelib.escalation import merging
    new_source, new_target = merging.merge(stale, cases.get(kept), at.now, by=AGENT.user_id)
    from chalicelib.escalation.store import ElementFailed
    with pytest.raises(ElementFailed):
        cases.save(new_target, expected_version=cases.get(kept).version,
                   extra=cases.pair_elements(new_source, expected_version=stale.version))
    assert cases.get(kept).merged_into is None and cases.get(dup).merged_into is None and pair


def test_unmerge_within_24_hours_restores_both_and_after_is_a_clear_409(cases, at):
    kept = opened(at)
    at.advance(minutes=5)
    dup = opened(at)
    before = cases.get(dup)
    kept_deadline = cases.get(kept).deadline
    service.merge_case(LEAD, at.ctx(), dup, kept)
    at.advance(hours=23)
    service.unmerge_case(LEAD, at.ctx(), dup)
    back = cases.get(dup)
    assert back.status == "open" and back.merged_into is None and back.deadline == before.deadline
    assert cases.get(kept).deadline == kept_deadline
    assert sorted(mine(cases)) == sorted([kept, dup])
    assert [e["event"] for e in back.timeline][-2:] == ["merged", "unmerged"]
    assert [e["event"] for e in cases.get(kept).timeline][-2:] == ["merged_in", "unmerged_from"]
    service.merge_case(LEAD, at.ctx(), dup, kept)
    at.advance(hours=24, seconds=1)
    with pytest.raises(refusals.Conflicting) as late:
        service.unmerge_case(LEAD, at.ctx(), dup)
    assert late.value.code == "unmerge_window_passed" and "24 小时" in str(late.value)
    assert cases.get(dup).merged_into == kept
