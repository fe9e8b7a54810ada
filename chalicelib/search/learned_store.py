"""Where the learned-ranking model lives (an S3 object, ``KB_LEARNED_URI``): the weekly relearn job writes it,
API containers fetch it conditionally on its ETag. The search service and the job never see S3."""
from __future__ import annotations

from chalicelib.adapters import aws


def _location(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def fetch(uri: str, etag: str | None) -> tuple[bytes, str | None] | None:
    """The model's bytes and ETag, or None when it has not changed since ``etag``."""
    bucket, key = _location(uri)
    request = {"Bucket": bucket, "Key": key}
    if etag:
        request["IfNoneMatch"] = etag
    try:
        found = aws.client("s3").get_object(**request)
    except aws.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("304", "NotModified"):
            return None
        raise
    return found["Body"].read(), found.get("ETag")


def put(uri: str, body: bytes) -> None:
    bucket, key = _location(uri)
    aws.client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
