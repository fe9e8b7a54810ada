"""#21.9 in Chromium: the pages' own scripts run under the strict CSP (each carries the response's nonce), a
script without it does not, and no page can be framed by another site."""
from __future__ import annotations

import pytest

from tests.browser.conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__violations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));
"""


@pytest.fixture
def phone(browser, local_stack):
    context = browser.new_context(base_url=local_stack.api_url, **PHONE)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_the_pages_own_scripts_run_and_nothing_is_refused(phone):
    phone.goto("/help/contact")
    phone.get_by_label("要核实的电话号码").fill("13800138000")
    phone.get_by_role("button", name="核实").click()
    # answered by the page's script (a mobile number: "不是本钱包的号码")
    phone.get_by_test_id("check-result").locator('.notice[data-verdict="not_ours"]').wait_for()
    assert "number=" not in phone.url
    for path in ("/help", "/help/search?q=%E8%BF%98%E6%AC%BE%E5%A4%B1%E8%B4%A5", "/help/articles/find-hotline",
                 "/help/login"):
        phone.goto(path)
        assert phone.evaluate("window.__violations") == [], path


def test_a_script_without_the_nonce_does_not_run(phone):
    phone.goto("/help/contact")
    phone.evaluate("""() => { const s = document.createElement('script');
                               s.textContent = 'window.__injected = true'; document.body.appendChild(s); }""")
    phone.wait_for_function("window.__violations.length > 0")
    assert phone.evaluate("window.__injected === undefined")
    assert any(v.startswith("script-src") for v in phone.evaluate("window.__violations"))


@pytest.fixture
def attacker_site(local_stack):
    """Another site on this machine (another origin: its own port) whose page frames the help centre."""
    import http.server
    import threading
    body = f'<iframe src="{local_stack.api_url}/help/contact" width="300" height="300"></iframe>'.encode()

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_no_page_can_be_framed_by_another_site(phone, attacker_site):
    """Chromium refuses to show a page inside another site's frame (frame-ancestors 'none', X-Frame-Options)."""
    phone.goto(attacker_site)
    phone.wait_for_timeout(2000)
    frame = next(f for f in phone.frames if f is not phone.main_frame)
    try:
        framed_text = frame.evaluate("document.body ? document.body.innerText : ''")
    except Exception:       # Chromium's error page for a refused frame may not be scriptable
        framed_text = ""
    assert "核实" not in framed_text and "官方" not in framed_text, framed_text[:200]
