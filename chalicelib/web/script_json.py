"""The JSON the help door's page scripts read (``fetch`` from a page): a ``Reply`` holding JSON, and the guard that
answers their failures in JSON too — no session → 401 (the script sends the user to sign in), a refusal → the
common error shape; never a redirect to an HTML page."""
from __future__ import annotations

import functools
import json

from chalicelib.edge import errors
from chalicelib.edge.pages import Reply
from chalicelib.kernel import refusals
from chalicelib.web import session


def reply(body, status: int = 200) -> Reply:
    return Reply(status, json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                 {"Content-Type": "application/json; charset=utf-8"})


def refusals_as_json(function):
    """Wrap a page script's endpoint: its failures answered as JSON errors."""
    @functools.wraps(function)
    def guarded(*args, **kwargs) -> Reply:
        try:
            return function(*args, **kwargs)
        except session.LoginRequired as exc:
            return reply({"error": {"code": "login_required", "message": "登录已过期，请重新登录。",
                                    "login": exc.location}}, 401)
        except session.Forbidden as exc:
            return reply({"error": {"code": exc.code, "message": exc.message}}, 403)
        except refusals.DomainError as exc:
            refusal = errors.from_domain(exc)
            return reply(refusal.body(), refusal.status)
        except errors.ApiError as exc:
            return reply(exc.body(), exc.status)
    return guarded
