"""The sign-in routes a browser door has, written once for both doors (``/help`` for wallet users, ``/agent`` for
staff): the form, the password POST, the new-password POST (a temporary password's first sign-in), the two-factor
code POST and sign-out, all in ``chalicelib/web/signin.py``, told apart by ``door`` (the session records it; a
staff door takes only staff sessions). Each door's blueprint calls ``add_sign_in_routes(bp, door)``; the views
keep their names (``help_login``, ``agent_logout`` …)."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.edge import httpio, replies
from chalicelib.edge.lazy import lazy_import

signin = lazy_import("chalicelib.web.signin")

# (path under the door, method, view name after the door, signin's function)
SIGN_IN_ROUTES = (
    ("/login", "GET", "login_page", "login_page"),
    ("/login", "POST", "login", "login"),
    ("/login/new-password", "POST", "new_password", "new_password"),
    ("/login/code", "POST", "login_code", "login_code"),     # two-factor: the authenticator's code (web/mfa.py)
    ("/logout", "POST", "logout", "logout"),
)


def add_sign_in_routes(bp: Blueprint, door: str) -> None:
    for path, method, name, action in SIGN_IN_ROUTES:
        def view(action: str = action):
            return replies.page(getattr(signin, action)(bp.current_request, door=door))
        view.__name__ = view.__qualname__ = f"{door}_{name}"
        options = {"content_types": replies.FORM} if method == "POST" else {}
        bp.route(f"/{door}{path}", methods=[method], **options)(httpio.surface_errors(view))
