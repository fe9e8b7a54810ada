"""Where the live index's state lives: build records, the build sequence and the live pointer in the KB
table (``KB_TABLE``), the built indexes in S3 (``KB_INDEX_BUCKET``). Layout: ``infra/search.py``.

The use cases (``builds.py``, ``live.py``) call the functions below; ``use(InMemoryLiveStore())``
(``live_memory_store.py``) puts the in-memory twin in place — same interface, same conditions.
Every write is conditional: a build's status moves only from the statuses the caller expects, and the
pointer only forward (``attribute_not_exists(pk) OR seq < :seq``): an older build never replaces a newer one.
"""
from __future__ import annotations

from chalicelib.adapters import aws
from chalicelib.adapters.backends import Backend
from chalicelib.config import settings

SEQ_KEY = {"pk": "KBBUILD#SEQ", "sk": "SEQ"}
POINTER_KEY = {"pk": "KBLIVE", "sk": "POINTER"}
# An archive no longer live carries this tag; the bucket's lifecycle rule (infra/search.py) deletes it later.
SUPERSEDED_TAG = {"Key": "superseded", "Value": "true"}


def _build_key(build_id: str) -> dict:
    return {"pk": f"KBBUILD#{build_id}", "sk": "BUILD"}


def _plain(item: dict) -> dict:
    """A DynamoDB item as plain Python (numbers as int)."""
    from decimal import Decimal
    return {k: (int(v) if isinstance(v, Decimal) else v) for k, v in item.items() if k not in ("pk", "sk")}


class DynamoLiveStore:
    """DynamoDB (records, pointer) and S3 (archives); clients once per container (``aws.client``)."""

    def _table(self):
        return aws.table(settings().kb_table)

    def next_seq(self) -> int:
        answer = self._table().update_item(Key=SEQ_KEY, UpdateExpression="ADD seq :one",
                                           ExpressionAttributeValues={":one": 1}, ReturnValues="UPDATED_NEW")
        return int(answer["Attributes"]["seq"])

    def put_build(self, record: dict) -> None:
        self._table().put_item(Item={**_build_key(record["id"]), **record},
                               ConditionExpression="attribute_not_exists(pk)")

    def get_build(self, build_id: str) -> dict | None:
        item = self._table().get_item(Key=_build_key(build_id), ConsistentRead=True).get("Item")
        return _plain(item) if item else None

    def set_status(self, build_id: str, status: str, *, expect: tuple[str, ...], **fields) -> bool:
        """Move a build to ``status`` (with ``fields``) only from one of ``expect``; False when it was not there."""
        names = {"#status": "status"}
        values: dict = {":status": status}
        sets = ["#status = :status"]
        for n, (name, value) in enumerate(sorted(fields.items())):
            names[f"#f{n}"], values[f":f{n}"] = name, value
            sets.append(f"#f{n} = :f{n}")
        for n, old in enumerate(expect):
            values[f":e{n}"] = old
        condition = "attribute_exists(pk) AND #status IN (" + ", ".join(f":e{n}" for n in range(len(expect))) + ")"
        try:
            self._table().update_item(Key=_build_key(build_id), UpdateExpression="SET " + ", ".join(sets),
                                      ConditionExpression=condition, ExpressionAttributeNames=names,
                                      ExpressionAttributeValues=values)
        except aws.ClientError as exc:
            if aws.is_condition_failure(exc):
                return False
            raise
        return True

    def live(self) -> dict | None:
        """The pointer: ``{"seq", "build_id", "key", "at"}`` or None (the packaged index is live)."""
        item = self._table().get_item(Key=POINTER_KEY, ConsistentRead=True).get("Item")
        return _plain(item) if item else None

    def advance(self, seq: int, build_id: str, key: str, at: str) -> bool:
        """Point at this build unless a build with the same or a higher sequence already is live."""
        try:
            self._table().put_item(Item={**POINTER_KEY, "seq": seq, "build_id": build_id, "key": key, "at": at},
                                   ConditionExpression="attribute_not_exists(pk) OR seq < :seq",
                                   ExpressionAttributeValues={":seq": seq})
        except aws.ClientError as exc:
            if aws.is_condition_failure(exc):
                return False
            raise
        return True

    def put_archive(self, key: str, body: bytes) -> None:
        aws.client("s3").put_object(Bucket=settings().kb_index_bucket, Key=key, Body=body,
                                    ContentType="application/gzip", ServerSideEncryption="AES256")

    def get_archive(self, key: str) -> bytes:
        return aws.client("s3").get_object(Bucket=settings().kb_index_bucket, Key=key)["Body"].read()

    def tag_superseded(self, key: str) -> None:
        """Let the bucket's lifecycle rule delete an archive that is no longer live (``infra/search.py``)."""
        aws.client("s3").put_object_tagging(Bucket=settings().kb_index_bucket, Key=key,
                                            Tagging={"TagSet": [SUPERSEDED_TAG]})


backend = Backend(DynamoLiveStore())
use = backend.use


def current():
    """The store in use (the DynamoDB/S3 one, or a twin a test put in place)."""
    return backend()
