"""Why a use case refused, without HTTP: services raise these; ``errors.from_domain`` (the one place)
turns each into the common error shape and its status, in ``app.py``'s ``errors_as_json``.

``message`` is for the person holding the phone (Chinese), ``code`` for programs, ``field`` names
the offending input, ``details`` add fields to the error body, ``retry_after`` (seconds) says when
trying again makes sense.
"""
from __future__ import annotations


class DomainError(Exception):
    code: str | None = None       # None: the HTTP error's default code

    def __init__(self, message: str | None = None, *, code: str | None = None, field: str | None = None,
                 details: dict | None = None, retry_after: int | None = None):
        super().__init__(message or type(self).__name__)
        self.message = message
        if code:
            self.code = code
        self.field = field
        self.details = details
        self.retry_after = retry_after


class Invalid(DomainError):
    """The input breaks a rule the schema could not know (an amount over the kind's limit …)."""


class Missing(DomainError):
    """No such thing — or someone else's, which looks exactly the same."""


class NotAllowed(DomainError):
    """The caller may not do this (a role, or someone else's case to act on)."""


class Conflicting(DomainError):
    """Not in this state: the thing is not (or no longer) where the request needs it."""


class Outdated(DomainError):
    """A conditional change (``If-Match``) made against a version someone else has since replaced."""


class Rejected(DomainError):
    """Understood, and refused on its merits (a wrong verification code …)."""


class Frozen(DomainError):
    """The account is frozen for security; nothing moves money until support lifts it."""


class Busy(DomainError):
    """Could not finish now for a passing reason; the same request may simply be sent again."""


class Limited(DomainError):
    """Too often: the same request is allowed again after ``retry_after`` seconds."""
