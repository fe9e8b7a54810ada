"""Request and response models of the escalation routes (parsed by app.py, published in /openapi.json)."""
from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, ConfigDict, Field, StrictBool

from chalicelib.escalation.steps import CATEGORIES, NAMES
from chalicelib.models import ApiModel

Category = Literal["repayment_delay", "repayment_failed", "account_security", "fees", "other"]
StepName = Literal["frontline", "senior", "public_feedback", "legal_guidance"]
assert set(Category.__args__) == set(CATEGORIES) and set(StepName.__args__) == set(NAMES)


def _not_blank(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("内容不能为空")
    return value


def _text(min_length: int, max_length: int):
    """Text the user typed: stripped, never only spaces, within these lengths (counted before stripping)."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length), AfterValidator(_not_blank)]


class _Body(ApiModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# ---------------------------------------------------------------- requests
class NewCase(_Body):
    category: Category
    description: _text(5, 2000)
    repayment_id: Optional[str] = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")


class Reason(_Body):
    reason: _text(2, 500)


class UserMessage(_Body):
    message: _text(1, 2000)


class Reply(_Body):
    message: _text(1, 2000)
    await_user: StrictBool = True   # waiting on the user pauses the step clock


class Note(_Body):
    text: _text(1, 2000)


class Resolve(_Body):
    summary: _text(2, 1000)


class Assign(_Body):
    assignee: Optional[str] = Field(default=None, min_length=1, max_length=128)  # default: the caller


class Empty(_Body):
    pass


class SuggestionQuery(ApiModel):
    model_config = ConfigDict(extra="forbid")
    q: str = Field(min_length=1, max_length=200)


class QueueQuery(ApiModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=20, ge=1, le=100)
    cursor: Optional[str] = Field(default=None, min_length=1, max_length=2000)


# ---------------------------------------------------------------- responses
class TimelineEntry(ApiModel):
    at: str
    event: str
    actor: Literal["user", "support", "system"]
    reason: str
    from_step: Optional[str] = Field(default=None, alias="from")
    to_step: Optional[str] = Field(default=None, alias="to")
    by: Optional[str] = None  # staff views only: the staff user id
    model_config = ConfigDict(populate_by_name=True)


class ConversationEntry(ApiModel):
    at: str
    author: Literal["user", "support"]
    text: str


class InternalNote(ApiModel):
    at: str
    author: str
    text: str


class LegalRoute(ApiModel):
    name: str
    contact: str
    when: str


class LegalGuidance(ApiModel):
    routes: list[LegalRoute]
    evidence_to_keep: list[str]
    export_json: str
    export_html: str


class CaseView(ApiModel):
    """The case as its owner (or staff) sees it."""
    case_id: str
    reference: str
    category: Category
    category_title: str
    description: str
    repayment_id: Optional[str]
    priority: Literal["P1", "P2", "P3"]
    step: StepName
    step_title: str
    step_description: str
    status: Literal["open", "waiting_user", "resolved", "closed"]
    status_title: str
    deadline: Optional[str]
    deadline_local: Optional[str]
    clock_paused: bool
    reopen_until: Optional[str]
    what_next: str
    created_at: str
    version: int
    timeline: list[TimelineEntry]
    conversation: list[ConversationEntry]
    legal_guidance: Optional[LegalGuidance]
    # staff only
    assignee: Optional[str] = None
    user_id: Optional[str] = None
    warn_at: Optional[str] = None
    notes: Optional[list[InternalNote]] = None


class CaseSummary(ApiModel):
    case_id: str
    category: Category
    priority: Literal["P1", "P2", "P3"]
    step: StepName
    status: Literal["open", "waiting_user", "resolved", "closed"]
    deadline: Optional[str]
    created_at: str
    assignee: Optional[str] = None
    warn_at: Optional[str] = Field(default=None, description="when the team is warned before the deadline")


class CaseList(ApiModel):
    """A list of cases."""
    items: list[CaseSummary]


class QueuePage(ApiModel):
    """Open cases of one step, nearest deadline first."""
    step: StepName
    items: list[CaseSummary]
    next_cursor: Optional[str]


class Suggestion(ApiModel):
    id: str
    title: str
    snippet: str
    url: Optional[str] = None


class Suggestions(ApiModel):
    """Knowledge-base articles that may already answer the question."""
    query: str
    items: list[Suggestion]


class NoteAdded(ApiModel):
    """The internal note was recorded."""
    case_id: str
    note: InternalNote


class AccountFreeze(ApiModel):
    """Repayment freeze state of an account."""
    user_id: str
    frozen: bool


class CaseExport(ApiModel):
    """The case, exported to attach to a complaint."""
    reference: str
    exported_at: str
    category: Category
    category_title: str
    description: str
    repayment_id: Optional[str]
    priority: str
    created_at: str
    step: StepName
    step_title: str
    status: str
    status_title: str
    timeline: list[TimelineEntry]
    conversation: list[ConversationEntry]
    legal_routes: list[LegalRoute]
    evidence_to_keep: list[str]
