"""Response models of the shared routes (each domain keeps its own in ``<domain>/schemas.py``)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class ApiModel(BaseModel):
    """Base of every request/response model (here and in ``<domain>/schemas.py``).

    ``defer_build``: pydantic builds a model's validator and serializer on first use
    (validation, dump or ``model_json_schema``) instead of at import, which keeps ~60
    models from costing a Lambda cold start time that most invocations never need.
    Subclasses' own ``model_config`` is merged with this one.
    """
    model_config = ConfigDict(defer_build=True)


class Health(ApiModel):
    """Service is up."""
    status: Literal["ok"]


class Me(ApiModel):
    """The signed-in user."""
    user_id: str
    username: str
    roles: list[str]
