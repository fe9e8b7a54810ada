"""The public help pages know a signed-in wallet user (for deflection, #15) without ever requiring one."""
from __future__ import annotations

from chalicelib.kernel.logs import user_hash


def _events(kind: str) -> list[dict]:
    from chalicelib.adapters import events
    events.flush()
    return [e for e in events.hour_events("2026-11-24T10") if e.get("kind") == kind]


def test_a_signed_in_readers_search_and_article_read_carry_their_opaque_id(browser_for, alice, demo_password,
                                                                           business_morning):
    b = browser_for()
    assert b.sign_in("help", "alice", demo_password).status == 303
    assert b.get("/help/search?q=还款没到账").status == 200
    assert b.get("/help/articles/repayment-delay").status == 200
    assert [e.get("user") for e in _events("search")] == [user_hash(alice.user_id)]
    assert [e.get("user") for e in _events("article_view")] == [user_hash(alice.user_id)]
    assert alice.user_id not in str(_events("search") + _events("article_view"))


def test_anonymous_and_forged_cookies_read_the_page_anonymously(browser_for, business_morning):
    anonymous = browser_for()
    assert anonymous.get("/help/articles/repayment-delay").status == 200
    forged = browser_for()
    forged.jar["rd_session"] = "A" * 43
    page = forged.get("/help/articles/repayment-delay")
    assert page.status == 200   # a public page: never a sign-in redirect
    assert [e.get("user") for e in _events("article_view")] == [None, None]
