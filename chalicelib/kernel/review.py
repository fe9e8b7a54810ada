"""The review rules every versioned staff-edited text shares — help-centre articles (``chalicelib/content``) and the
contacts and quick replies (``chalicelib/editions``): the states a newest version goes through, who writes, who
approves, and why a caller may not publish now (four eyes). One place, so a rule fixed here holds for both, for
their API routes and their workspace pages alike.

No AWS, no HTTP: values and a function that returns the refusal (the service raises it, the page shows its message
beside a disabled button), and two versions compared line by line (``unified``, ``side_by_side``) as the API and the
pages show them.
"""
from __future__ import annotations

import difflib

from chalicelib.kernel import refusals
from chalicelib.kernel.actor import KB_EDITOR, SENIOR_SUPPORT, Actor

DRAFT, IN_REVIEW, PUBLISHED = "draft", "in_review", "published"
STATE_NAMES = {DRAFT: "草稿", IN_REVIEW: "待审核", PUBLISHED: "已发布"}

WRITERS = frozenset({KB_EDITOR, SENIOR_SUPPORT})     # save drafts, submit them for review
APPROVERS = frozenset({SENIOR_SUPPORT})              # publish what is in review

NOT_AN_APPROVER = "只有高级客服（senior-support）可以审核发布。"
NOT_IN_REVIEW = "没有待审核的版本：先保存草稿并提交审核。"
OWN_VERSION = "最后一版是你改的：需要另一位审核人发布（四眼原则）。"


def is_author(who: Actor, author: str) -> bool:
    """Did ``who`` write the version (``author``: the user id or the user name it was recorded under)?"""
    return bool(author) and author in (who.user_id, who.username)


def publish_refusal(who: Actor, state: str | None, author: str, *,
                    four_eyes: bool = True) -> refusals.DomainError | None:
    """Why ``who`` may not publish the newest version now, or None: they may. ``state``: the newest version's
    (None: nothing saved yet); ``author``: who wrote it; ``four_eyes``: never published by its own author.
    A role: 403 ``forbidden_role``; nothing in review: 409 ``not_in_review``; the author: 403 ``four_eyes``."""
    if not who.has_role(*APPROVERS):
        return refusals.NotAllowed(NOT_AN_APPROVER, code="forbidden_role")
    if state != IN_REVIEW:
        return refusals.Conflicting(NOT_IN_REVIEW, code="not_in_review")
    if four_eyes and is_author(who, author):
        return refusals.NotAllowed(OWN_VERSION, code="four_eyes")
    return None


def require_publishable(who: Actor, state: str | None, author: str, *, four_eyes: bool = True) -> None:
    """Raise ``publish_refusal``'s refusal, if any."""
    refusal = publish_refusal(who, state, author, four_eyes=four_eyes)
    if refusal is not None:
        raise refusal


# ---------------------------------------------------------------- two versions compared, line by line
def unified(old: list[str], new: list[str], old_name: str, new_name: str) -> str:
    """A unified diff of two versions' lines ("" when they are the same)."""
    return "\n".join(difflib.unified_diff(old, new, fromfile=old_name, tofile=new_name, lineterm=""))


def side_by_side(old: list[str], new: list[str]) -> list[dict]:
    """Rows ``{"kind": "same"|"changed", "old", "new"}`` for a two-column view: equal lines paired, a changed run's
    lines paired in order (``None`` where one side has fewer)."""
    rows: list[dict] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if op == "equal":
            rows += [{"kind": "same", "old": old[i], "new": new[j1 + n]} for n, i in enumerate(range(i1, i2))]
            continue
        olds, news = old[i1:i2], new[j1:j2]
        rows += [{"kind": "changed", "old": olds[n] if n < len(olds) else None,
                  "new": news[n] if n < len(news) else None} for n in range(max(len(olds), len(news)))]
    return rows
