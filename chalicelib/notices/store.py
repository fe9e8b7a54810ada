"""Where in-app notices are kept: the notices table (DynamoDB) or its in-memory twin (``use(InMemoryNotices())``).

One notice is two items, both put on absence: ``USER#<sub>`` / ``NOTICE#<id>`` and its unread marker
``UNREAD#<id>``; reading it sets ``read_at`` (only if unset) and deletes the marker in one transaction.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from chalicelib.adapters.backends import Backend
from chalicelib.adapters.unit_of_work import Change, Conflict, MemoryUnitOfWork
from chalicelib.kernel import clock
from chalicelib.notices.model import KEEP, UNREAD_CAP


class DynamoNotices:
    @staticmethod
    def _name() -> str:
        from chalicelib.config import settings
        return settings().notices_table

    @staticmethod
    def _pk(user_id: str) -> str:
        return f"USER#{user_id}"

    def _table(self):
        from chalicelib.adapters import aws
        return aws.table(self._name())

    def add(self, uow, item: dict) -> None:
        from chalicelib.adapters import aws
        user_id, notice_id = item["user_id"], item["id"]
        stored = {k: v for k, v in item.items() if k != "user_id"}
        stored.update(pk=self._pk(user_id), sk=f"NOTICE#{notice_id}")
        marker = {"pk": self._pk(user_id), "sk": f"UNREAD#{notice_id}", "expires_at": item["expires_at"]}
        absent = "attribute_not_exists(pk)"
        uow.add("inbox", {"Put": {"TableName": self._name(), "Item": aws.attributes(stored),
                                  "ConditionExpression": absent}})
        uow.add("inbox_unread", {"Put": {"TableName": self._name(), "Item": aws.attributes(marker),
                                         "ConditionExpression": absent}})

    def unread_count(self, user_id: str) -> int:
        """A ``COUNT`` Query of the user's ``UNREAD#`` markers, strongly consistent, bounded by ``Limit``."""
        response = self._table().query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :u)", Select="COUNT", ConsistentRead=True,
            ExpressionAttributeValues={":pk": self._pk(user_id), ":u": "UNREAD#"}, Limit=UNREAD_CAP + 1)
        return int(response.get("Count", 0))

    def page(self, user_id: str, *, limit: int, after_id: str | None) -> list[dict]:
        """Newest first, ``limit + 1`` items (one more says whether a next page exists)."""
        query: dict[str, Any] = {"KeyConditionExpression": "pk = :pk AND begins_with(sk, :n)",
                                 "ExpressionAttributeValues": {":pk": self._pk(user_id), ":n": "NOTICE#"},
                                 "ScanIndexForward": False, "Limit": limit + 1}
        if after_id:
            query["ExclusiveStartKey"] = {"pk": self._pk(user_id), "sk": f"NOTICE#{after_id}"}
        return self._table().query(**query).get("Items", [])

    def get(self, user_id: str, notice_id: str) -> dict | None:
        return self._table().get_item(Key={"pk": self._pk(user_id), "sk": f"NOTICE#{notice_id}"},
                                      ConsistentRead=True).get("Item")

    def mark_read(self, user_id: str, notice_id: str, now: dt.datetime) -> None:
        from chalicelib.adapters import aws, unit_of_work
        key = {"pk": self._pk(user_id), "sk": f"NOTICE#{notice_id}"}
        uow = unit_of_work.DynamoUnitOfWork()
        uow.add("notice", {"Update": {"TableName": self._name(), "Key": aws.attributes(key),
                                      "UpdateExpression": "SET read_at = :t",
                                      "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(read_at)",
                                      "ExpressionAttributeValues": aws.attributes({":t": clock.isoformat(now)})}})
        uow.add("unread", {"Delete": {"TableName": self._name(),
                                      "Key": aws.attributes({"pk": self._pk(user_id), "sk": f"UNREAD#{notice_id}"})}})
        try:
            uow.commit()
        except Conflict:
            pass        # read meanwhile (another tap, another device)


class InMemoryNotices:
    """The same items and conditions, in memory (the fast tests)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict] = {}
        self.unread: set[tuple[str, str]] = set()

    def add(self, uow, item: dict) -> None:
        key = (item["user_id"], item["id"])
        stored = {k: v for k, v in item.items() if k != "user_id"}
        uow.add("inbox", Change(holds=lambda: key not in self.items,
                                apply=lambda: self.items.__setitem__(key, dict(stored))))
        uow.add("inbox_unread", Change(holds=lambda: key not in self.unread, apply=lambda: self.unread.add(key)))

    def unread_count(self, user_id: str) -> int:
        return min(sum(1 for uid, _ in self.unread if uid == user_id), UNREAD_CAP + 1)

    def page(self, user_id: str, *, limit: int, after_id: str | None) -> list[dict]:
        mine = sorted((i for (uid, nid), i in self.items.items()
                       if uid == user_id and (not after_id or nid < after_id)),
                      key=lambda i: i["id"], reverse=True)
        return [dict(i) for i in mine[:limit + 1]]

    def get(self, user_id: str, notice_id: str) -> dict | None:
        found = self.items.get((user_id, notice_id))
        return dict(found) if found else None

    def mark_read(self, user_id: str, notice_id: str, now: dt.datetime) -> None:
        key = (user_id, notice_id)
        uow = MemoryUnitOfWork()
        uow.add("notice", Change(holds=lambda: key in self.items and not self.items[key].get("read_at"),
                                 apply=lambda: self.items[key].__setitem__("read_at", clock.isoformat(now))))
        uow.add("unread", Change(holds=lambda: True, apply=lambda: self.unread.discard(key)))
        try:
            uow.commit()
        except Conflict:
            pass


_DYNAMO = DynamoNotices()
backend = Backend(_DYNAMO)
use = backend.use


def expires(now: dt.datetime) -> int:
    return int((now + KEEP).timestamp())


__all__ = ["DynamoNotices", "InMemoryNotices", "backend", "use", "expires"]
