"""The leads' access records (#25.6): who among staff read which user's data, when and why — listed for
senior-support only, filtered by staff member (user name), user (id) and UTC days, newest first, paged with an
opaque cursor; the CSV has the same rows. Reads only (``store.access_across``: Query, no Scan)."""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import json

from chalicelib.kernel import refusals
from chalicelib.kernel.actor import SENIOR_SUPPORT, Actor
from chalicelib.kernel.context import Context
from chalicelib.repay import store

MAX_DAYS = 31
EVENTS = {"staff_read_repayments": "查看工单关联的还款", "staff_searched_cases": "按用户名查找工单",
          "staff_searched_by_phone": "按手机号后四位和日期查找工单"}
COLUMNS = ("at", "staff_username", "staff_role", "user_id", "event", "case_ids", "repayment_ids")


def _cursor(text: str) -> tuple[str, str]:
    try:
        key = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = None
    if not isinstance(key, dict) or not isinstance(key.get("d"), str) or not isinstance(key.get("k"), str):
        raise refusals.Invalid("cursor 无效，请从第一页重新开始。", code="invalid_cursor", field="cursor")
    return key["d"], key["k"]


def _row(item: dict) -> dict:
    user_id = item.get("user_id") or item["pk"].removeprefix("USER#")
    return {"at": item["at"], "staff_username": item.get("staff_username") or item.get("staff_id"),
            "staff_role": item.get("staff_role") or "support", "user_id": user_id, "event": item.get("event", ""),
            "event_title": EVENTS.get(item.get("event", ""), item.get("event", "")),
            "case_ids": [c for c in (item.get("case_ids") or [item.get("case_id")]) if c and c != "-"],
            "repayment_ids": [r for r in item.get("repayment_ids") or [] if r != "-"]}


def access_page(actor: Actor, ctx: Context, *, staff: str | None, user_id: str | None, since: dt.date | None,
                until: dt.date | None, limit: int, cursor: str | None) -> tuple[list[dict], str | None]:
    if not actor.has_role(SENIOR_SUPPORT):
        raise refusals.NotAllowed("访问记录仅限客服主管（senior-support）查看。", code="forbidden_role")
    until = until or ctx.now.date()
    since = since or until - dt.timedelta(days=6)
    if since > until:
        raise refusals.Invalid("开始日期不能晚于结束日期。", code="invalid_dates", field="since")
    if not (staff or user_id) and (until - since).days >= MAX_DAYS:
        raise refusals.Invalid(f"不按人筛选时，日期范围最多 {MAX_DAYS} 天。", code="invalid_dates", field="since")
    start_day, before = _cursor(cursor) if cursor else ("", "")
    single = bool(staff or user_id)
    days = [""] if single else [(until - dt.timedelta(days=n)).isoformat() for n in range((until - since).days + 1)]
    if start_day and not single:
        if start_day not in days:
            raise refusals.Invalid("cursor 无效，请从第一页重新开始。", code="invalid_cursor", field="cursor")
        days = days[days.index(start_day):]
    rows: list[tuple[str, str, dict]] = []
    for day in days:
        high = before if before and (single or day == start_day) else f"{until.isoformat()}~"
        for item in store.access_across(user_id=user_id, staff=None if user_id else staff, day=day or None,
                                        low=since.isoformat(), high=high, page=limit + 1):
            if item["_key"] == before or (staff and user_id and item.get("staff_username", "").casefold()
                                          != staff.strip().casefold()):
                continue
            rows.append((day, item["_key"], _row(item)))
            if len(rows) > limit:
                break
        if len(rows) > limit:
            break
    page = rows[:limit]
    more = len(rows) > limit
    next_cursor = None
    if more:
        raw = json.dumps({"d": page[-1][0], "k": page[-1][1]}, separators=(",", ":")).encode()
        next_cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return [r for _, _, r in page], next_cursor


def access_csv(rows: list[dict]) -> str:
    """The rows as a CSV file (``chalicelib/edge/csv_export.py``)."""
    from chalicelib.edge import csv_export
    return csv_export.text(COLUMNS, ([" ".join(r[c]) if isinstance(r[c], list) else r[c] for c in COLUMNS]
                                     for r in rows))
