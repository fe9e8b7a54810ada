"""An agent as the assignment rules see it (#25 item 3): a staff user with a role, a status and a capacity."""
from __future__ import annotations

from dataclasses import dataclass

STATUSES = ("available", "away", "offline")
STATUS_TITLES = {"available": "在线接单", "away": "暂离", "offline": "下线"}


@dataclass(frozen=True)
class Agent:
    name: str       # the staff user name (Cognito user name): what a 工单's assignee holds
    role: str       # support | senior-support: which steps the agent takes (the step's role)
    status: str     # available | away | offline
    capacity: int   # open 工单 the agent carries at most
    load: int = 0   # open 工单 assigned to the agent now
    last_seen: str = ""   # when the agent last used the workspace (ISO, UTC; "" never since this was kept)

    @property
    def available(self) -> bool:
        return self.status == "available"

    @property
    def room(self) -> int:
        return max(0, self.capacity - self.load)

    def takes(self, step_role: str) -> bool:
        """The round-robin gives an agent the 工单 of the steps of their own role."""
        return self.role == step_role


def turn_order(agents: list[Agent], turn: int) -> list[Agent]:
    """The agents (by name) starting from the one whose turn it is: round-robin over the step's agents."""
    ordered = sorted(agents, key=lambda a: a.name)
    if not ordered:
        return []
    start = turn % len(ordered)
    return ordered[start:] + ordered[:start]
