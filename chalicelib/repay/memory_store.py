"""The in-memory twin of the repayment store: the same interface and the same conditions, no AWS.

Put in place with ``store.use(InMemoryRepayStore())`` (the fast tests, ``pytest -m unit``); its writes are
``Change`` elements of an in-memory unit of work (``chalicelib/adapters/unit_of_work.py``), checked and
applied under one lock, so a lost race loses here exactly as a cancelled DynamoDB transaction does.
"""
from __future__ import annotations

import dataclasses
import secrets
from typing import Any

from chalicelib.adapters.unit_of_work import LOCK, Change
from chalicelib.kernel import clock
from chalicelib.repay import access_store, dynamo_store
from chalicelib.repay.errors import AccountFrozen
from chalicelib.repay.model import VERIFICATION_REQUIRED, Receipt, Repayment
from chalicelib.repay.model import Change as RepaymentChange


class InMemoryRepayStore:
    def __init__(self) -> None:
        self.repayments: dict[tuple[str, str], Repayment] = {}
        self.usage: dict[tuple[str, str, str], int] = {}
        self.accounts: dict[str, dict] = {}
        self.logs: dict[str, list[dict]] = {}
        self.receipts: dict[str, dict] = {}
        self.access: dict[str, list[dict]] = {}

    # ------------------------------------------------------------ reads
    def get(self, user_id: str, repayment_id: str) -> Repayment | None:
        return self.repayments.get((user_id, repayment_id))

    def get_repayment(self, user_id: str, repayment_id: str) -> dict | None:
        found = self.get(user_id, repayment_id)
        return dynamo_store.to_item(found) if found else None

    def page(self, user_id: str, *, status: str | None, kind: str | None, limit: int,
             after_id: str | None) -> tuple[list[Repayment], str | None]:
        mine = sorted((r for (uid, _), r in self.repayments.items() if uid == user_id
                       and (status is None or r.status == status) and (kind is None or r.kind == kind)),
                      key=lambda r: r.id, reverse=True)
        if after_id:
            mine = [r for r in mine if r.id < after_id]
        shown = mine[:limit]
        return shown, (shown[-1].id if len(mine) > limit else None)

    def get_usage(self, user_id: str, month: str, kind: str) -> int:
        return self.usage.get((user_id, month, kind), 0)

    def lapsed(self, now_iso: str, *, limit: int, after: Any = None) -> tuple[list[tuple[str, str]], Any]:
        due = sorted((r.verify_expires_at, r.id, r.user_id) for r in self.repayments.values()
                     if r.status == VERIFICATION_REQUIRED and r.verify_expires_at and r.verify_expires_at < now_iso)
        if after:
            due = [d for d in due if d[:2] > after]
        shown = due[:limit]
        return [(uid, rid) for _, rid, uid in shown], (shown[-1][:2] if len(due) > limit else None)

    # ------------------------------------------------------------ writes
    def not_frozen(self, uow, user_id: str) -> None:
        uow.add("frozen", Change(holds=lambda: not self.accounts.get(user_id, {}).get("frozen"),
                                 apply=lambda: None), lost=AccountFrozen)

    def create(self, uow, repayment: Repayment) -> None:
        key = (repayment.user_id, repayment.id)
        uow.add("repayment", Change(holds=lambda: key not in self.repayments,
                                    apply=lambda: self.repayments.__setitem__(key, repayment)))

    def move(self, uow, change: RepaymentChange) -> None:
        before, key = change.before, (change.before.user_id, change.before.id)

        def holds() -> bool:
            stored = self.repayments.get(key)
            return stored is not None and (stored.status, stored.version) == (before.status, before.version)
        uow.add("repayment", Change(holds=holds, apply=lambda: self.repayments.__setitem__(key, change.after)))

    def add_usage(self, uow, user_id: str, month: str, kind: str, amount_fen: int, *, seen_fen: int) -> None:
        key = (user_id, month, kind)
        uow.add("allowance", Change(holds=lambda: self.usage.get(key, 0) == seen_fen,
                                    apply=lambda: self.usage.__setitem__(key, self.usage.get(key, 0) + amount_fen)))

    def release_usage(self, uow, user_id: str, month: str, kind: str, amount_fen: int) -> None:
        key = (user_id, month, kind)
        uow.add("allowance", Change(holds=lambda: self.usage.get(key, 0) >= amount_fen,
                                    apply=lambda: self.usage.__setitem__(key, self.usage[key] - amount_fen)))

    # ------------------------------------------------------------ the account (freeze)
    def get_account(self, user_id: str) -> dict | None:
        found = self.accounts.get(user_id)
        return dict(found) if found else None

    def _log(self, user_id: str, entry: dict) -> None:
        at = clock.isoformat(clock.now())
        self.logs.setdefault(user_id, []).append({"sk": f"ACCOUNT#LOG#{at}#{secrets.token_hex(4)}", "at": at,
                                                  **entry})

    def set_frozen(self, user_id: str, *, reason: str, case_id: str) -> bool:
        with LOCK:
            account = self.accounts.setdefault(user_id, {})
            if account.get("frozen"):
                return False
            account.update(frozen=True, frozen_reason=reason, frozen_case_id=case_id,
                           frozen_at=clock.isoformat(clock.now()), version=account.get("version", 0) + 1)
            self._log(user_id, {"event": "frozen", "reason": reason, "case_id": case_id})
            return True

    def clear_frozen(self, user_id: str, *, actor: str) -> bool:
        with LOCK:
            account = self.accounts.get(user_id)
            if not account or not account.get("frozen"):
                return False
            account.update(frozen=False, unfrozen_by=actor, unfrozen_at=clock.isoformat(clock.now()),
                           version=account["version"] + 1)
            self._log(user_id, {"event": "unfrozen", "actor": actor})
            return True

    def account_log(self, user_id: str) -> list[dict]:
        return [dict(e) for e in self.logs.get(user_id, [])]

    # ------------------------------------------------------------ receipts, staff access records
    def put_receipt(self, receipt: Receipt, *, user_id: str, issued_at: str) -> bool:
        with LOCK:
            if receipt.serial in self.receipts:
                return False
            self.receipts[receipt.serial] = {**dataclasses.asdict(receipt), "user_id": user_id, "issued_at": issued_at}
            return True

    def get_receipt(self, serial: str) -> Receipt | None:
        found = self.receipts.get(serial)
        return Receipt(**{f.name: found[f.name] for f in dataclasses.fields(Receipt)}) if found else None

    def put_access_record(self, user_id: str, record: dict) -> dict:
        item = {"pk": f"USER#{user_id}", "sk": f"ACCESS#{record['at']}#{secrets.token_hex(4)}", **record,
                **access_store.index_keys(user_id, record), "user_id": user_id}
        with LOCK:
            self.access.setdefault(user_id, []).append(item)
        return item

    def access_records(self, user_id: str, limit: int = 50) -> list[dict]:
        return sorted(self.access.get(user_id, []), key=lambda i: i["sk"], reverse=True)[:limit]

    def access_across(self, *, user_id: str | None, staff: str | None, day: str | None, low: str, high: str,
                      page: int = 50):
        with LOCK:
            every = [i for items in self.access.values() for i in items]
        if user_id:
            found = [{**i, "_key": i["sk"][len("ACCESS#"):]} for i in every if i["user_id"] == user_id]
        elif staff:
            wanted = f"ACCESS#STAFF#{access_store.staff_key(staff)}"
            found = [{**i, "_key": i["acc_sk"]} for i in every if i["acc_staff_pk"] == wanted]
        else:
            found = [{**i, "_key": i["acc_sk"]} for i in every if i["acc_day_pk"] == f"ACCESS#DAY#{day}"]
        yield from sorted((i for i in found if low <= i["_key"] <= high), key=lambda i: i["_key"], reverse=True)
