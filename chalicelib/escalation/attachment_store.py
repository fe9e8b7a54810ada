"""The attachments' S3 store (the bucket declared in ``infra/escalation.py``): presigned forms and links, and the
objects under a prefix. The rules are ``attachments.py``'s; its in-memory twin is ``attachment_memory.py``.
The S3 client is ``aws.client("s3")``: created on first use, once per container."""
from __future__ import annotations

import functools
from urllib.parse import urlsplit

from chalicelib.adapters import aws
from chalicelib.config import settings


def presigned_post(key: str, content_type: str, max_bytes: int, seconds: int) -> tuple[str, dict[str, str]]:
    """(url, fields) of a form that can store exactly the object ``key``, of this type and at most this size."""
    post = aws.client("s3").generate_presigned_post(
        Bucket=settings().attachments_bucket, Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
        ExpiresIn=seconds)
    return post["url"], {k: str(v) for k, v in post["fields"].items()}


@functools.cache
def upload_origin() -> str:
    """Presigning is computed locally: no AWS call."""
    url = aws.client("s3").generate_presigned_post(Bucket=settings().attachments_bucket, Key="cases/x")["url"]
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def objects(prefix: str, most: int | None = None) -> list[dict]:
    """The objects under ``prefix`` (``Key``, ``Size``, ``LastModified``): a ListObjectsV2 of the prefix, no Scan;
    ``most``: one page of at most that many."""
    s3 = aws.client("s3")
    bucket = settings().attachments_bucket
    if most is not None:
        return list(s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=most).get("Contents", []))
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [obj for page in pages for obj in page.get("Contents", [])]


def download_url(key: str, content_type: str, disposition: str, seconds: int) -> str:
    """A presigned GET of ``key`` answered with these Content-Type and Content-Disposition headers."""
    cfg = settings()
    return aws.client("s3").generate_presigned_url("get_object", ExpiresIn=seconds, Params={
        "Bucket": cfg.attachments_bucket, "Key": key,
        "ResponseContentDisposition": disposition, "ResponseContentType": content_type})


def put(key: str, body: bytes, content_type: str, metadata: dict[str, str] | None = None) -> None:
    """Store one object written by us (an e-mailed attachment, a quarantined mail), encrypted at rest."""
    aws.client("s3").put_object(Bucket=settings().attachments_bucket, Key=key, Body=body, ContentType=content_type,
                                Metadata=metadata or {}, ServerSideEncryption="AES256")


def read(key: str) -> bytes:
    """One object's bytes (a quarantined mail a lead releases)."""
    return aws.client("s3").get_object(Bucket=settings().attachments_bucket, Key=key)["Body"].read()
