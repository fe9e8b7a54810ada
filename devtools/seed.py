"""Demo users and data for ``make serve``.

Users: ``alice`` and ``bob`` (wallet users, verified e-mail ``<name>@example.com``), ``agent`` (role support), ``lead``
(role senior-support), ``editor`` (role kb-editor); all with the password in ``infra.local.DEMO_PASSWORD``.
Each domain may add ``devtools/seed_<domain>.py`` with ``seed(users)``, where
``users`` maps a name to a ``DemoUser``; it calls its own service functions.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass

import jwt

from infra import local

DEMO_USERS = {
    "alice": (None, "+8613800138001"),
    "bob": (None, "+8613800138002"),
    "agent": ("support", "+8613800138003"),
    "lead": ("senior-support", "+8613800138004"),
    "editor": ("kb-editor", "+8613800138005"),   # writes help-centre articles; "lead" approves them
}


@dataclass(frozen=True)
class DemoUser:
    username: str
    user_id: str
    role: str | None
    token: str


DOMAINS = ("repay", "search", "escalation", "bills", "insight", "status", "content", "editions")


def seed_all(pool) -> dict[str, DemoUser]:
    users = {}
    for name, (role, phone) in DEMO_USERS.items():
        # Wallet users have a verified e-mail (replies by e-mail come from it only: docs/escalation.md).
        email = f"{name}@example.com" if role is None else None
        token = local.ensure_user(pool, name, role=role, phone=phone, email=email)
        sub = jwt.decode(token, options={"verify_signature": False})["sub"]
        users[name] = DemoUser(username=name, user_id=sub, role=role, token=token)
    seed_data(users)
    return users


def seed_data(users: dict[str, DemoUser], domains: tuple[str, ...] = DOMAINS) -> None:
    """Each domain's demo data for ``users`` (the tests seed alice and bob with the same functions)."""
    for domain in domains:
        try:
            module = importlib.import_module(f"devtools.seed_{domain}")
        except ModuleNotFoundError as exc:
            if exc.name != f"devtools.seed_{domain}":
                raise
            continue
        module.seed(users)
