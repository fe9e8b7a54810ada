"""The workspace's search box (``/agent/search``): an exact reference (full width) opens the 工单, words list
the matches in the queue's style, a frontline agent does not see senior 工单, bad input is an HTML 400 page."""
from __future__ import annotations

import re
import urllib.parse

import pytest

from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context
from tests.web.staff import signed_in


def _open_case(user, description: str) -> str:
    from chalicelib.escalation import service
    actor = Actor(user_id=user.user_id, username=user.username, roles=frozenset())
    return service.open_case(actor, Context.current(), category="fees", description=description,
                             repayment_id=None).body["case_id"]


def test_the_queue_has_the_box_and_a_full_width_reference_opens_the_case(signed_in, agent, alice):
    case_id = _open_case(alice, "手续费比说好的多收了五元")
    b = signed_in(agent)
    assert 'data-testid="case-search"' in b.get("/agent").text
    typed = case_id.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZ"})
    jumped = b.get("/agent/search?" + urllib.parse.urlencode({"q": typed}))
    assert jumped.status == 303 and jumped.headers["location"].endswith(f"/agent/cases/{case_id}")


def test_words_list_matches_and_a_reference_that_is_not_there_says_so(signed_in, agent, alice, bob):
    wanted = _open_case(alice, "手续费比说好的多收了五元")
    _open_case(bob, "还款一直显示处理中")
    page = signed_in(agent).get("/agent/search?" + urllib.parse.urlencode({"q": "手续费"}))
    assert page.status == 200
    assert re.findall(r'data-testid="search-item" data-case="(RD-[^"]+)"', page.text) == [wanted]
    missing = signed_in(agent).get("/agent/search?q=RD-20990101-ZZZZ")
    assert missing.status == 200 and 'data-testid="search-empty"' in missing.text


def test_bad_input_is_an_html_400_with_a_way_back(signed_in, agent):
    page = signed_in(agent).get("/agent/search?" + urllib.parse.urlencode({"q": "的", "by": "text"}))
    assert page.status == 400 and "<html" in page.text and 'href="/agent' in page.text
