"""A browser-like client for the pages: a cookie jar, form posts, the CSRF token read from the page."""
from __future__ import annotations

import datetime as dt
import re
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

    def sign_in(self, door: str, username: str, password: str, next_path: str = ""):
        page = self.get(f"/{door}/login" + (f"?next={next_path}" if next_path else ""))
        return self.post(f"/{door}/login", {"username": username, "password": password, "next": next_path,
                                           "csrf_token": self.csrf(page)})


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
    from chalicelib import clock
    clock.freeze(dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    yield clock
    clock.reset()
