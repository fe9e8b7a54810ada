"""Opaque cursors of the 工单 pages: unpadded base64url of text or a JSON object, checked on the way back in
(anything else is ``BadCursor``). Shared by the DynamoDB store and its in-memory twin."""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable


class BadCursor(ValueError):
    pass


def cursor_bytes(cursor: str) -> bytes:
    """What an opaque cursor (unpadded base64url) holds; not base64url at all: ``BadCursor``."""
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raise BadCursor(cursor) from None


def cursor_text(cursor: str, fits: Callable[[str], object]) -> str:
    """A cursor holding text that ``fits`` (``BadCursor`` for anything else)."""
    try:
        text = cursor_bytes(cursor).decode()
    except UnicodeDecodeError:
        raise BadCursor(cursor) from None
    if not fits(text):
        raise BadCursor(cursor)
    return text


def cursor_json(cursor: str) -> dict:
    """A cursor holding a JSON object (``BadCursor`` for anything else)."""
    try:
        key = json.loads(cursor_bytes(cursor))
    except (ValueError, UnicodeDecodeError):
        raise BadCursor(cursor) from None
    if not isinstance(key, dict):
        raise BadCursor(cursor)
    return key
