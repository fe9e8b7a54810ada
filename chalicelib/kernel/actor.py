"""Who acts in a use case: the domain's view of the signed-in caller.

Services take an ``Actor``, not the HTTP layer's principal, so they can be called from a
schedule, a queue worker or a test without faking a request. Each route builds one per
request from the authorizer's context (``http.actor``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

SUPPORT = "support"
SENIOR_SUPPORT = "senior-support"
KB_EDITOR = "kb-editor"          # writes and submits help-centre articles (chalicelib/content); not a case agent
STAFF_ROLES = frozenset({SUPPORT, SENIOR_SUPPORT})
# Accounts of the staff door: their sign-in requires the second factor (TOTP; docs/front-doors.md)
MFA_REQUIRED_ROLES = STAFF_ROLES | {KB_EDITOR}


@dataclass(frozen=True)
class Actor:
    user_id: str  # Cognito ``sub``: stable, what every item is keyed by
    username: str = ""
    roles: frozenset[str] = field(default_factory=frozenset)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)
