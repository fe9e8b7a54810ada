"""Fee schedule (versioned YAML, ``fee_schedule.yaml``) and the fee calculation.

The calculation, per repayment of ``amount`` when ``used`` has already been
repaid this calendar month (Asia/Shanghai) for the same kind:

1. ``allowance_applied = min(amount, max(0, allowance - used))`` is free.
2. The rest (``chargeable``) pays ``rate_bp`` basis points, rounded half up to
   the fen, at least ``min_fee`` and at most ``max_fee`` — unless ``chargeable``
   is 0, or ``amount >= free_above`` (large repayments are free).
3. Amounts below ``small_amount.below`` add the flat ``small_amount.surcharge``.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

from chalicelib.kernel.money import format_fen, parse_fen, percent_of

KINDS = ("credit_card", "loan", "utility")


def _fen(value, *, allow_zero: bool = True) -> int:
    text = str(value)
    if allow_zero and text in {"0", "0.0", "0.00"}:
        return 0
    return parse_fen(text)


@dataclass(frozen=True)
class ArrivalRule:
    mode: str                     # cutoff | realtime | within_hours
    cutoff: dt.time | None = None
    hours: int | None = None


@dataclass(frozen=True)
class KindRules:
    limit_fen: int
    allowance_fen: int
    rate_bp: int
    min_fee_fen: int
    max_fee_fen: int | None
    free_above_fen: int | None
    small_below_fen: int | None
    small_surcharge_fen: int
    arrival: ArrivalRule


@dataclass(frozen=True)
class FeeSchedule:
    version: str
    time_zone: str
    kinds: dict[str, KindRules]

    @classmethod
    def from_file(cls, path: str | Path) -> FeeSchedule:
        return _load(str(path))

    @classmethod
    def from_dict(cls, data: dict) -> FeeSchedule:
        kinds = {}
        for kind in KINDS:
            raw = data["kinds"][kind]
            small = raw.get("small_amount") or None
            arrival = raw["arrival"]
            if arrival["mode"] not in {"cutoff", "realtime", "within_hours"}:
                raise ValueError(f"fee schedule: unknown arrival mode for {kind}")
            kinds[kind] = KindRules(
                limit_fen=_fen(raw["limit"], allow_zero=False),
                allowance_fen=_fen(raw.get("free_monthly_allowance", "0")),
                rate_bp=int(raw.get("rate_bp", 0)),
                min_fee_fen=_fen(raw.get("min_fee", "0")),
                max_fee_fen=_fen(raw["max_fee"]) if raw.get("max_fee") is not None else None,
                free_above_fen=_fen(raw["free_above"]) if raw.get("free_above") is not None else None,
                small_below_fen=_fen(small["below"]) if small else None,
                small_surcharge_fen=_fen(small["surcharge"]) if small else 0,
                arrival=ArrivalRule(
                    mode=arrival["mode"],
                    cutoff=dt.time.fromisoformat(str(arrival["cutoff"])) if arrival.get("cutoff") else None,
                    hours=int(arrival["hours"]) if arrival.get("hours") is not None else None),
            )
        return cls(version=str(data["version"]), time_zone=str(data.get("time_zone", "Asia/Shanghai")), kinds=kinds)

    def rules(self, kind: str) -> KindRules:
        return self.kinds[kind]


@functools.cache
def _load(path: str) -> FeeSchedule:
    import yaml  # imported when the file is first read, not at cold start
    with open(path, encoding="utf-8") as handle:
        return FeeSchedule.from_dict(yaml.safe_load(handle))


@dataclass(frozen=True)
class FeeLine:
    code: str
    label: str
    amount_fen: int


@dataclass(frozen=True)
class Fee:
    amount_fen: int
    fee_fen: int
    lines: tuple[FeeLine, ...]
    allowance_fen: int            # the kind's monthly free allowance
    used_before_fen: int          # already repaid this month (same kind)
    allowance_applied_fen: int    # part of this amount covered by the allowance
    version: str

    @property
    def total_fen(self) -> int:
        return self.amount_fen + self.fee_fen

    @property
    def allowance_remaining_after_fen(self) -> int:
        return max(0, self.allowance_fen - self.used_before_fen - self.allowance_applied_fen)


def compute(schedule: FeeSchedule, kind: str, amount_fen: int, used_this_month_fen: int) -> Fee:
    rules = schedule.rules(kind)
    remaining = max(0, rules.allowance_fen - used_this_month_fen)
    applied = min(amount_fen, remaining)
    chargeable = amount_fen - applied
    lines: list[FeeLine] = []
    if rules.free_above_fen is not None and amount_fen >= rules.free_above_fen:
        service_fee = 0
        label = f"服务费：单笔满 {format_fen(rules.free_above_fen)} 元免收"
    elif chargeable == 0 or rules.rate_bp == 0:
        service_fee = 0
        label = "服务费：本月免费额度内，免收" if rules.allowance_fen else "服务费：免收"
    else:
        service_fee = max(rules.min_fee_fen, percent_of(chargeable, rules.rate_bp))
        if rules.max_fee_fen is not None:
            service_fee = min(service_fee, rules.max_fee_fen)
        label = (f"服务费：超出免费额度的 {format_fen(chargeable)} 元按 {rules.rate_bp / 100:g}% 收取"
                 f"（最低 {format_fen(rules.min_fee_fen)} 元）")
    lines.append(FeeLine("service_fee", label, service_fee))
    fee = service_fee
    if rules.small_below_fen is not None and amount_fen < rules.small_below_fen:
        lines.append(FeeLine("small_amount_surcharge",
                             f"小额附加费：单笔低于 {format_fen(rules.small_below_fen)} 元", rules.small_surcharge_fen))
        fee += rules.small_surcharge_fen
    return Fee(amount_fen=amount_fen, fee_fen=fee, lines=tuple(lines), allowance_fen=rules.allowance_fen,
               used_before_fen=used_this_month_fen, allowance_applied_fen=applied, version=schedule.version)


def month_of(moment: dt.datetime, time_zone: str) -> str:
    """The calendar month (``"2026-11"``) of ``moment`` in ``time_zone``: the allowance's period."""
    from zoneinfo import ZoneInfo
    return moment.astimezone(ZoneInfo(time_zone)).strftime("%Y-%m")
