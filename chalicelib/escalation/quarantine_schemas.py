"""The quarantine API's models (#25 item 4): quarantined inbound mails as a lead reads them."""
from __future__ import annotations

from pydantic import ConfigDict, Field

from chalicelib.kernel.schema import ApiModel


class QuarantineQuery(ApiModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, min_length=1, max_length=200)


class QuarantinedMail(ApiModel):
    id: str
    at: str = Field(description="when the mail came (ISO 8601, UTC)")
    reason: str = Field(description="why it was refused: too_large, auto_reply, loop, virus, spam, spoofed_sender, "
                                    "no_reply_address, forged_token, unknown_sender, case_closed, empty, not_accepted")
    reason_title: str
    sender: str = Field(description="the From address masked (a***@example.com); empty when never read")
    size: int = Field(description="bytes")
    case_id: str | None = Field(default=None, description="the 工单 its reply address names, when it verified")
    note: str = ""
    status: str = Field(description="held | released | discarded")
    releasable: bool = Field(description="a lead may add it to its 工单 (held, a releasable reason, 工单 known)")
    decided_by: str | None = None
    decided_at: str | None = None


class QuarantinePage(ApiModel):
    items: list[QuarantinedMail]
    next_cursor: str | None = None
