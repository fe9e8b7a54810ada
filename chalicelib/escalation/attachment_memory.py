"""The attachments store's in-memory twin (``attachment_store.py`` is S3): ``attachments.use(MemoryAttachments())``
puts it in place, so the evidence use cases run without moto. ``upload(key, size, at)`` stands for the browser's
upload through the presigned form; the links it hands out name the key and the headers they would be served with."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlencode

ORIGIN = "https://attachments.invalid"


@dataclass
class MemoryAttachments:
    stored: dict[str, dict] = field(default_factory=dict)     # key → {"Key", "Size", "LastModified"}
    granted: list[dict] = field(default_factory=list)         # every presigned form handed out
    bodies: dict[str, bytes] = field(default_factory=dict)    # what ``put`` wrote (e-mailed files, quarantine)
    now: dt.datetime = dt.datetime(2026, 11, 24, 2, tzinfo=dt.UTC)  # LastModified of what ``put`` wrote

    def upload(self, key: str, size: int, at: dt.datetime) -> None:
        self.stored[key] = {"Key": key, "Size": size, "LastModified": at}

    def put(self, key: str, body: bytes, content_type: str, metadata: dict[str, str] | None = None) -> None:
        self.bodies[key] = body
        self.stored[key] = {"Key": key, "Size": len(body), "LastModified": self.now, "Metadata": dict(metadata or {})}

    def read(self, key: str) -> bytes:
        return self.bodies[key]

    def presigned_post(self, key: str, content_type: str, max_bytes: int, seconds: int) -> tuple[str, dict[str, str]]:
        self.granted.append({"key": key, "content_type": content_type, "max_bytes": max_bytes, "seconds": seconds})
        return f"{ORIGIN}/", {"key": key, "Content-Type": content_type}

    def upload_origin(self) -> str:
        return ORIGIN

    def objects(self, prefix: str, most: int | None = None) -> list[dict]:
        found = [obj for key, obj in sorted(self.stored.items()) if key.startswith(prefix)]
        return found[:most] if most is not None else found

    def download_url(self, key: str, content_type: str, disposition: str, seconds: int) -> str:
        query = urlencode({"response-content-type": content_type, "response-content-disposition": disposition,
                           "expires-in": seconds})
        return f"{ORIGIN}/{key}?{query}"
