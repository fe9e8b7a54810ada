"""Response models of the shared routes (health, who am I)."""
from __future__ import annotations

from typing import Literal

from chalicelib.kernel.schema import ApiModel


class Health(ApiModel):
    """Service is up."""
    status: Literal["ok"]


class Me(ApiModel):
    """The signed-in user."""
    user_id: str
    username: str
    roles: list[str]
