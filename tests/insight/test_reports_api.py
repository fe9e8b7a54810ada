"""The report routes: senior support only, filters, CSV, the page — over events the real services recorded."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest

from tests.escalation.conftest import BUSINESS_MORNING
from tests.web.conftest import Browser

REPORTS = ("cases", "satisfaction", "self-service")


@pytest.fixture
def demo_password():
    from infra import local
    return local.DEMO_PASSWORD


@pytest.fixture
def clock(aws):
    from chalicelib.kernel import clock as clock_module
    clock_module.freeze(BUSINESS_MORNING)  # Tuesday 2026-11-24 10:00 Shanghai
    yield clock_module
    clock_module.reset()


def aggregate():
    from chalicelib.adapters import events
    from chalicelib.insight import rollup
    from chalicelib.kernel.context import Context
    events.flush()
    return rollup.run(Context.current())


@pytest.fixture
def history(api, clock, alice, bob, agent, lead):
    """Two cases through the API (alice: repayment_delay answered by the agent, then resolved; bob: fees),
    two searches (one found nothing), an article read and a vote (11:30) — then the aggregation job at 11:40."""
    opened = api.post("/support/cases", token=alice.token,
                      json_body={"category": "repayment_delay", "description": "还款三天了还没到账，请帮忙查询"})
    assert opened.status == 201, opened.text
    ref = opened.json["case_id"]
    assert api.post("/support/cases", token=bob.token,
                    json_body={"category": "fees", "description": "手续费比说的多了，请核实"}).status == 201
    clock.advance(dt.timedelta(minutes=30))
    assert api.post(f"/support/cases/{ref}/reply", token=agent.token,
                    json_body={"message": "正在核查", "await_user": False}).status == 200
    clock.advance(dt.timedelta(hours=1))
    assert api.post(f"/support/cases/{ref}/resolve", token=agent.token, json_body={"summary": "已到账"}).status == 200
    assert api.get("/kb/search?q=客服电话多少").status == 200
    assert api.get("/kb/search?q=zzqqxxyy").status == 200
    assert api.get("/kb/articles/find-hotline").status == 200
    assert api.post("/kb/articles/find-hotline/feedback", json_body={"helpful": True}).status == 201
    clock.advance(dt.timedelta(minutes=10))  # reports lag: the 11:30 slot is final at 11:37 (rollup.SETTLE)
    aggregate()
    return ref


def get(api, user, path):
    return api.get(path, token=user.token)


def table(body, name):
    found = next(t for t in body["tables"] if t["name"] == name)
    keys = [c["key"] for c in found["columns"]]
    return [dict(zip(keys, row, strict=True)) for row in found["rows"]]


def test_frontline_agents_and_users_are_refused_every_report(api, clock, alice, agent):
    for report in REPORTS:
        assert get(api, alice, f"/support/reports/{report}").status == 403
        refused = get(api, agent, f"/support/reports/{report}?format=csv")
        assert refused.status == 403 and refused.json["error"]["code"] == "forbidden_role"
        assert api.get(f"/support/reports/{report}").status == 401


def test_the_cases_report_counts_what_happened_today(api, history, lead, alice, bob):
    body = get(api, lead, "/support/reports/cases?from=2026-11-18&to=2026-11-24").json
    assert (body["from"], body["to"]) == ("2026-11-18", "2026-11-24")
    today = next(r for r in table(body, "daily") if r["day"] == "2026-11-24")
    assert (today["opened"], today["resolved"], today["replies"]) == (2, 1, 1)
    p2 = next(r for r in table(body, "response_times") if r["priority"] == "P2")
    assert (p2["first_response_count"], p2["first_response_median"]) == (1, 30)
    assert (p2["resolution_count"], p2["resolution_median"]) == (1, 90)
    oldest = table(body, "oldest_open")
    assert [r["category"] for r in oldest] == ["fees"]   # alice's case is resolved: no longer open
    assert alice.user_id not in str(body) and bob.user_id not in str(body)
    assert history not in {r["case_id"] for r in oldest}


def test_filters_narrow_every_table(api, history, lead):
    body = get(api, lead, "/support/reports/cases?from=2026-11-24&to=2026-11-24&category=fees").json
    assert table(body, "daily") == [{"day": "2026-11-24", "opened": 1, "escalated": 0, "resolved": 0,
                                     "reopened": 0, "replies": 0}]
    body = get(api, lead, "/support/reports/cases?from=2026-11-24&to=2026-11-24&step=senior").json
    assert table(body, "daily")[0]["opened"] == 0 and table(body, "oldest_open") == []


def test_the_self_service_report_counts_searches_views_and_votes(api, history, lead):
    body = get(api, lead, "/support/reports/self-service?from=2026-11-24&to=2026-11-24").json
    assert table(body, "daily")[0] == {"day": "2026-11-24", "searches": 2, "zero_results": 1, "zero_rate": 0.5,
                                       "clicks": 0, "ctr": 0.0, "cases_after_search": 0}
    hotline = next(r for r in table(body, "articles") if r["slug"] == "find-hotline")
    assert (hotline["views"], hotline["helpful"], hotline["helpful_share"]) == (1, 1, 1.0)
    assert {r["query"] for r in table(body, "queries_without_click")} == {"客服电话多少", "zzqqxxyy"}
    contact_only = get(api, lead, "/support/reports/self-service?from=2026-11-24&to=2026-11-24&category=security").json
    assert all(r["slug"] != "find-hotline" for r in table(contact_only, "articles"))


def test_running_the_job_again_counts_nothing_twice(api, history, lead):
    before = get(api, lead, "/support/reports/cases?from=2026-11-24&to=2026-11-24").json
    aggregate()
    aggregate()
    assert get(api, lead, "/support/reports/cases?from=2026-11-24&to=2026-11-24").json["tables"] == before["tables"]


def test_every_table_downloads_as_csv(api, history, lead):
    body = get(api, lead, "/support/reports/cases?from=2026-11-24&to=2026-11-24").json
    for t in body["tables"]:
        got = get(api, lead, f"/support/reports/cases?from=2026-11-24&to=2026-11-24&format=csv&table={t['name']}")
        assert got.status == 200 and got.headers["content-type"].startswith("text/csv")
        assert f'filename="cases-{t["name"]}-2026-11-24-2026-11-24.csv"' in got.headers["content-disposition"]
        rows = list(csv.reader(io.StringIO(got.text.lstrip("\ufeff"))))
        assert rows[0] == [c["key"] for c in t["columns"]]
        assert rows[1:] == [["" if cell is None else str(cell) for cell in row] for row in t["rows"]]
    default = get(api, lead, "/support/reports/satisfaction?format=csv")
    assert default.text.lstrip("\ufeff").startswith("week,ratings,satisfied,csat")


@pytest.mark.parametrize("query, field", [
    ("from=2026-13-01", "from"), ("to=yesterday", "to"), ("from=2026-11-24&to=2026-11-01", "from"),
    ("from=2024-01-01&to=2026-11-24", "from"), ("to=0001-01-05", "to"), ("from=9999-12-30&to=9999-12-31", "from"),
    ("category=nonsense", "category"), ("step=ceo", "step"),
    ("format=xml", "format"), ("format=csv&table=nope", "table"), ("admin=1", "admin")])
def test_bad_filters_are_clear_400s(api, clock, lead, query, field):
    got = get(api, lead, f"/support/reports/cases?{query}")
    assert got.status == 400, got.text
    assert got.json["error"]["field"] == field and got.json["error"]["message"]


def test_an_unknown_report_is_404(api, clock, lead):
    assert get(api, lead, "/support/reports/revenue").status == 404


def test_the_page_is_for_senior_support_signed_in_to_the_workspace(api, history, lead, agent, alice, demo_password):
    nobody = Browser(api).get("/agent/reports")
    assert nobody.status == 303 and nobody.headers["location"].startswith("/agent/login?next=")

    senior = Browser(api)
    senior.sign_in("agent", "lead", demo_password)
    page = senior.get("/agent/reports?report=cases&from=2026-11-18&to=2026-11-24")
    assert page.status == 200, page.text
    assert '<html lang="zh-CN">' in page.text and "<svg" in page.text and "http" not in page.text.split("<body")[0]
    link = "/agent/reports?report=cases&amp;from=2026-11-18&amp;to=2026-11-24&amp;format=csv&amp;table=daily"
    assert link in page.text
    csv_page = senior.get(link.replace("&amp;", "&"))
    assert csv_page.status == 200 and csv_page.headers["content-type"].startswith("text/csv")
    api_csv = get(api, lead, "/support/reports/cases?from=2026-11-18&to=2026-11-24&format=csv&table=daily")
    assert csv_page.text == api_csv.text   # the page's download is the JSON twin's CSV
    assert 'data-testid="range-7"' in page.text
    assert "2026-11-18 至 2026-11-24" in page.text
    searches = senior.get("/agent/reports?report=self-service&from=2026-11-24&to=2026-11-24")
    row = re.search(r'<td class="text">zzqqxxyy <a class="write" href="([^"]+)"[^>]*>写一篇文章</a>', searches.text)
    assert row and row.group(1) == "/agent/kb/new?question=zzqqxxyy"   # the unanswered search becomes a draft
    bad = senior.get("/agent/reports?from=someday")
    assert bad.status == 400 and "YYYY-MM-DD" in bad.text

    frontline = Browser(api)
    frontline.sign_in("agent", "agent", demo_password)
    assert frontline.get("/agent/reports").status == 403

    user = Browser(api)
    user.sign_in("help", "alice", demo_password)
    assert user.get("/agent/reports").status in (303, 403)


def test_events_hold_no_personal_data(api, history, alice, bob):
    from chalicelib.adapters import aws
    from chalicelib.config import settings
    table_name = settings().events_table
    items = aws.client("dynamodb").scan(TableName=table_name)["Items"]  # test only: no Scan in the app
    text = str(items)
    assert items and alice.user_id not in text and bob.user_id not in text and "+86138" not in text
    assert "'alice'" not in text and "'bob'" not in text
    assert "还款三天了还没到账" not in text  # the case description never leaves the case
    from chalicelib.adapters import events
    with pytest.raises(events.BadEvent):
        events.record("search", phone="13800138000")
    with pytest.raises(events.BadEvent):
        events.record("search", user="not-a-hash")


def test_a_rating_on_the_case_becomes_one_csat_event(aws, clock):
    """The hook branch ``mycases`` uses: a case that gets ``csat`` records one ``csat`` event."""
    import dataclasses

    from chalicelib.adapters import events
    from chalicelib.config import settings
    from chalicelib.escalation import analytics, hours
    from tests.insight.test_metrics import History
    h = History("fees", "2026-11-24 10:00")
    case = h.case
    if "csat" not in {f.name for f in dataclasses.fields(case)}:
        pytest.skip("Case.csat arrives with branch mycases")
    csat = {"rating": 2, "comment": "打了三次 13800138000 没人接", "at": "2026-11-24T03:00:00.000Z"}
    rated = dataclasses.replace(case, csat=csat, version=case.version + 1)
    _, elements = analytics.on_commit(case, rated, clock.now(), hours.clocks(settings()))
    got = [events.from_item(e["Put"]["Item"]) for e in elements if e["Put"]["Item"]["kind"]["S"] == "csat"]
    assert len(got) == 1 and got[0]["rating"] == 2 and "13800138000" not in got[0]["comment"]
    _, again = analytics.on_commit(rated, dataclasses.replace(rated, version=rated.version + 1), clock.now(),
                                   hours.clocks(settings()))
    assert not any(e["Put"]["Item"]["kind"]["S"] == "csat" for e in again)


def test_finished_days_are_compacted_and_deflection_written_once_final(api, history, lead, clock, alice):
    """Thursday 04:10: Tuesday is finished (one summary item) and two days old (its deflection is final)."""
    from chalicelib.adapters import events
    before = get(api, lead, "/support/reports/cases?from=2026-11-24&to=2026-11-24").json["tables"]
    assert api.get("/support/suggestions?q=客服电话多少", token=alice.token).status == 200  # signed in: a reader
    clock.advance(dt.timedelta(days=1, hours=16, minutes=30))      # Thursday 2026-11-26 04:10 Shanghai
    done = aggregate()
    assert done["days"] >= 1 and done["deflection_days"] == 1
    assert events.has_rollup("S#2026-11-24") and events.has_rollup("D#2026-11-24")
    after = get(api, lead, "/support/reports/cases?from=2026-11-24&to=2026-11-24").json["tables"]
    assert [t for t in after if t["name"] != "oldest_open"] == [t for t in before if t["name"] != "oldest_open"]
    body = get(api, lead, "/support/reports/self-service?from=2026-11-24&to=2026-11-24").json
    # alice opened a case at 10:00 and searched at 11:40 — no case in the 24 h after her search: deflected
    assert table(body, "deflection") == [{"users": 1, "deflected": 1, "deflection": 1.0}]
    assert aggregate()["deflection_days"] == 1   # the next missing day of the week, not Tuesday again


def _text(html: str) -> str:
    """What a reader sees: the page without tags, scripts and styles."""
    import re
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_page_shows_words_local_times_targets_and_links_not_codes_or_files(api, history, lead, demo_password):
    """Every code in words (staff wording), every time in Shanghai time, the SLA targets drawn and named, the
    oldest open 工单 linked to their workspace page — and no source file named."""
    import re
    senior = Browser(api)
    senior.sign_in("agent", "lead", demo_password)
    page = senior.get("/agent/reports?report=cases&from=2026-11-18&to=2026-11-24")
    assert page.status == 200, page.text
    seen = _text(page.text)
    oldest = re.search(r'data-testid="table-oldest_open">(.*?)</section>', page.text, re.S).group(1)
    ref = re.search(r'<a href="/agent/cases/(RD-\d{8}-[0-9A-Z]{4})">\1</a>', oldest).group(1)
    row = _text(re.search(rf"<tr>\s*<td[^>]*><a href=\"/agent/cases/{ref}\">.*?</tr>", oldest, re.S).group(0))
    # bob's fees case, opened at 10:00 Shanghai (02:00 UTC) at frontline, P3, still open
    assert row.split() == [ref, "费用问题", "P3", "普通", "一线客服", "处理中", "2026-11-24", "10:00", "1.7"]
    for code in ("repayment_delay", "repayment_failed", "account_security", "fees", "other", "frontline", "senior",
                 "public_feedback", "legal_guidance", "waiting_user", "open"):
        assert not re.search(rf"(?<![\w/-]){code}(?![\w-])", seen), f"raw code {code!r} shown"
    assert "生成于 2026-11-24 11:40" in seen and "T02:" not in seen and "Z " not in seen
    # the SLA targets: in words, and as a tick on each priority's bars (minutes)
    assert "P2 高 4 / 18 小时" in seen and "sla.yaml" not in page.text and "chalicelib" not in page.text
    times = re.search(r'data-testid="table-response_times">(.*?)</section>', page.text, re.S).group(1)
    ticks = re.findall(r'<g class="target" data-target="(\d+)">', times)
    assert ticks and set(ticks) <= {"60", "240", "480", "1080", "2160"} and "240" in ticks and "1080" in ticks
    assert "P2 高" in times.split("</svg>")[0]  # chart labels in words too

    # the JSON twin keeps the codes and UTC times programs read
    body = get(api, lead, "/support/reports/cases?from=2026-11-18&to=2026-11-24").json
    assert table(body, "oldest_open")[0]["category"] == "fees"
    assert table(body, "oldest_open")[0]["created_at"] == "2026-11-24T02:00:00.000Z"


def test_the_satisfaction_page_names_its_target(api, history, lead, demo_password):
    senior = Browser(api)
    senior.sign_in("agent", "lead", demo_password)
    page = senior.get("/agent/reports?report=satisfaction&from=2026-11-18&to=2026-11-24")
    assert page.status == 200 and "满意率目标：85%" in _text(page.text)
    body = get(api, lead, "/support/reports/satisfaction?from=2026-11-18&to=2026-11-24").json
    assert "满意率目标：85%（图中虚线）。" in body["notes"]
