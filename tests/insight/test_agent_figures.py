"""Per-agent figures (issue #25 item 7) on fixed events, worked out by hand, then over HTTP: leads only.

Histories are driven through the real case rules and turned into events by ``analytics.on_commit`` (the
``History`` helper of ``test_metrics.py``); the calendar counts weekends only, business hours 09:00–18:00."""
from __future__ import annotations

import datetime as dt

import pytest

from chalicelib.escalation import analytics, model
from chalicelib.insight import agents, rollup
from tests.insight.test_metrics import History, at


def figures(*histories) -> dict[str, dict]:
    events_ = [e for h in histories for e in h.events]
    summaries = [rollup.summarize(events_[:3]), rollup.summarize(events_[3:])]   # two rollups add up exactly
    keys = [k for k, _ in agents.COLUMNS]
    return {r[0]: dict(zip(keys, r, strict=True)) for r in agents.rows([rollup.merge(summaries)], {"wang": 2})}


@pytest.mark.unit
def test_each_agent_gets_their_own_answers_resolutions_ratings_and_reopens():
    # wang: answers A after 30 min and resolves it at 14:00 (4 h); the user reopens, li resolves it again.
    a = (History("repayment_failed", "2026-11-23 10:00", ref="RD-20261123-AAAA")
         .do("2026-11-23 10:30", model.reply, by="s1", by_name="wang", await_user=False)
         .do("2026-11-23 14:00", model.resolve, by="s1", by_name="wang", summary="已重新扣款")
         .do("2026-11-25 10:00", model.reopen, reason="还是没到账")
         .do("2026-11-25 11:00", model.resolve, by="s2", by_name="li", summary="已到账")
         .do("2026-11-25 12:00", model.confirm, rating=5))
    # li: answers B after 60 min, resolves at 12:00 (2 h); the user rates 2.
    b = (History("fees", "2026-11-24 10:00", ref="RD-20261124-BBBB")
         .do("2026-11-24 11:00", model.reply, by="s2", by_name="li", await_user=False)
         .do("2026-11-24 12:00", model.resolve, by="s2", by_name="li", summary="已退费")
         .do("2026-11-24 13:00", model.confirm, rating=2))
    got = figures(a, b)
    assert got["wang"] == {"agent": "wang", "first_responses": 1, "first_response_mean": 30.0, "resolutions": 1,
                           "resolution_mean": 240.0, "csat": None, "ratings": 0, "reopen_rate": 1.0, "open_load": 2}
    assert got["li"]["first_responses"] == 1 and got["li"]["first_response_mean"] == 60.0
    assert got["li"]["resolutions"] == 1 and got["li"]["resolution_mean"] == 120.0   # A's 2nd resolve: not a first
    assert (got["li"]["ratings"], got["li"]["csat"], got["li"]["reopen_rate"]) == (2, 0.5, 0.0)
    assert "alice" not in str(got) and "u-1" not in str(got)           # no user in the figures


@pytest.mark.unit
def test_a_merged_pair_counts_as_one_opened_case():
    from chalicelib.escalation import merging
    a = History("fees", "2026-11-24 10:00", ref="RD-20261124-AAAA")
    b = History("fees", "2026-11-24 10:05", ref="RD-20261124-BBBB")
    merged, kept = merging.merge(b.case, a.case, at("2026-11-24 10:10"), by="s1", by_name="wang")
    b._commit(merged, at("2026-11-24 10:10"))
    opened = rollup.summarize(a.events + b.events)["cases"]
    assert sum(v for k, v in opened.items() if k.startswith("opened|")) == 1
    assert analytics.resolver(kept) is None


@pytest.fixture
def demo_password():
    from infra import local
    return local.DEMO_PASSWORD


def test_leads_read_per_agent_figures_and_csv_support_agents_are_refused(api, alice, agent, lead):
    from chalicelib.kernel import clock
    from tests.escalation.conftest import BUSINESS_MORNING
    from tests.insight.test_reports_api import aggregate
    clock.freeze(BUSINESS_MORNING)
    try:
        ref = api.post("/support/cases", token=alice.token, json_body={
            "category": "repayment_delay", "description": "还款三天了还没到账，请帮忙查询"}).json["case_id"]
        clock.advance(dt.timedelta(minutes=30))
        assert api.post(f"/support/cases/{ref}/reply", token=agent.token,
                        json_body={"message": "正在核查", "await_user": False}).status == 200
        assert api.post(f"/support/cases/{ref}/assign", token=agent.token, json_body={}).status == 200
        clock.advance(dt.timedelta(minutes=10))
        aggregate()
        body = api.get("/support/reports/agents?from=2026-11-24&to=2026-11-24", token=lead.token)
        assert body.status == 200, body.text
        rows = {r[0]: r for r in body.json["tables"][0]["rows"]}
        assert rows[agent.username][1:3] == [1, 30.0] and rows[agent.username][-1] == 1   # answered once; 1 open
        assert alice.username not in body.text and alice.user_id not in body.text
        got = api.get("/support/reports/agents?from=2026-11-24&to=2026-11-24&format=csv", token=lead.token)
        assert got.status == 200 and agent.username in got.text
        for path in ("/support/reports/agents", "/support/reports/agents?format=csv"):
            refused = api.get(path, token=agent.token)
            assert refused.status == 403 and refused.json["error"]["code"] == "forbidden_role"
    finally:
        clock.reset()
