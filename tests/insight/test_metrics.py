"""Each report metric on a small fixed set of events, the answers worked out by hand (issue #15).

Case histories are driven through the real case rules (``model.py``) and turned into events by the
same function the service commits them with (``analytics.on_commit``); no AWS is involved. The
calendar counts weekends only (no holidays), business hours 09:00–18:00 Asia/Shanghai.
"""
import datetime as dt

from chalicelib.adapters import events
from chalicelib.escalation import analytics, hours, model
from chalicelib.insight import metrics, rollup
from chalicelib.kernel.business_calendar import BusinessCalendar

SH = dt.timezone(dt.timedelta(hours=8))
CLOCKS = hours.Clocks(BusinessCalendar())


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH)


class History:
    """One case moved by the rules; every commit's events collected as the reports read them."""

    def __init__(self, category: str, opened: str, ref: str = "RD-20261123-AAAA"):
        now = at(opened)
        case = model.open_case(case_id=ref, user_id="u-1", username="alice", category=category,
                               description="还款没到账", repayment_id=None, now=now, clocks=CLOCKS)
        self.case, self.events = None, []
        self._commit(case, now)

    def _commit(self, new, now):
        new, elements = analytics.on_commit(self.case, new, now, CLOCKS)
        self.events += [events.from_item(e["Put"]["Item"]) for e in elements]
        self.case = new
        return self

    def do(self, when: str, rule, **kwargs):
        now = at(when)
        if rule in (model.reply, model.escalate, model.reopen):
            kwargs["clocks"] = CLOCKS
        if rule in (model.user_message, model.lapse):
            return self._commit(rule(self.case, now, CLOCKS), now)
        return self._commit(rule(self.case, now, **kwargs), now)

    def kinds(self):
        return [e["kind"] for e in self.events]


def report(events_, first="2026-11-23", last="2026-11-29", **filters):
    by_hour: dict[str, list] = {}
    for e in events_:
        by_hour.setdefault(events.hour_of(dt.datetime.fromisoformat(e["at"].replace("Z", "+00:00")), "Asia/Shanghai"),
                           []).append(e)
    hours_ = [(f"H#{h}", rollup.summarize(evs)) for h, evs in sorted(by_hour.items())]
    f = metrics.Filters(dt.date.fromisoformat(first), dt.date.fromisoformat(last), **filters)
    return {t.name: t for t in metrics.cases_report(hours_, f, [])}, hours_


def row(table, key):
    return next(r for r in table.rows if r[0] == key)


def test_percentiles_are_nearest_rank_over_minutes():
    assert metrics.percentile({10: 1, 20: 1, 30: 1, 40: 1}, 50) == 20   # rank ceil(0.5 × 4) = 2
    assert metrics.percentile({10: 1, 20: 1, 30: 1, 40: 1}, 90) == 40   # rank ceil(0.9 × 4) = 4
    assert metrics.percentile({5: 3, 60: 1}, 50) == 5
    assert metrics.percentile({}, 50) is None


def test_first_response_across_a_weekend_counts_business_hours_only():
    # Friday 17:00 → Monday 10:00: Friday 17–18 (1 h) + Monday 09–10 (1 h) = 120 minutes, not 65 hours.
    h = History("repayment_delay", "2026-11-27 17:00").do("2026-11-30 10:00", model.reply, by="s1",
                                                         await_user=True)
    assert hours.measure(h.case, at("2026-11-30 10:00"), CLOCKS).first_response_seconds == 2 * 3600
    tables, hours_ = report(h.events, "2026-11-27", "2026-11-30")
    assert row(tables["response_times"], "P2")[:4] == ["P2", 1, 120, 120]  # count, median, p90
    assert row(tables["response_times"], "P2")[4] == 240                   # P2 target: 4 business hours
    assert h.case.breaches == ()                                            # 2 h < 4 h: no breach
    assert [r[1] for r in tables["daily"].rows] == [1, 0, 0, 0]             # opened on Friday 27th


def test_a_paused_clock_does_not_count_towards_resolution():
    # Monday 10:00 opened; 11:00 support answers and waits on the user (clock paused, 60 min used);
    # Tuesday 10:00 the user answers (clock runs again); 12:00 resolved → 1 h + 2 h = 180 minutes.
    h = (History("fees", "2026-11-23 10:00")
         .do("2026-11-23 11:00", model.reply, by="s1", await_user=True)
         .do("2026-11-24 10:00", model.user_message)
         .do("2026-11-24 12:00", model.resolve, by="s1", summary="已退费"))
    tables, _ = report(h.events)
    p3 = row(tables["response_times"], "P3")
    assert p3[1:3] == [1, 60]          # first response: 60 minutes
    assert p3[5:7] == [1, 180]         # resolution: 180 minutes (the night while paused is not counted)
    assert h.case.breaches == ()


def test_a_reopened_case_counts_its_first_resolution_once_and_the_reopen_on_its_day():
    # Monday 10:00 opened, 10:30 holding reply, 14:00 resolved (4 h); reopened Wednesday 10:00, resolved 11:00.
    h = (History("repayment_failed", "2026-11-23 10:00")
         .do("2026-11-23 10:30", model.reply, by="s1", await_user=False)
         .do("2026-11-23 14:00", model.resolve, by="s1", summary="已重新扣款")
         .do("2026-11-25 10:00", model.reopen, reason="还是没到账")
         .do("2026-11-25 11:00", model.resolve, by="s1", summary="已到账"))
    tables, _ = report(h.events)
    p2 = row(tables["response_times"], "P2")
    assert p2[1:3] == [1, 30]
    assert p2[5:8] == [1, 240, 240]    # one resolution sample: the first, 4 h
    daily = {r[0]: r[1:] for r in tables["daily"].rows}
    assert daily["2026-11-23"][:4] == [1, 0, 1, 0]   # opened, escalated, resolved, reopened
    assert daily["2026-11-25"][:4] == [0, 0, 1, 1]
    # the clock ran 4 h + 1 h in all: the time between the resolve and the reopen is not the team's
    assert hours.measure(h.case, at("2026-11-26 10:00"), CLOCKS).running_seconds == 5 * 3600


def test_an_answer_at_the_exact_limit_is_a_breach_recorded_once():
    # P2 frontline: 4 business hours from Monday 10:00 → 14:00 sharp; the P2 first-response target is 4 h too.
    in_time = History("repayment_delay", "2026-11-23 10:00").do("2026-11-23 13:59", model.reply, by="s1",
                                                                await_user=True)
    assert in_time.case.breaches == () and "breach" not in in_time.kinds()

    late = History("repayment_delay", "2026-11-23 10:00").do("2026-11-23 14:00", model.reply, by="s1",
                                                             await_user=False)
    assert late.case.breaches == ("first_response", "step:frontline")
    breaches = [e for e in late.events if e["kind"] == "breach"]
    assert sorted(e["key"] for e in breaches) == ["first_response", "step:frontline"]
    assert {e["id"] for e in breaches} == {"RD-20261123-AAAA-breach-first_response",
                                           "RD-20261123-AAAA-breach-step-frontline"}
    # the next lapse of the same step (the fresh limit after the holding reply) adds nothing new
    late.do("2026-11-23 18:00", model.lapse)
    assert late.case.step == "senior" and late.case.breaches == ("first_response", "step:frontline")
    assert len([e for e in late.events if e["kind"] == "breach"]) == 2
    tables, _ = report(late.events)
    # step limit, first response, resolution, total
    assert row(tables["breaches_by_step"], "frontline")[2:] == [1, 1, 0, 2]
    assert row(tables["escalated_by_step"], "senior")[2] == 1


def test_the_sweep_at_the_exact_limit_records_the_breach_of_an_unanswered_case():
    h = History("repayment_delay", "2026-11-23 10:00").do("2026-11-23 14:00", model.lapse)
    assert h.case.step == "senior" and h.case.breaches == ("first_response", "step:frontline")


def test_security_cases_count_round_the_clock():
    # Saturday 22:00 opened (P1, senior, 2 h round the clock); answered Sunday 00:30 → 150 minutes, a breach.
    h = History("account_security", "2026-11-28 22:00").do("2026-11-29 00:30", model.reply, by="s1",
                                                          await_user=True)
    assert hours.measure(h.case, at("2026-11-29 00:30"), CLOCKS).first_response_seconds == 150 * 60
    assert h.case.breaches == ("first_response", "step:senior")


def test_filters_by_category_and_step():
    a = History("fees", "2026-11-23 10:00", ref="RD-20261123-AAAA")
    b = History("repayment_delay", "2026-11-23 10:00", ref="RD-20261123-BBBB").do(
        "2026-11-23 11:00", model.escalate, actor="support", reason="转高级", by="s1")
    both = a.events + b.events

    def daily(**f):
        return {r[0]: r[1:3] for r in report(both, **f)[0]["daily"].rows}["2026-11-23"]

    assert daily() == [2, 1]
    assert daily(category="fees") == [1, 0]
    assert daily(step="senior") == [0, 1]        # opened at frontline; escalated to senior


def _event(kind, when, **fields):
    return {"kind": kind, "at": when, "id": f"{kind}-{when}-{len(fields)}", **fields}


def test_csat_per_week_category_step_and_low_rating_comments():
    evs = [_event("csat", "2026-11-24T02:00:00.000Z", case="RD-1", category="fees", step="frontline", rating=5),
           _event("csat", "2026-11-24T03:00:00.000Z", case="RD-2", category="fees", step="senior", rating=4),
           _event("csat", "2026-11-25T03:00:00.000Z", case="RD-3", category="repayment_delay", step="senior",
                  rating=2, comment="等了三天"),
           _event("csat", "2026-11-26T03:00:00.000Z", case="RD-4", category="repayment_delay", step="frontline",
                  rating=1),
           _event("csat", "2026-12-01T03:00:00.000Z", case="RD-5", category="fees", step="frontline", rating=3)]
    hours_ = [(f"H#{events.hour_of(dt.datetime.fromisoformat(e['at'].replace('Z', '+00:00')), 'Asia/Shanghai')}",
               rollup.summarize([e])) for e in evs]
    f = metrics.Filters(dt.date(2026, 11, 23), dt.date(2026, 12, 6))
    t = {t.name: t for t in metrics.satisfaction_report(hours_, f)}
    assert t["weekly"].rows == [["2026-11-23", 4, 2, 0.5], ["2026-11-30", 1, 0, 0.0]]
    assert row(t["by_category"], "fees")[2:] == [3, 2, 0.667]
    assert row(t["by_category"], "repayment_delay")[2:] == [2, 0, 0.0]
    assert row(t["by_step"], "senior")[2:] == [2, 1, 0.5]
    assert t["low_ratings"].rows == [["2026-11-25T03:00:00.000Z", "RD-3", 2, "repayment_delay", "senior", "等了三天"]]
    senior = metrics.Filters(f.first, f.last, step="senior")
    only_senior = {x.name: x for x in metrics.satisfaction_report(hours_, senior)}
    assert only_senior["weekly"].rows[0] == ["2026-11-23", 2, 1, 0.5]


def test_searches_zero_results_click_through_and_queries_without_a_click():
    day = "2026-11-24T02:0"
    evs = [_event("search", day + "1:00.000Z", query="还款没到账", results=3, zero=False),
           _event("search", day + "2:00.000Z", query="还款没到账", results=3, zero=False),
           _event("search", day + "3:00.000Z", query="客服电话", results=2, zero=False),
           _event("search", day + "4:00.000Z", query="xyz", results=0, zero=True),
           _event("click", day + "5:00.000Z", query="客服电话", slug="find-hotline"),
           _event("article_view", day + "5:01.000Z", slug="find-hotline"),
           _event("article_view", day + "6:00.000Z", slug="find-hotline"),
           _event("article_vote", day + "7:00.000Z", slug="find-hotline", helpful=True),
           _event("article_vote", day + "8:00.000Z", slug="find-hotline", helpful=True),
           _event("article_vote", day + "9:00.000Z", slug="find-hotline", helpful=False),
           _event("search_case", day + "9:30.000Z", query="还款没到账", slug="repayment-delay")]
    hours_ = [("H#2026-11-24T10", rollup.summarize(evs))]
    f = metrics.Filters(dt.date(2026, 11, 24), dt.date(2026, 11, 24))
    t = {t.name: t for t in metrics.self_service_report(hours_, [], f, {"find-hotline": {"title": "客服热线",
                                                                                         "category": "contact"}})}
    assert t["daily"].rows == [["2026-11-24", 4, 1, 0.25, 1, 0.25, 1]]
    assert t["queries_without_click"].rows == [["还款没到账", 2], ["xyz", 1]]
    hotline = row(t["articles"], "find-hotline")
    assert hotline[1:8] == ["客服热线", 2, 2, 1, 0.667, 1, 0]   # title, views, helpful, not, share, clicks, cases after
    assert row(t["articles"], "repayment-delay")[7] == 1


def test_deflection_is_the_share_of_readers_without_a_case_within_24_hours():
    u1, u2, u3, u4 = "a00000000001", "a00000000002", "a00000000003", "a00000000004"
    day = [  # Shanghai 2026-11-24 (UTC times)
        _event("article_view", "2026-11-24T02:00:00.000Z", slug="repayment-delay", user=u1),
        _event("case.created", "2026-11-24T12:00:00.000Z", user=u1),          # 10 h later: not deflected
        _event("article_view", "2026-11-24T03:00:00.000Z", slug="repayment-delay", user=u2),
        _event("search", "2026-11-24T04:00:00.000Z", query="手续费", user=u3),   # searched, never opened a case
        _event("article_view", "2026-11-24T15:00:00.000Z", slug="fees", user=u4),
        _event("article_view", "2026-11-24T05:00:00.000Z", slug="fees"),     # anonymous: not counted
    ]
    next_day = [_event("case.created", "2026-11-25T04:00:00.000Z", user=u2),  # 25 h after reading: deflected
                _event("case.created", "2026-11-25T14:00:00.000Z", user=u4)]  # 23 h after reading: not deflected
    result = rollup.deflection(day, next_day)
    assert result == {"*": [4, 2], "repayment-delay": [2, 1], "fees": [1, 0]}
    f = metrics.Filters(dt.date(2026, 11, 24), dt.date(2026, 11, 24))
    t = {t.name: t for t in metrics.self_service_report([], [("D#2026-11-24", result)], f, {})}
    assert t["deflection"].rows == [[4, 2, 0.5]]
    assert row(t["articles"], "repayment-delay")[8:] == [2, 1, 0.5]
