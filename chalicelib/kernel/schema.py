"""The base of every request/response model (each domain keeps its own in ``<domain>/schemas.py``)."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ApiModel(BaseModel):
    """Base of every request/response model (here and in ``<domain>/schemas.py``).

    ``defer_build``: pydantic builds a model's validator and serializer on first use
    (validation, dump or ``model_json_schema``) instead of at import, which keeps ~60
    models from costing a Lambda cold start time that most invocations never need.
    Subclasses' own ``model_config`` is merged with this one.
    """
    model_config = ConfigDict(defer_build=True)


def as_body(model: BaseModel) -> dict:
    """A response model as the JSON body it is sent as: by alias, and fields left unset (such as
    staff-only ones on a user's view) left out."""
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True)
