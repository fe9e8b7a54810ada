"""A few weeks of realistic history for the reports (``make serve``; issue #15).

Four weeks of searches, clicks, article views and votes, and the cases some of those readers open:
each case is moved by the real case rules (``escalation/model.py``: answers, pauses, user replies,
escalations, lapses at the deadline, resolves, reopens, confirmations with a rating) and its events
come from the same function the service commits them with (``escalation/analytics.on_commit``), so
the numbers follow the SLA rules. Everything is computed in process and written in batches (events,
then the slot, hour and day rollups and final days' deflection, as the aggregation job would write them): about
a second or two on the local stack. Seeded random numbers: the same history every time (relative to now).

Cases that are still waiting on the user (or overdue at the last step) are written to the cases table
too, owned by alice or bob, so the oldest open cases show; none has a pending deadline, so the sweep
has nothing to send for them.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import random
import time

from chalicelib.adapters import events
from chalicelib.config import settings
from chalicelib.escalation import analytics, hours, model, store
from chalicelib.insight import rollup
from chalicelib.kernel import clock
from chalicelib.kernel.business_calendar import BusinessCalendar
from chalicelib.kernel.logs import user_hash

DAYS = 28
# (query, the article it leads to or None when nothing answers it, weight)
QUERIES = [
    ("还款了怎么还没到账", "repayment-delay", 14), ("信用卡还款多久到账", "repayment-delay", 8),
    ("还款失败怎么办", "repayment-failed", 10), ("还款失拜", "repayment-failed", 3),
    ("客服电话多少", "find-hotline", 9), ("人工客服", "online-chat-vs-hotline", 5),
    ("手续费怎么收", "fees", 7), ("为什么多扣了手续费", "fees", 4), ("账户被盗了", "account-compromised", 3),
    ("95188是真的吗", "fake-hotline-scams", 3), ("花呗怎么还款", "credit-card-repayment", 4),
    ("贷款提前还款", "loan-repayment", 4), ("电费缴费", "utility-bills", 3), ("逾期了怎么办", "avoid-late-fees", 4),
    ("投诉升级", "escalate-to-senior", 2), ("怎么开通双重验证", "two-factor-auth", 2),
    ("注销账户", None, 3), ("借呗提额", None, 2), ("发票怎么开", None, 2), ("退款多久到", None, 3),
]
CATEGORY_OF = {"repayment-delay": "repayment_delay", "repayment-failed": "repayment_failed", "fees": "fees",
               "account-compromised": "account_security", "find-hotline": "other",
               "online-chat-vs-hotline": "other", "credit-card-repayment": "repayment_delay",
               "loan-repayment": "repayment_failed", "utility-bills": "repayment_failed"}
# Share of signed-in readers of an article who still open a case within a day (repayment-delay: rewrite it).
CASE_AFTER = {"repayment-delay": 0.30, "repayment-failed": 0.14, "fees": 0.12, "find-hotline": 0.05}
HELPFUL = {"repayment-delay": 0.45, "fees": 0.62}
LOW_COMMENTS = ["等了三天才有人回复", "问题转了好几次还是没解决", "客服只会复制粘贴", "到账时间说不清楚",
                "手续费还是没退", "电话一直打不通"]


def _at(rng: random.Random, day: dt.date, zone) -> dt.datetime:
    hour = rng.choices(range(24),
                       weights=[1, 1, 1, 1, 1, 1, 2, 4, 7, 9, 10, 10, 8, 9, 10, 9, 8, 8, 8, 9, 10, 9, 6, 3])[0]
    return dt.datetime.combine(day, dt.time(hour, rng.randrange(60), rng.randrange(60)), zone).astimezone(dt.UTC)


class CaseSim:
    def __init__(self, rng, clocks, now, items):
        self.rng, self.clocks, self.now, self.items = rng, clocks, now, items
        self.case = None

    def commit(self, new, when):
        if callable(new):  # a rule that may not apply any more (the sweep moved the case first): skipped
            try:
                new = new()
            except model.RuleViolation:
                return
        new, elements = analytics.on_commit(self.case, new, when, self.clocks)
        self.items.extend(e["Put"]["Item"] for e in elements)
        self.case = new

    def until(self, when: dt.datetime) -> bool:
        """Let the sweep act on every deadline before ``when``; False if ``when`` is still to come."""
        while (self.case.status == "open" and self.case.deadline and not self.case.overdue
               and clock.parse(self.case.deadline) <= min(when, self.now)):
            lapse_at = clock.parse(self.case.deadline)
            self.commit(model.lapse(self.case, lapse_at, self.clocks), lapse_at)
        return when <= self.now

    def later(self, when: dt.datetime, low_minutes: float, high_minutes: float) -> dt.datetime:
        return when + dt.timedelta(minutes=self.rng.uniform(low_minutes, high_minutes))

    def support(self, when: dt.datetime, low_minutes: float, high_minutes: float) -> dt.datetime:
        """When a team answers: in business hours, round the clock for security cases."""
        minutes = self.rng.uniform(low_minutes, high_minutes)
        if self.case.security:
            return when + dt.timedelta(minutes=minutes / 4)
        return self.clocks.calendar.add_business_hours(when, minutes / 60, opens=hours.OPENS,
                                                       closes=hours.CLOSES).astimezone(dt.UTC)

    def run(self, ref: str, user_id: str, category: str, opened: dt.datetime) -> None:
        rng, c = self.rng, self.clocks
        self.commit(model.open_case(case_id=ref, user_id=user_id, username=user_id, category=category,
                                    description="（演示数据）", repayment_id=None, now=opened, clocks=c), opened)
        t = opened
        slow = rng.random() < 0.2
        for _ in range(3):  # up to three rounds of answer → (user answers | escalates)
            t = self.support(t, 5, 330 if slow else 150)
            if not self.until(t):
                return
            pause = rng.random() < 0.6
            # commit() calls each rule at once: the lambdas take this round's t (and pause) as they are now
            self.commit(lambda t=t, pause=pause: model.reply(self.case, t, clocks=c, by="seed-agent",
                                                             await_user=pause), t)
            if pause:
                t = self.later(t, 30, 1200)
                if not self.until(t):
                    return
                if rng.random() < 0.06:
                    return  # the user never came back: waits on the user
                self.commit(lambda t=t: model.user_message(self.case, t, c), t)
            if rng.random() < 0.12 and self.case.step != "legal_guidance":
                t = self.later(t, 5, 120)
                if not self.until(t):
                    return
                self.commit(lambda t=t: model.escalate(self.case, t, clocks=c, actor="user",
                                                       reason="答复没有解决问题"), t)
                continue
            break
        t = self.support(t, 15, 240)
        if not self.until(t):
            return
        self.commit(lambda: model.resolve(self.case, t, by="seed-agent", summary="已处理"), t)
        if rng.random() < 0.1:
            t = self.later(t, 60, 2400)
            if not self.until(t):
                return
            self.commit(lambda: model.reopen(self.case, t, clocks=c, reason="问题又出现了"), t)
            t = self.support(t, 30, 300)
            if not self.until(t):
                return
            self.commit(lambda: model.resolve(self.case, t, by="seed-agent", summary="已再次处理"), t)
        t = self.later(t, 30, 2880)
        if rng.random() < 0.65 and self.until(t) and self.case.status == "resolved":
            self.commit(model.confirm(self.case, t), t)
            moves = sum(1 for e in self.case.timeline if e["event"] in ("escalated", "reopened"))
            rating = max(1, min(5, 5 - moves - len(self.case.breaches) + rng.choice((-1, 0, 0, 0, 1))))
            comment = rng.choice(LOW_COMMENTS) if rating <= 2 and rng.random() < 0.8 else None
            self.items.append(
                analytics.csat_element(self.case, rating=rating, comment=comment, now=t)["Put"]["Item"])
        elif (self.case.status == "resolved"
              and model.parse(self.case.reopen_until) < self.now - dt.timedelta(minutes=1)):
            t = model.parse(self.case.reopen_until) + dt.timedelta(minutes=1)  # the sweep's next run
            self.commit(model.autoclose(self.case, t), t)


def seed(users, *, persist_open: bool = True) -> None:
    """``persist_open=False``: events and rollups only, no case items (a shared test stack's queues stay as
    they are)."""
    started = time.monotonic()
    cfg = settings()
    zone = clock.zone(cfg.time_zone)
    now = clock.now()
    today = now.astimezone(zone).date()
    rng = random.Random(15)
    clocks = hours.Clocks(BusinessCalendar.from_file(cfg.escalation_calendar_path))  # history: real limits
    items: list[dict] = []
    readers = [f"seed-reader-{n}" for n in range(400)]
    cases: list[tuple[dt.datetime, str, str]] = []
    weights = [w for _, _, w in QUERIES]
    for back in range(DAYS, -1, -1):
        day = today - dt.timedelta(days=back)
        busy = 0.6 if day.weekday() >= 5 else 1.0
        for _ in range(int(rng.randint(45, 80) * busy)):
            at = _at(rng, day, zone)
            if at > now:
                continue
            query, slug, _ = rng.choices(QUERIES, weights)[0]
            user = rng.choice(readers) if rng.random() < 0.45 else None
            hashed = user_hash(user) if user else None
            items.append(events.item("search", at=at, query=query, results=0 if slug is None else 5,
                                     zero=slug is None, user=hashed))
            if slug is None:
                if user and rng.random() < 0.25:
                    cases.append((at + dt.timedelta(hours=rng.uniform(0.1, 6)), user, "other"))
                continue
            if rng.random() < 0.55:
                seen = at + dt.timedelta(seconds=rng.randint(5, 60))
                items.append(events.item("click", at=seen, query=query, slug=slug))
                items.append(events.item("article_view", at=seen, slug=slug, user=hashed))
                if rng.random() < 0.06:
                    items.append(events.item("article_vote", at=seen + dt.timedelta(minutes=2), slug=slug,
                                             helpful=rng.random() < HELPFUL.get(slug, 0.8)))
                if user and rng.random() < CASE_AFTER.get(slug, 0.06):
                    when = seen + dt.timedelta(hours=rng.uniform(0.1, 20))
                    cases.append((when, user, CATEGORY_OF.get(slug, "other")))
                    if rng.random() < 0.5:
                        items.append(events.item("search_case", at=when, query=query, slug=slug))
        for _ in range(int(rng.randint(2, 5) * busy)):  # people who open a case without reading anything
            cases.append((_at(rng, day, zone), f"seed-writer-{rng.randrange(10_000)}",
                          rng.choices(["repayment_delay", "repayment_failed", "fees", "other", "account_security"],
                                      [30, 25, 20, 15, 10])[0]))
    kept = []
    for n, (opened, user, category) in enumerate(sorted(cases)):
        if opened > now:
            continue
        sim = CaseSim(rng, clocks, now, items)
        alphabet = model.REFERENCE_ALPHABET
        ref = f"RD-{opened.astimezone(zone):%Y%m%d}-{alphabet[n // 32 % 32]}{alphabet[n % 32]}Z9"
        sim.run(ref, user, category, opened)
        if (sim.case.status == "waiting_user" or sim.case.overdue) and not sim.case.security:
            kept.append(sim.case)
    events.write_items(items)
    _rollups(items, now, cfg.time_zone)
    owners = [users["alice"], users["bob"]] if persist_open else []
    for n, case in enumerate(kept if persist_open else ()):
        owner = owners[n % 2]
        store.save(dataclasses.replace(case, user_id=owner.user_id, username=owner.username), expected_version=None)
    print(f"[seed] insight: {len(items)} events over {DAYS} days, {len(cases)} cases ({len(kept)} still open), "
          f"rollups written in {time.monotonic() - started:.1f} s — senior support: /agent/reports", flush=True)


def _rollups(items: list[dict], now: dt.datetime, time_zone: str) -> None:
    """What the aggregation job would have written for these events (``rollup.offline``: every begun slot and
    hour of today and yesterday until it is finished, finished days merged) and final days' deflection."""
    evs = [events.from_item(raw) for raw in items]
    rollups = rollup.offline(evs, now=now, time_zone=time_zone)
    local_today = now.astimezone(clock.zone(time_zone)).date()
    by_day: dict[str, list[dict]] = {}
    for raw, e in zip(items, evs, strict=True):  # evs is items parsed, one each
        by_day.setdefault(raw["pk"]["S"].split("#")[1][:10], []).append(e)
    for day in sorted(by_day):
        date = dt.date.fromisoformat(day)
        if date <= local_today - dt.timedelta(days=2):
            following = by_day.get((date + dt.timedelta(days=1)).isoformat(), [])
            rollups.append(events.rollup_item(f"D#{day}", rollup.deflection(by_day[day], following)))
    events.write_rollups(rollups)
