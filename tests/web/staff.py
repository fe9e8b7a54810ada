"""The workspace tests' sign-in, one copy: ``signed_in(user)`` (a test user with ``username``) → a Browser with that
staff member's workspace session (the agent door). A test module imports it in place of the conftest's
``signed_in(username, door="help")``."""
from __future__ import annotations

import pytest


@pytest.fixture
def signed_in(browser_for, demo_password):
    def sign_in(user):
        b = browser_for()
        assert b.sign_in("agent", user.username, demo_password).status == 303
        return b
    return sign_in
