"""Evidence attachments in S3 (the bucket declared in ``infra/escalation.py``).

The browser uploads straight to S3 through a presigned POST whose policy fixes the
object key and its Content-Type and limits the size (``content-length-range``): the
Lambda never carries the file. Objects live under ``cases/<ref>/<attachment id>/<file name>``,
so a case's attachments are one ListObjectsV2 of its prefix — no table item, no Scan.
Downloads are presigned GETs valid a few minutes, always ``Content-Disposition: attachment``
(a PDF or an image never opens inline on our origin).

This module holds the rules (types, sizes, ids, names, what a listed object may be); the bucket itself is reached
through ``attachment_store.py`` (the S3 client, ``aws.client("s3")``: created on first use, once per container),
or its in-memory twin ``attachment_memory.py`` put in place with ``use(twin)`` (the fast tier).
"""
from __future__ import annotations

import datetime as dt
import re
import secrets
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

from chalicelib.adapters.backends import Backend
from chalicelib.config import settings
from chalicelib.escalation import attachment_store
from chalicelib.kernel import clock

backend = Backend(attachment_store)   # S3, unless a test put the in-memory twin in place
use = backend.use

TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "application/pdf": "pdf"}
EXTENSION_TYPES = {ext: ctype for ctype, ext in TYPES.items()}
MAX_BYTES = 10 * 1024 * 1024
MAX_PER_CASE = 30
_ID = re.compile(r"^\d{14}-[0-9a-f]{8}$")
_UNSAFE = re.compile(r"[^\w\-.()（）]+")


@dataclass(frozen=True)
class Stored:
    attachment_id: str
    filename: str
    content_type: str
    size: int
    uploaded_at: str
    key: str


def prefix(case_id: str) -> str:
    return f"cases/{case_id}/"


def new_id(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(4)


def valid_id(attachment_id: str) -> bool:
    return bool(_ID.match(attachment_id or ""))


def safe_filename(name: str, content_type: str) -> str:
    """The user's file name made safe for a key and a download header; the extension follows the type."""
    name = unicodedata.normalize("NFKC", name).replace("\\", "/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = _UNSAFE.sub("_", stem).strip("._")[:60] or "证据"
    return f"{stem}.{TYPES[content_type]}"


def presigned_post(case_id: str, attachment_id: str, filename: str, content_type: str, max_bytes: int,
                   now: dt.datetime) -> tuple[str, dict[str, str], str]:
    """(url, fields, expires_at ISO) of a form that can store exactly this one object."""
    cfg = settings()
    key = f"{prefix(case_id)}{attachment_id}/{filename}"
    seconds = cfg.attachment_url_seconds
    url, fields = backend().presigned_post(key, content_type, max_bytes, seconds)
    return url, fields, clock.isoformat(now + dt.timedelta(seconds=seconds))


def upload_origin() -> str:
    """The scheme://host[:port] the browser POSTs files to (a page's Content-Security-Policy allows it)."""
    return backend().upload_origin()


def _stored(case_id: str, obj: dict) -> Stored | None:
    rest = obj["Key"][len(prefix(case_id)):]
    attachment_id, _, filename = rest.partition("/")
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    # Real S3 enforces the form's policy; anything else found under the prefix is not shown.
    if not valid_id(attachment_id) or "/" in filename or ext not in EXTENSION_TYPES or not 0 < obj["Size"] <= MAX_BYTES:
        return None
    return Stored(attachment_id=attachment_id, filename=filename, content_type=EXTENSION_TYPES[ext],
                  size=int(obj["Size"]), uploaded_at=clock.isoformat(obj["LastModified"]), key=obj["Key"])


def list_case(case_id: str) -> list[Stored]:
    """Every attachment of a case, oldest first (ids start with the upload time)."""
    found = [_stored(case_id, obj) for obj in backend().objects(prefix(case_id))]
    return sorted((stored for stored in found if stored is not None), key=lambda s: s.attachment_id)


def find(case_id: str, attachment_id: str) -> Stored | None:
    if not valid_id(attachment_id):
        return None
    for obj in backend().objects(f"{prefix(case_id)}{attachment_id}/", most=2):
        stored = _stored(case_id, obj)
        if stored is not None:
            return stored
    return None


def download_url(stored: Stored, now: dt.datetime) -> tuple[str, str]:
    """(presigned GET, expires_at ISO): the browser saves the file under its name, never shows it inline."""
    seconds = settings().attachment_url_seconds
    disposition = f"attachment; filename*=UTF-8''{quote(stored.filename)}"
    url = backend().download_url(stored.key, stored.content_type, disposition, seconds)
    return url, clock.isoformat(now + dt.timedelta(seconds=seconds))
