"""The assignment API's models (#25 item 3): an agent's status and capacity, the lead's view, presence."""
from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, StrictBool

from chalicelib.kernel.schema import ApiModel

AgentStatus = Literal["available", "away", "offline"]


class _Body(ApiModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class StatusChange(_Body):
    status: AgentStatus


class CapacityChange(_Body):
    capacity: int = Field(ge=1, le=100)


class Presence(_Body):
    typing: StrictBool = False


class AgentView(ApiModel):
    name: str
    role: str
    status: AgentStatus
    status_title: str
    capacity: int
    load: int            # open 工单 carried now
    reassigned: int = 0  # 工单 handed back to the pool / pulled from it by this change
    last_seen: str | None = None   # when the agent last used the workspace (ISO, UTC)
    carrying: list[str] = []       # the lead's view: the open 工单 (references) the agent carries


class AgentList(ApiModel):
    agents: list[AgentView]
    waiting: int         # open 工单 nobody carries (the pool), of the steps read
    pool: list[str] = []  # their references, nearest deadline first per step


class Viewer(ApiModel):
    name: str
    typing: bool


class PresenceView(ApiModel):
    others: list[Viewer]   # other staff on this 工单 in the last seconds (never the caller)
