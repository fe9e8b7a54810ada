"""#23 item 6, "the loop closes": the self-service report marks an article's publish dates on its daily deflection
chart (from ``content.service.publish_history``), so a lead sees whether the change helped."""
from __future__ import annotations

import datetime as dt
import re
import shutil

import pytest

from tests.content.conftest import EDITOR, LEAD
from tests.insight.test_reports_api import clock, demo_password, get, table  # noqa: F401  (fixtures)
from tests.web.conftest import Browser


def test_an_articles_daily_deflection_marks_the_day_a_new_version_went_live():
    from chalicelib.insight import charts, metrics

    days = [("D#2026-11-22", {"fees": [10, 3]}), ("D#2026-11-23", {"fees": [10, 4], "other": [5, 5]}),
            ("D#2026-11-24", {"fees": [10, 8]})]
    f = metrics.Filters(dt.date(2026, 11, 22), dt.date(2026, 11, 24))
    t = metrics.article_days(days, f, "fees", "手续费", {"2026-11-23": "发布第 2 版"})
    assert t.rows == [["2026-11-22", 10, 3, 0.3, None], ["2026-11-23", 10, 4, 0.4, "发布第 2 版"],
                      ["2026-11-24", 10, 8, 0.8, None]]      # after the publish: 80 % instead of 30–40 %
    svg = str(charts.render(t))
    marks = re.findall(r'<g class="mark" data-day="([\d-]+)"><title>([^<]+)</title><line x1="([\d.]+)"', svg)
    assert [(day, title) for day, title, _ in marks] == [("2026-11-23", "2026-11-23 发布第 2 版")]
    bars = [float(x) + float(w) / 2 for x, w in re.findall(r'<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)]
    assert abs(float(marks[0][2]) - bars[1]) < 1     # through the marked day's bar, not a neighbour's
    quiet = str(charts.render(metrics.article_days(days, f, "fees", "手续费", {})))
    assert 'class="mark"' not in quiet


@pytest.fixture
def published(api, clock, tmp_path):  # noqa: F811
    """fees imported on Monday 2026-11-23, a new version published on Tuesday 2026-11-24 (Shanghai)."""
    from chalicelib.content import schemas as content_schemas
    from chalicelib.content import service as content
    from tests.search._kb import FIXTURES

    clock.freeze(clock.parse("2026-11-23T02:00:00Z"))
    (tmp_path / "seed").mkdir()
    shutil.copyfile(FIXTURES / "fees.md", tmp_path / "seed" / "fees.md")
    content.import_seed(tmp_path / "seed", content.current())
    clock.freeze(clock.parse("2026-11-24T02:00:00Z"))
    shown = content.get_article(EDITOR, "fees", content.current()).text
    change = content_schemas.ArticleChange(title=shown.title, category=shown.category, body=shown.body + "\n\n更新。",
                                           tags=list(shown.tags), questions=list(shown.questions))
    content.save_draft(EDITOR, "fees", change, None, content.current())
    content.submit(EDITOR, "fees", None, content.current())
    previous = content.use_index_builder(lambda reason, requested_by="": "b-1")
    content.publish(LEAD, "fees", content.current())
    content.use_index_builder(previous)


def test_the_report_and_its_page_mark_the_publish_dates_of_one_article(api, published, lead, agent, demo_password):  # noqa: F811
    body = get(api, lead, "/support/reports/self-service?from=2026-11-22&to=2026-11-24&article=fees").json
    days = {r["day"]: r["published"] for r in table(body, "article_days")}
    assert days == {"2026-11-22": None, "2026-11-23": "导入第 1 版", "2026-11-24": "发布第 2 版"}
    assert "lead" not in str(table(body, "article_days")) and "editor" not in str(table(body, "article_days"))
    bad = get(api, lead, "/support/reports/self-service?article=../etc")
    assert bad.status == 400 and bad.json["error"]["code"]
    assert get(api, agent, "/support/reports/self-service?article=fees").status == 403

    senior = Browser(api)
    senior.sign_in("agent", "lead", demo_password)
    page = senior.get("/agent/reports?report=self-service&from=2026-11-22&to=2026-11-24&article=fees")
    assert page.status == 200, page.text
    assert '<g class="mark" data-day="2026-11-24"><title>2026-11-24 发布第 2 版</title>' in page.text
    # the range switch keeps the article; the other reports do not carry it
    assert "article=fees" in page.text and "report=cases&amp;from" in page.text
