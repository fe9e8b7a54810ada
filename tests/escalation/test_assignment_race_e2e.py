"""The round-robin under concurrency over HTTP, against the real local stack (#25 item 3, "Done means"):
50 工单 opened in parallel with 5 available agents of capacity 10 → each assigned exactly once, none above 10.

"Assigned once" is read from each 工单's staff timeline (the round-robin's ``assigned`` entries at frontline).
The test has a stack of its own with the real step limits: the session stack lapses frontline after 3 s, and
under a loaded CI machine a burst's placements can take longer than that (a lapsed 工单 then waits for a
senior agent — tests/escalation/unit/test_assignment.py — and is rightly never given to these five).
"""
import collections
import uuid

import pytest
import requests

from tests.conftest import burst, start_stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def real_limits_stack():
    stack = start_stack(extra_env={"LOCAL_SCHEDULE_SECONDS": "2", "AWS_READ_TIMEOUT_SECONDS": "10",
                                   "REQUEST_BUDGET_SECONDS": "30"})
    yield stack
    stack.stop()


def test_fifty_parallel_opens_five_agents_of_ten_each_assigned_once_none_above_ten(real_limits_stack):
    local_stack = real_limits_stack
    api, run = local_stack.api_url, uuid.uuid4().hex[:6]
    lead = {"Authorization": f"Bearer {local_stack.token(f'rr-lead-{run}', role='senior-support')}"}
    agents = [f"rr-{run}-{n}" for n in range(5)]
    for name in agents:
        auth = {"Authorization": f"Bearer {local_stack.token(name, role='support')}"}
        assert requests.put(f"{api}/support/agents/me", json={"status": "available"}, headers=auth,
                            timeout=15).status_code == 200
        set_to = requests.put(f"{api}/support/agents/{name}", json={"capacity": 10}, headers=lead, timeout=15)
        assert set_to.status_code == 200 and set_to.json()["capacity"] == 10, set_to.text

    def open_one(i):
        user = {"Authorization": f"Bearer {local_stack.token(f'rr-user-{run}-{i}')}"}
        return requests.post(f"{api}/support/cases", json={"category": "repayment_delay",
                                                             "description": f"还款没到账（{i}）"},
                             headers={**user, "Idempotency-Key": uuid.uuid4().hex}, timeout=60)
    opened = burst(50, open_one)
    assert [o.status_code for o in opened] == [201] * 50, [o.text for o in opened if o.status_code != 201]

    per_agent: collections.Counter = collections.Counter()
    for answer in opened:
        view = requests.get(f"{api}/support/cases/{answer.json()['case_id']}", headers=lead, timeout=15).json()
        placed = [e["reason"] for e in view["timeline"] if e["event"] == "assigned" and e["actor"] == "system"
                  and e["to"] == "frontline" and e["reason"].startswith("自动分配给")]
        assert len(placed) == 1, view["timeline"]
        per_agent[placed[0].split()[1].split("（")[0]] += 1
    assert set(per_agent) == set(agents) and sum(per_agent.values()) == 50
    assert max(per_agent.values()) <= 10, per_agent
    team = requests.get(f"{api}/support/agents", headers=lead, timeout=15).json()
    ours = {a["name"]: a for a in team["agents"] if a["name"] in agents}
    assert all(0 <= a["load"] <= 10 for a in ours.values()), ours
