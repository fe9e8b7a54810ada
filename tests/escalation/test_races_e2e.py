"""Parallel escalations of one case over HTTP against the real local stack: one move (#11 bug 3).

The owner may escalate once the current step has answered (or its limit lapsed): a senior agent
answers first, which also pauses the step clock. The session's stack lapses frontline after 3 s
(its sweep may move a new case to senior as ``system`` before the answer) and later steps after
30 s; the tests count the owner's moves.
"""
import uuid

import pytest
import requests

from tests.conftest import burst

pytestmark = pytest.mark.e2e


def _answered_case(local_stack):
    """A new case staff has answered (waiting on the owner, clock paused): (owner's auth, case id, its step)."""
    auth = {"Authorization": f"Bearer {local_stack.token(f'race-esc-{uuid.uuid4().hex[:8]}')}"}
    agent = {"Authorization": f"Bearer {local_stack.token('race-esc-lead', role='senior-support')}"}
    opened = requests.post(f"{local_stack.api_url}/support/cases",
                           headers={**auth, "Idempotency-Key": uuid.uuid4().hex},
                           json={"category": "repayment_delay", "description": "还款三天了还没到账"}, timeout=15)
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]
    for _ in range(5):  # the sweep may move the case at the same moment: 409 version_conflict, answer again
        replied = requests.post(f"{local_stack.api_url}/support/cases/{case_id}/reply", timeout=15,
                                headers={**agent, "Idempotency-Key": uuid.uuid4().hex},
                                json={"message": "已查询，银行处理中，请再等一个工作日。", "await_user": True})
        if replied.status_code != 409:
            break
    assert replied.status_code == 200, replied.text
    return auth, case_id, replied.json()["step"]


def _owner_moves(local_stack, auth, case_id) -> list:
    view = requests.get(f"{local_stack.api_url}/support/cases/{case_id}", headers=auth, timeout=15).json()
    return [(e["from"], e["to"]) for e in view["timeline"] if e["event"] == "escalated" and e["actor"] == "user"]


def test_a_double_submitted_escalation_moves_the_case_once(local_stack):
    """Ten copies of one tap (one Idempotency-Key) at once, and one more arriving late: one move."""
    auth, case_id, step = _answered_case(local_stack)
    key = uuid.uuid4().hex
    escalate = lambda i: requests.post(  # noqa: E731
        f"{local_stack.api_url}/support/cases/{case_id}/escalate", json={"reason": "一直没人回复"},
        headers={**auth, "Idempotency-Key": key}, timeout=30)
    answers = burst(10, escalate)
    assert all(a.status_code in (200, 409) for a in answers), [(a.status_code, a.text) for a in answers]
    assert any(a.status_code == 200 for a in answers)
    late = escalate(0)
    assert late.status_code in (200, 409), late.text
    moves = _owner_moves(local_stack, auth, case_id)
    assert len(moves) == 1 and moves[0][0] == step, moves


def test_an_owner_escalating_in_parallel_moves_the_case_one_step(local_stack):
    """Ten different taps at once (ten keys): one move; a new tap before the next step answered: 409."""
    auth, case_id, step = _answered_case(local_stack)
    escalate = lambda i: requests.post(  # noqa: E731
        f"{local_stack.api_url}/support/cases/{case_id}/escalate", json={"reason": "没有解决"},
        headers={**auth, "Idempotency-Key": uuid.uuid4().hex}, timeout=30)
    answers = burst(10, escalate)
    assert sorted(a.status_code for a in answers) == [200] + [409] * 9, [(a.status_code, a.text) for a in answers]
    again = escalate(0)   # the next step has not answered and its 30 s have not lapsed
    assert again.status_code == 409, again.text
    moves = _owner_moves(local_stack, auth, case_id)
    assert len(moves) == 1 and moves[0][0] == step, moves
