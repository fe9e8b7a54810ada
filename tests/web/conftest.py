"""A browser-like client for the pages: a cookie jar, form posts, the CSRF token read from the page."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    def __init__(self, api):
        self.api = api
        self.jar: dict[str, str] = {}
        self.last = None

    def _headers(self, extra=None) -> dict:
        headers = dict(extra or {})
        if self.jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        return headers

    def _keep(self, response):
        raw = response.headers.get("set-cookie") or []
        for line in ([raw] if isinstance(raw, str) else raw):
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in line:
                self.jar.pop(name, None)
            else:
                self.jar[name] = value
        self.last = response
        return response

    def set_cookies(self, response) -> list[str]:
        raw = response.headers.get("set-cookie") or []
        return [raw] if isinstance(raw, str) else list(raw)

    def get(self, path, headers=None):
        return self._keep(self.api.get(path, headers=self._headers(headers)))

    def post(self, path, fields: dict, headers=None):
        sent = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return self._keep(self.api.post(path, body=urlencode(fields), headers=self._headers(sent)))

    def csrf(self, response=None) -> str:
        found = CSRF.search((response or self.last).text)
        assert found, "no csrf_token on the page"
        return found.group(1)

    def sign_in(self, door: str, username: str, password: str, next_path: str = "", *, second_factor: bool = True):
        """The sign-in form; a two-factor page that follows (every staff account: the test users are enrolled with
        moto's secret, ``infra.local.ensure_user``) is answered with the authenticator's code, unless
        ``second_factor=False`` (the tests of that step)."""
        page = self.get(f"/{door}/login" + (f"?next={next_path}" if next_path else ""))
        answer = self.post(f"/{door}/login", {"username": username, "password": password, "next": next_path,
                                             "csrf_token": self.csrf(page)})
        if second_factor and answer.status == 200 and 'action="/' + door + '/login/code"' in answer.text:
            return self.enter_code(door)
        return answer

    def enter_code(self, door: str, code: str | None = None, secret: str | None = None):
        """The two-factor page's form: ``code``, or the one the authenticator shows now for ``secret`` (moto's)."""
        from infra import local
        code = code if code is not None else local.totp_code(*([secret] if secret else []))
        return self.post(f"/{door}/login/code", {"code": code, "csrf_token": self.csrf()})


@pytest.fixture
def browser_for(api):
    return lambda: Browser(api)


@pytest.fixture
def demo_password():
    from infra import local
    return local.DEMO_PASSWORD


@pytest.fixture
def business_morning(aws):
    """Tuesday 2026-11-24 10:00 Asia/Shanghai: inside business hours."""
    from chalicelib.kernel import clock
    clock.freeze(dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    yield clock
    clock.reset()


RECEIPT_SECRET = "test-receipt-key-web-0123456789abcdef01234567"


@dataclass
class Demo:
    """What ``make serve`` seeds, in this test's moto account: alice's four repayments (settled card, failed loan —
    retryable —, failed electricity bill — not retryable —, delayed card), bob's gas bill, their saved bills,
    the notices their outcomes sent, and their 工单 (each naming one of their repayments)."""
    users: dict

    def repayment(self, name: str, amount: str) -> dict:
        from chalicelib.kernel.actor import Actor
        from chalicelib.repay import schemas, service
        user = self.users[name]
        page = service.history(Actor(user_id=user.user_id, username=user.username), schemas.ListQuery(limit=50),
                               service.current())
        return next(item for item in page["items"] if item["amount"] == amount)

    def cases(self, name: str) -> list[str]:
        from chalicelib.escalation import service
        from chalicelib.kernel.actor import Actor
        user = self.users[name]
        found, _ = service.my_cases_page(Actor(user_id=user.user_id, username=user.username), limit=20, cursor=None)
        return [case.case_id for case in found]


@pytest.fixture
def demo(aws, alice, bob, agent, lead, business_morning, monkeypatch):
    """alice and bob seeded by devtools' own seed functions (``make serve``'s demo data), settled in process."""
    from chalicelib import config
    from devtools import seed
    from tests.repay.conftest import run_worker

    monkeypatch.setenv("RECEIPT_SECRET", RECEIPT_SECRET)
    config.reload()
    roles = {"alice": None, "bob": None, "agent": "support", "lead": "senior-support"}
    users = {u.username: seed.DemoUser(username=u.username, user_id=u.user_id, role=roles[u.username], token=u.token)
             for u in (alice, bob, agent, lead)}
    seed.seed_data(users, domains=("repay", "escalation", "bills"))
    run_worker()   # the settlement worker, as Lambda runs it: outcomes and their notices
    return Demo(users)


@pytest.fixture
def signed_in(browser_for, demo_password):
    """``signed_in("alice")`` → a Browser with alice's help-door session (``door="agent"`` for staff)."""
    def make(username: str, door: str = "help"):
        b = browser_for()
        answer = b.sign_in(door, username, demo_password)
        assert answer.status == 303, answer.text
        return b
    return make


def expire_token_once(monkeypatch):
    """From now on the next token check finds the token expired (as an id token past its hour would be); later
    checks are real. Returns the real check and the tokens checked, in order."""
    from chalicelib.edge import auth
    real_verify, calls = auth.verify, []

    def expired_once(token):
        calls.append(token)
        if len(calls) == 1:
            raise auth.TokenExpired("Signature has expired")
        return real_verify(token)
    monkeypatch.setattr(auth, "verify", expired_once)
    return real_verify, calls
