"""The in-memory twin of the bills store (``store.use(InMemoryBillsStore())``): same interface, same conditions."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from chalicelib.adapters.unit_of_work import Change
from chalicelib.bills.errors import Due, ReminderAlreadySent
from chalicelib.bills.model import Bill, Schedule
from chalicelib.kernel import clock


class InMemoryBillsStore:
    def __init__(self) -> None:
        self.bills: dict[tuple[str, str], tuple[Bill, dt.datetime | None]] = {}
        self.schedules: dict[tuple[str, str], Schedule] = {}
        self.reminders: dict[tuple[str, str, str, str], str] = {}

    # ------------------------------------------------------------ reads
    def get_bill_and_wake(self, user_id: str, bill_id: str) -> tuple[Bill | None, str | None]:
        found = self.bills.get((user_id, bill_id))
        if found is None:
            return None, None
        return found[0], clock.isoformat(found[1]) if found[1] else None

    @staticmethod
    def _page(items: list, limit: int, after_id: str | None):
        items = sorted(items, key=lambda i: i.id, reverse=True)
        if after_id:
            items = [i for i in items if i.id < after_id]
        shown = items[:limit]
        return shown, (shown[-1].id if len(items) > limit and shown else None)

    def bills_page(self, user_id: str, *, limit: int, after_id: str | None):
        return self._page([b for (uid, _), (b, _) in self.bills.items() if uid == user_id], limit, after_id)

    def schedules_page(self, user_id: str, *, limit: int, after_id: str | None):
        return self._page([s for (uid, _), s in self.schedules.items() if uid == user_id], limit, after_id)

    def get_schedule(self, user_id: str, schedule_id: str) -> Schedule | None:
        return self.schedules.get((user_id, schedule_id))

    def schedules_of_bill(self, user_id: str, bill_id: str) -> list[Schedule]:
        return [s for (uid, _), s in self.schedules.items() if uid == user_id and s.bill_id == bill_id]

    @staticmethod
    def _schedule_wake(s: Schedule) -> dt.datetime | None:
        return clock.parse(s.run_at) if s.run_at and s.status in ("active", "running") else None

    def due(self, now: dt.datetime, tz: str, shard: int, *, lookback_days: int) -> Iterator[Due]:
        """Shard 0 holds everything here; what is due by ``now`` and woke at most ``lookback_days`` days ago."""
        if shard != 0:
            return iter(())
        start = now.astimezone(clock.zone(tz)).date() - dt.timedelta(days=lookback_days)
        entries = [(w, Due("bill", uid, bid)) for (uid, bid), (_, w) in self.bills.items() if w] + \
                  [(w, Due("schedule", uid, sid)) for (uid, sid), s in self.schedules.items()
                   if (w := self._schedule_wake(s))]
        return iter([d for w, d in sorted(entries, key=lambda e: e[0])
                     if w <= now and w.astimezone(clock.zone(tz)).date() >= start])

    def reminders_of(self, user_id: str, bill_id: str) -> list[dict]:
        return [{"bill_id": b, "period": p, "kind": k, "sent_at": at}
                for (uid, b, p, k), at in self.reminders.items() if uid == user_id and b == bill_id]

    # ------------------------------------------------------------ writes
    def _version_is(self, key, expected: int) -> bool:
        found = self.bills.get(key)
        return found is not None and found[0].version == expected

    def save_new_bill(self, uow, bill: Bill, wake_at: dt.datetime | None, tz: str) -> None:
        key = (bill.user_id, bill.id)
        uow.add("bill", Change(holds=lambda: key not in self.bills,
                               apply=lambda: self.bills.__setitem__(key, (bill, wake_at))))

    def save_bill(self, uow, bill: Bill, expected_version: int, wake_at: dt.datetime | None, tz: str) -> None:
        key = (bill.user_id, bill.id)
        uow.add("bill", Change(holds=lambda: self._version_is(key, expected_version),
                               apply=lambda: self.bills.__setitem__(key, (bill, wake_at))))

    def remove_bill(self, uow, user_id: str, bill_id: str, expected_version: int) -> None:
        key = (user_id, bill_id)

        def apply() -> None:
            del self.bills[key]

        uow.add("bill", Change(holds=lambda: self._version_is(key, expected_version), apply=apply))

    def wake_bill(self, uow, bill: Bill, wake_at: dt.datetime | None, tz: str) -> None:
        key = (bill.user_id, bill.id)
        uow.add("wake", Change(holds=lambda: self._version_is(key, bill.version),
                               apply=lambda: self.bills.__setitem__(key, (self.bills[key][0], wake_at))))

    def remind(self, uow, user_id: str, bill_id: str, period: str, kind: str, now: dt.datetime) -> None:
        key = (user_id, bill_id, period, kind)
        uow.add("reminder", Change(holds=lambda: key not in self.reminders,
                                   apply=lambda: self.reminders.__setitem__(key, clock.isoformat(now))),
                lost=ReminderAlreadySent)

    def save_new_schedule(self, uow, schedule: Schedule, tz: str) -> None:
        key = (schedule.user_id, schedule.id)
        uow.add("schedule", Change(holds=lambda: key not in self.schedules,
                                   apply=lambda: self.schedules.__setitem__(key, schedule)))

    def save_schedule(self, uow, schedule: Schedule, expected_version: int, tz: str) -> None:
        key = (schedule.user_id, schedule.id)

        def holds() -> bool:
            return key in self.schedules and self.schedules[key].version == expected_version

        uow.add("schedule", Change(holds=holds, apply=lambda: self.schedules.__setitem__(key, schedule)))
