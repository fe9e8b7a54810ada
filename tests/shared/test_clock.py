"""The application's clock: a fixed start that runs on (CLOCK_START, tests), freeze and advance on top of it."""
from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest

from chalicelib import config
from chalicelib.kernel import clock

ROOT = Path(__file__).resolve().parents[2]
START = dt.datetime(2026, 12, 9, 2, 30, tzinfo=dt.UTC)


@pytest.fixture
def fresh(monkeypatch):
    for name in ("CLOCK_START", "CLOCK_START_REAL"):
        monkeypatch.delenv(name, raising=False)
    config.reload()
    clock.reset(base=True)
    yield monkeypatch
    monkeypatch.undo()
    config.reload()
    clock.reset(base=True)


def test_the_clock_start_setting_starts_every_process_at_the_same_instant_and_runs_on(fresh):
    anchor = time.time() - 90  # the stack started 90 s ago
    fresh.setenv("CLOCK_START", "2026-12-09T02:30:00Z")
    fresh.setenv("CLOCK_START_REAL", f"{anchor:.6f}")
    config.reload()
    clock.reset(base=True)
    elapsed = (clock.now() - START).total_seconds()
    assert 89 <= elapsed <= 95, elapsed                       # 90 s after the stack's start, wherever this runs
    assert clock.local_now("Asia/Shanghai").strftime("%a %H:%M") == "Wed 10:31"
    before = clock.now()
    time.sleep(0.05)
    assert clock.now() > before                                # it runs


def test_freeze_and_advance_sit_on_the_base_and_reset_keeps_it(fresh):
    clock.run_from(START)
    clock.freeze(START + dt.timedelta(hours=3))
    clock.advance(dt.timedelta(minutes=5))
    assert clock.now() == START + dt.timedelta(hours=3, minutes=5)
    clock.reset()
    assert dt.timedelta(0) <= clock.now() - START < dt.timedelta(seconds=5)   # back to the fixed start, not "now"
    clock.advance(dt.timedelta(days=1))
    assert dt.timedelta(days=1) <= clock.now() - START < dt.timedelta(days=1, seconds=5)
    clock.reset(base=True)
    assert abs((clock.now() - dt.datetime.now(dt.UTC)).total_seconds()) < 5   # no setting: the machine's


@pytest.mark.parametrize("value", ["tomorrow", "2026-12-09T02:30:00", "2026-13-09T02:30:00Z"])
def test_a_clock_start_without_an_offset_or_not_an_instant_fails_at_start(fresh, value):
    fresh.setenv("CLOCK_START", value)
    with pytest.raises(ValueError, match="CLOCK_START"):
        config.load()


def test_no_deployed_stage_sets_a_clock_start():
    chalice = json.loads((ROOT / ".chalice" / "config.json").read_text())
    variables = [chalice.get("environment_variables", {})]
    variables += [stage.get("environment_variables", {}) for stage in chalice["stages"].values()]
    assert not [v for v in variables if "CLOCK_START" in v or "CLOCK_START_REAL" in v]
