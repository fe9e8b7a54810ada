"""Steps as data, business-hours step clocks, references."""
import datetime as dt
import re

import pytest

from tests.escalation.conftest import SHANGHAI


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def clock_for(step: str, *, security: bool):
    from chalicelib.config import settings
    from chalicelib.escalation import hours
    return hours.clocks(settings()).for_step(step, security=security)


def test_steps_are_declared_in_order_with_limits_teams_and_topics(aws):
    from chalicelib.config import settings
    from chalicelib.escalation import steps
    assert steps.NAMES == ("frontline", "senior", "public_feedback", "legal_guidance")
    assert [s.final for s in steps.STEPS] == [False, False, False, True]
    assert all(s.limit_hours > 0 and s.security_limit_hours > 0 for s in steps.STEPS)
    cfg = settings()
    assert steps.get("senior").topic(cfg) == f"repaydesk-{cfg.stage}-escalation-senior"
    assert steps.get("public_feedback").queue(cfg) == f"repaydesk-{cfg.stage}-team-public-feedback"
    import infra
    declared = {(t["name"], tuple(t["queues"])) for t in infra.topics(cfg)}
    # one topic per step, its team queue subscribed
    assert {(s.topic(cfg), (s.queue(cfg),)) for s in steps.STEPS} <= declared
    assert steps.next_step("public_feedback").name == "legal_guidance"
    assert steps.next_step("legal_guidance") is None
    assert "更高级别" in steps.get("senior").description


def test_business_hours_skip_nights_weekends_and_holidays(aws):
    frontline = clock_for("frontline", security=False)  # 4 business hours
    # Tuesday 16:00 + 4 h → 2 h today, 2 h from Wednesday 09:00
    assert frontline.deadline(at("2026-11-24 16:00")) == at("2026-11-25 11:00")
    # Friday 17:00 → Monday 12:00
    assert frontline.deadline(at("2026-11-27 17:00")) == at("2026-11-30 12:00")
    # Opened on Saturday night → counted from Monday 09:00
    assert frontline.deadline(at("2026-11-28 22:00")) == at("2026-11-30 13:00")
    # 2026-10-01..07 are National Day holidays on the shared calendar
    assert frontline.deadline(at("2026-09-30 17:00")) == at("2026-10-08 12:00")
    assert frontline.used(at("2026-11-27 17:00"), at("2026-11-30 10:00")) == 2 * 3600


def test_security_cases_count_round_the_clock(aws):
    senior = clock_for("senior", security=True)
    assert senior.deadline(at("2026-11-28 23:00")) == at("2026-11-29 01:00")  # Saturday night, 2 h


def test_step_limit_overrides_are_wall_clock_seconds(aws, monkeypatch):
    from chalicelib import config
    monkeypatch.setenv("STEP_LIMIT_OVERRIDES", "frontline=3,senior=5")
    config.reload()
    assert clock_for("frontline", security=False).deadline(at("2026-11-28 23:00")) == \
        at("2026-11-28 23:00") + dt.timedelta(seconds=3)
    monkeypatch.setenv("STEP_LIMIT_OVERRIDES", "nonsense=3")
    config.reload()
    with pytest.raises(ValueError):
        clock_for("frontline", security=False)


def test_reference_is_quotable_and_dated_in_shanghai(aws):
    from chalicelib.escalation import model
    # 2026-11-24 20:00 UTC is already the 25th in Shanghai
    ref = model.new_reference(dt.datetime(2026, 11, 24, 20, 0, tzinfo=dt.UTC), "Asia/Shanghai")
    assert re.fullmatch(model.REFERENCE_PATTERN, ref) and ref.startswith("RD-20261125-")
    assert not set(ref[-4:]) & set("ILOU")
