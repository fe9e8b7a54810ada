"""What the two knowledge-base editors' pages share — the articles' (``kb_editor.py``) and the contacts' and quick
replies' (``kb_editions.py``): times in the configured zone, the version a rollback form picks, the two versions a
diff link names. Each refuses as a 400 page with the same words on both editors."""
from __future__ import annotations

from collections.abc import Callable, Mapping

from chalicelib.kernel import refusals
from chalicelib.kernel.context import Context


def local_time(ctx: Context) -> Callable[[str | None], str]:
    """The templates' ``local_time``: an ISO instant in ``TIME_ZONE`` ("" for none)."""
    from chalicelib.escalation import notifications
    return lambda value: notifications.local_time(value, ctx.settings.time_zone) if value else ""


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 8 else None


def rollback_version(form: Mapping[str, str]) -> int:
    """The version a rollback form picked (``version``)."""
    number = _number(form.get("version", ""))
    if number is None:
        raise refusals.Invalid("请选择要回滚到的版本。", code="version_required")
    return number


def compared(query: Mapping[str, str] | None) -> tuple[int, int]:
    """The two versions a diff link names (``?from=&to=``)."""
    older, newer = _number((query or {}).get("from", "")), _number((query or {}).get("to", ""))
    if older is None or newer is None:
        raise refusals.Invalid("请选择要比较的两个版本。", code="versions_required")
    return older, newer
