"""The raw mails SES wrote into the inbound bucket (``infra/mail.py``): their size, and their bytes (all, or the
first few, so a mail over the limit is never downloaded whole). ``aws.client("s3")``: once per container."""
from __future__ import annotations

from chalicelib.adapters import aws


def size(bucket: str, key: str) -> int:
    return int(aws.client("s3").head_object(Bucket=bucket, Key=key)["ContentLength"])


def read(bucket: str, key: str, most: int | None = None) -> bytes:
    extra = {"Range": f"bytes=0-{most - 1}"} if most else {}
    return aws.client("s3").get_object(Bucket=bucket, Key=key, **extra)["Body"].read()
