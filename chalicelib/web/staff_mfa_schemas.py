"""The API model of a lead's reset of a staff member's two-factor sign-in (``staff_mfa.py``)."""
from __future__ import annotations

from chalicelib.kernel.schema import ApiModel


class MfaReset(ApiModel):
    username: str
    reset_at: str                 # ISO 8601, UTC
    had_authenticator: bool       # false: the member had not enrolled one (the reset changed nothing in the pool)
    access_record: str            # the access record's key (the leads' /agent/access lists it)
