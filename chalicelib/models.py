"""Response models of the shared routes (each domain keeps its own in ``<domain>/schemas.py``)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class Health(BaseModel):
    """Service is up."""
    status: Literal["ok"]


class Me(BaseModel):
    """The signed-in user."""
    user_id: str
    username: str
    roles: list[str]
