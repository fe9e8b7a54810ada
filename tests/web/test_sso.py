"""Agent single sign-on (authorization code + PKCE) against a stub of the pool's token endpoint
(moto does not serve the managed login): a good code signs in, a foreign or replayed state does not."""
from __future__ import annotations

import base64
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from chalicelib.web import session


class TokenEndpoint:
    """``POST /oauth2/token``: answers the ID token for the one code it issued, if the PKCE verifier matches."""

    def __init__(self):
        self.code, self.challenge, self.id_token = "", "", ""
        self.requests: list[dict] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                sent = self.rfile.read(int(self.headers["Content-Length"])).decode()
                form = {k: v[0] for k, v in parse_qs(sent).items()}
                endpoint.requests.append(form)
                verifier = form.get("code_verifier", "")
                digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
                good = (self.path == "/oauth2/token" and form.get("grant_type") == "authorization_code"
                        and form.get("code") == endpoint.code and digest == endpoint.challenge)
                body = json.dumps({"id_token": endpoint.id_token, "access_token": "x", "refresh_token": "r",
                                   "token_type": "Bearer", "expires_in": 3600} if good else {"error": "invalid_grant"})
                if good:
                    endpoint.code = ""  # a code works once
                self.send_response(200 if good else 400)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args):
                pass
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def idp(aws, monkeypatch):
    from chalicelib import config
    endpoint = TokenEndpoint()
    monkeypatch.setenv("SSO_DOMAIN", endpoint.url)
    monkeypatch.setenv("AGENT_SIGN_IN", "sso")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://support.example.com")
    config.reload()
    yield endpoint
    endpoint.server.shutdown()


def _begin(b, idp, id_token: str, next_path: str = "/agent"):
    answer = b.get(f"/agent/login/sso?next={next_path}")
    assert answer.status == 303
    location = urlparse(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}" == idp.url and location.path == "/oauth2/authorize"
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["code_challenge_method"] == "S256" and query["response_type"] == "code"
    assert query["redirect_uri"] == "https://support.example.com/agent/callback"
    state_cookie = next(c for c in b.set_cookies(answer) if c.startswith("rd_sso="))
    assert "Path=/agent/callback" in state_cookie and "HttpOnly" in state_cookie and "SameSite=Lax" in state_cookie
    idp.code, idp.challenge, idp.id_token = "code-" + query["state"][:8], query["code_challenge"], id_token
    return query["state"], idp.code


def test_good_code_signs_the_agent_in(browser_for, idp, agent):
    b = browser_for()
    state, code = _begin(b, idp, agent.token, next_path="/agent/cases/RD-20261201-ABCD")
    done = b.get(f"/agent/callback?code={code}&state={state}")
    assert done.status == 200, done.text
    assert 'url=/agent/cases/RD-20261201-ABCD' in done.text       # moves on from a page of our own
    assert "rd_session" in b.jar and "rd_sso" not in b.jar
    assert idp.requests[-1]["redirect_uri"] == "https://support.example.com/agent/callback"
    request = type("R", (), {"headers": {"cookie": f"rd_session={b.jar['rd_session']}"}, "path": "/agent",
                             "uri_params": {}, "query_params": {}})()
    assert session.require(request, "agent").actor.user_id == agent.user_id


def test_state_from_another_browser_is_refused(browser_for, idp, agent):
    victim, attacker = browser_for(), browser_for()
    state, code = _begin(attacker, idp, agent.token)
    victim.get("/agent/login/sso")                      # the victim's own, different state cookie
    answer = victim.get(f"/agent/callback?code={code}&state={state}")
    assert answer.status == 400 and "rd_session" not in victim.jar
    assert idp.requests == []                            # the code was never exchanged


def test_bad_state_is_refused(browser_for, idp, agent):
    b = browser_for()
    state, code = _begin(b, idp, agent.token)
    answer = b.get(f"/agent/callback?code={code}&state={state[:-1]}x")
    assert answer.status == 400 and "rd_session" not in b.jar and idp.requests == []


def test_replayed_state_is_refused(browser_for, idp, agent):
    b = browser_for()
    state, code = _begin(b, idp, agent.token)
    sso_cookie = b.jar["rd_sso"]
    assert b.get(f"/agent/callback?code={code}&state={state}").status == 200
    replay = browser_for()
    replay.jar["rd_sso"] = sso_cookie                    # the same state and cookie, sent again
    idp.code = code                                      # even if the provider would accept the code again
    answer = replay.get(f"/agent/callback?code={code}&state={state}")
    assert answer.status == 400 and "rd_session" not in replay.jar
    assert len(idp.requests) == 1


def test_refused_code_and_non_staff_token_do_not_sign_in(browser_for, idp, agent, alice):
    b = browser_for()
    state, _ = _begin(b, idp, agent.token)
    assert b.get(f"/agent/callback?code=wrong&state={state}").status == 400
    assert "rd_session" not in b.jar
    user = browser_for()
    state, code = _begin(user, idp, alice.token)
    assert user.get(f"/agent/callback?code={code}&state={state}").status == 403
    assert "rd_session" not in user.jar


def test_password_form_gives_way_to_sso_when_agents_use_it(browser_for, idp, agent, demo_password):
    b = browser_for()
    page = b.get("/agent/login")
    assert 'data-testid="sso-login"' in page.text and 'name="password"' not in page.text
    answer = b.post("/agent/login", {"username": "agent", "password": demo_password, "csrf_token": b.jar["rd_login"]})
    assert answer.status == 303 and answer.headers["location"].startswith("/agent/login/sso")
    assert "rd_session" not in b.jar
