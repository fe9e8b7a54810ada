"""Request and response models of settlement incidents and of a 工单's answer to a repayment update (published
in /openapi.json; ``chalicelib/routes/incidents.py``)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool

from chalicelib.escalation.schemas import CaseSummary, MessageText, _Body
from chalicelib.kernel.schema import ApiModel


class UpdateAnswer(_Body):
    """Does the repayment update solve the problem? true: the 工单 closes (the owner's consent is recorded)."""
    solved: StrictBool


class IncidentReply(_Body):
    message: MessageText


class IncidentReplyText(ApiModel):
    at: str
    text: str
    by_name: str | None = None


class IncidentView(ApiModel):
    """A settlement incident: one kind of failure at one issuer, platform or biller (staff only)."""
    incident_id: str
    title: str
    reason: Literal["biller_unavailable", "maintenance", "network_error"]
    source_kind: Literal["issuer", "platform", "biller"]
    source: str
    status: Literal["open", "closed"]
    opened_at: str
    last_failure_at: str
    failures: int
    closed_at: str | None = None
    closed_by: str | None = None
    user_sentence: str = Field(description="what an affected user is told")
    replies: list[IncidentReplyText]
    cases: list[CaseSummary] | None = Field(default=None, description="the 工单 grouped under it (one incident)")


class IncidentList(ApiModel):
    items: list[IncidentView]


class IncidentReplied(ApiModel):
    """How many grouped 工单 the reply reached now, had it already, or were skipped (resolved or closed)."""
    incident_id: str
    reply_id: str
    reached: int
    already: int
    skipped: int
