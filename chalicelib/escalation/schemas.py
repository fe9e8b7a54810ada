"""Request and response models of the escalation routes (parsed by app.py, published in /openapi.json)."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, ConfigDict, Field, StrictBool

from chalicelib.escalation.steps import CATEGORIES, NAMES, Category, StepName
from chalicelib.kernel.schema import ApiModel

assert set(get_args(Category)) == set(CATEGORIES) and set(get_args(StepName)) == set(NAMES)


def _not_blank(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("内容不能为空")
    return value


# Text the user typed: stripped, never only spaces, within these lengths (counted before stripping).
Description = Annotated[str, Field(min_length=5, max_length=2000), AfterValidator(_not_blank)]
ShortText = Annotated[str, Field(min_length=2, max_length=500), AfterValidator(_not_blank)]
MessageText = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_not_blank)]
SummaryText = Annotated[str, Field(min_length=2, max_length=1000), AfterValidator(_not_blank)]


class _Body(ApiModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# ---------------------------------------------------------------- requests
class NewCase(_Body):
    category: Category
    description: Description
    repayment_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    insist: bool = False   # open it even though an open 工单 of the caller names the same repayment


class MergeInto(_Body):
    into: str = Field(min_length=1, max_length=40)   # the reference of the 工单 to keep


class Reason(_Body):
    reason: ShortText


class UserMessage(_Body):
    message: MessageText


class Reply(_Body):
    message: MessageText
    await_user: StrictBool = True   # waiting on the user pauses the step clock


class Note(_Body):
    text: MessageText


class Resolve(_Body):
    summary: SummaryText


class Assign(_Body):
    assignee: str | None = Field(default=None, min_length=1, max_length=128)  # default: the caller


class Empty(_Body):
    pass


class Confirm(_Body):
    """Confirm it is solved, rating the service (1 very dissatisfied … 5 very satisfied)."""
    rating: int = Field(ge=1, le=5, description="满意度 1–5")
    comment: str | None = Field(default=None, max_length=500, description="可选的评价内容")


class AttachmentRequest(_Body):
    """The file the owner is about to upload (checked again by S3 against the form's policy)."""
    filename: str = Field(min_length=1, max_length=200)
    content_type: str = Field(min_length=1, max_length=100, description="image/png, image/jpeg, image/webp "
                                                                         "or application/pdf")
    size: int = Field(ge=1, description="bytes; at most 10 MB")


class MessagesQuery(ApiModel):
    model_config = ConfigDict(extra="forbid")
    after: str | None = Field(default=None, min_length=1, max_length=200,
                                 description="the cursor of the last answer: only newer messages")


class SuggestionQuery(ApiModel):
    model_config = ConfigDict(extra="forbid")
    q: str = Field(min_length=1, max_length=200)


class QueueQuery(ApiModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, min_length=1, max_length=2000)


class CaseSearchQuery(ApiModel):
    """Exactly one of ``ref`` / ``user`` / ``repayment_id`` / ``q`` / ``phone_last4`` (with ``date``, or
    ``since`` + ``until`` ≤ 31 days), plus optional filters (docs/escalation.md)."""
    model_config = ConfigDict(extra="forbid")
    ref: str | None = Field(default=None, max_length=60, description="a reference; lower case / full width accepted")
    user: str | None = Field(default=None, max_length=64, description="the user's name")
    repayment_id: str | None = Field(default=None, max_length=128)
    q: str | None = Field(default=None, max_length=200, description="words of the description or conversation")
    phone_last4: str | None = Field(default=None, max_length=20,
                                    description="the last four digits of the owner's phone (with date, or since+until)")
    date: dt.date | None = Field(default=None,
                                 description="with phone_last4: the day it was opened (business time zone)")
    step: StepName | None = None
    status: Literal["open", "waiting_user", "resolved", "closed"] | None = None
    priority: Literal["P1", "P2", "P3"] | None = None
    category: Category | None = None
    assignee: str | None = Field(default=None, max_length=128)
    since: dt.date | None = Field(default=None, description="opened on or after this day (the business time zone's "
                                                          "day, Asia/Shanghai)")
    until: dt.date | None = Field(default=None, description="opened on or before this day (the business time zone's "
                                                          "day, Asia/Shanghai)")
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, min_length=1, max_length=2000)


# ---------------------------------------------------------------- responses
class TimelineEntry(ApiModel):
    """One event of a 工单, worded for the reader (``escalation/wording.py``): the owner sees only the
    events that concern them, in plain words, and a ``reason`` only where the owner typed it; staff see
    every event, every reason, and who acted."""
    at: str
    event: str
    actor: Literal["user", "support", "system"]
    text: str = Field(description="the event in the reader's words (owner: plain words; staff: the teams' wording)")
    reason: str = Field(description="owner: only the reason the owner typed (else empty); staff: the recorded reason")
    from_step: str | None = Field(default=None, alias="from")
    to_step: str | None = Field(default=None, alias="to")
    by: str | None = None       # staff views only: the staff user id
    by_name: str | None = None  # staff views only: the staff user name (what pages show)
    model_config = ConfigDict(populate_by_name=True)


class ConversationEntry(ApiModel):
    at: str
    author: Literal["user", "support", "system"]
    text: str
    kind: Literal["resolution", "repayment_update"] | None = Field(
        default=None, description="resolution: support's resolve summary; repayment_update: the linked "
                                  "repayment settled, failed or was delayed (author system)")
    link: str | None = Field(default=None, description="repayment_update: the receipt's page, once it exists")


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


class Satisfaction(ApiModel):
    """The owner's rating when confirming (or later, once)."""
    rating: int
    comment: str | None = None
    at: str


class AttachmentInfo(ApiModel):
    """Evidence the owner uploaded (image or PDF)."""
    attachment_id: str
    filename: str
    content_type: str
    size: int
    uploaded_at: str


class Attachment(AttachmentInfo):
    download_url: str = Field(description="presigned GET (Content-Disposition: attachment), valid a few minutes")
    download_expires_at: str


class AttachmentList(ApiModel):
    """A case's evidence attachments, oldest first."""
    case_id: str
    items: list[Attachment]
    max_bytes: int
    content_types: list[str]


class AttachmentUpload(ApiModel):
    """A presigned POST: send ``fields`` and then the file (field ``file``) as multipart/form-data to ``url``."""
    attachment_id: str
    url: str
    fields: dict[str, str]
    max_bytes: int
    expires_at: str


class NewMessages(ApiModel):
    """Conversation entries after the cursor (poll with ``after=<cursor>``)."""
    case_id: str
    items: list[ConversationEntry]
    cursor: str | None
    status: Literal["open", "waiting_user", "resolved", "closed"]
    status_title: str
    version: int


class CaseView(ApiModel):
    """The case as its owner (or staff) sees it."""
    case_id: str
    reference: str
    category: Category
    category_title: str
    description: str
    repayment_id: str | None
    merged_into: str | None = None   # closed by a merge into this 工单 (its reference)
    priority: Literal["P1", "P2", "P3"]
    step: StepName
    step_title: str
    step_description: str
    status: Literal["open", "waiting_user", "resolved", "closed"]
    status_title: str
    deadline: str | None
    deadline_local: str | None
    clock_paused: bool
    reopen_until: str | None
    what_next: str
    created_at: str
    version: int
    timeline: list[TimelineEntry]
    conversation: list[ConversationEntry]
    legal_guidance: LegalGuidance | None
    satisfaction: Satisfaction | None = None
    update_question: str | None = Field(default=None, description="a repayment update awaits the owner's answer: "
                                        "does it solve the problem? (POST …/update-answer)")
    # staff only
    incident_id: str | None = None
    assignee: str | None = None
    user_id: str | None = None
    user_name: str | None = Field(default=None, description="staff: the owner's display name (user name or "
                                                                 "masked phone), never an id")
    warn_at: str | None = None
    notes: list[InternalNote] | None = None


class CaseSummary(ApiModel):
    case_id: str
    category: Category
    priority: Literal["P1", "P2", "P3"]
    step: StepName
    status: Literal["open", "waiting_user", "resolved", "closed"]
    deadline: str | None
    created_at: str
    assignee: str | None = None   # staff views only
    warn_at: str | None = Field(default=None, description="when the team is warned before the deadline")
    subject: str = Field(default="", description="the first words of the description")
    user_name: str | None = Field(default=None, description="staff: the owner's display name, never an id")
    update: str | None = Field(default=None, description="staff: the linked repayment's latest update awaiting "
                                                         "the owner's answer (the queue's marker)")
    due_raised: bool | None = Field(default=None, description="staff: raised because its repayment is due soon")
    incident_id: str | None = None   # staff views only


class CaseList(ApiModel):
    """A list of cases."""
    items: list[CaseSummary]


class QueuePage(ApiModel):
    """Open cases of one step, nearest deadline first."""
    step: StepName
    items: list[CaseSummary]
    next_cursor: str | None


class CaseSearchPage(ApiModel):
    """Search results, newest first; ``exact`` is the reference when one 工单 was asked for by reference."""
    by: Literal["reference", "user", "repayment", "words", "phone"]
    items: list[CaseSummary]
    next_cursor: str | None
    exact: str | None = None


class Suggestion(ApiModel):
    id: str
    title: str
    snippet: str
    url: str | None = None


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


class AccessSeen(ApiModel):
    at: str
    role_title: str
    what: str


class CaseExport(ApiModel):
    """The case, exported to attach to a complaint."""
    reference: str
    exported_at: str
    category: Category
    category_title: str
    description: str
    repayment_id: str | None
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
    satisfaction: Satisfaction | None = None
    attachments: list[AttachmentInfo] = []
    accessed_by: list[AccessSeen] = Field(default=[], description="who among staff looked at the owner's data: "
                                          "a role and a time, never a name")
