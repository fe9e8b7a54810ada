"""The contacts and quick-replies editors in the workspace (``/agent/kb/contacts``, ``/agent/kb/macros``): a lead's
change reviewed by a second lead goes live; a conflicting save shows both texts and keeps yours; bad YAML or a
number that is not a phone number comes back with the text kept; CSRF and roles as everywhere in the workspace."""
from __future__ import annotations

import re

from tests.editions.fixtures import editions_live, live


def _form(page) -> dict:
    rev = re.search(r'name="rev" value="(\d+)"', page.text).group(1)
    text = re.search(r'data-testid="edition-text">(.*?)</textarea>', page.text, re.S).group(1)
    import html
    return {"rev": rev, "text": html.unescape(text)}


def test_a_lead_edits_contacts_a_second_lead_publishes_and_the_help_centre_follows(live, browser_for, demo_password,
                                                                                   lead, make_user, api):
    make_user("lead2", role="senior-support", phone="+8613800138009")
    first, second = browser_for(), browser_for()
    assert first.sign_in("agent", "lead", demo_password).status == 303
    assert second.sign_in("agent", "lead2", demo_password).status == 303

    page = first.get("/agent/kb/contacts")
    assert page.status == 200 and "随程序发布的版本" in page.text
    form = _form(page)
    changed = form["text"].replace("021-0000-1003", "021-0000-1009")
    saved = first.post("/agent/kb/contacts/save", {"csrf_token": first.csrf(page), "rev": form["rev"],
                                                   "text": changed, "note": "备用热线换号"})
    assert saved.status == 303
    page = first.get("/agent/kb/contacts?done=saved")
    assert "已保存为草稿" in page.text and "草稿" in page.text
    rev = re.search(r'action="/agent/kb/contacts/submit">\s*<input[^>]+><input type="hidden" name="rev" value="(\d+)"',
                    page.text).group(1)
    assert first.post("/agent/kb/contacts/submit", {"csrf_token": first.csrf(page), "rev": rev}).status == 303
    mine = first.get("/agent/kb/contacts")
    assert 'disabled aria-describedby="publish-why" data-testid="publish"' in mine.text
    assert "四眼原则" in re.search(r'data-testid="publish-why">([^<]+)', mine.text).group(1)
    assert "021-0000-1003" in api.get("/help/contact").text          # in review: users still see the old line

    theirs = second.get("/agent/kb/contacts")
    rev = re.search(r'action="/agent/kb/contacts/publish">\s*<input[^>]+><input type="hidden" name="rev" value="(\d+)"',
                    theirs.text).group(1)
    assert second.post("/agent/kb/contacts/publish", {"csrf_token": second.csrf(theirs), "rev": rev}).status == 303
    contact_page = api.get("/help/contact").text
    assert "021-0000-1009" in contact_page and "021-0000-1003" not in contact_page

    diff = first.get("/agent/kb/contacts/diff?from=0&to=1")
    assert diff.status == 200 and "021-0000-1003" in diff.text and "021-0000-1009" in diff.text


def test_a_conflicting_save_shows_both_texts_and_keeps_yours(live, signed_in, lead, make_user):
    make_user("lead2", role="senior-support", phone="+8613800138009")
    first, second = signed_in("lead", door="agent"), signed_in("lead2", door="agent")
    page_a, page_b = first.get("/agent/kb/macros"), second.get("/agent/kb/macros")
    a, b = _form(page_a), _form(page_b)
    theirs = b["text"].replace("还款失败的原因和下一步", "还款失败：原因与办法")
    assert second.post("/agent/kb/macros/save", {"csrf_token": second.csrf(page_b), "rev": b["rev"],
                                                 "note": "乙改标题", "text": theirs}).status == 303
    mine = a["text"].replace("还款失败的原因和下一步", "还款失败怎么办")
    late = first.post("/agent/kb/macros/save", {"csrf_token": first.csrf(page_a), "rev": a["rev"], "note": "甲改标题",
                                                "text": mine})
    assert late.status == 409
    assert "还款失败怎么办" in re.search(r'data-testid="edition-text">(.*?)</textarea>', late.text, re.S).group(1)
    assert "还款失败：原因与办法" in re.search(r'data-testid="theirs">(.*?)</section>', late.text, re.S).group(1)
    assert "lead2" in late.text and 'value="甲改标题"' in late.text
    # saving again from the conflict page (it carries the other's revision) goes through
    resend = first.post("/agent/kb/macros/save", {"csrf_token": first.csrf(late), "rev": _form(late)["rev"],
                                                  "note": "甲合并", "text": mine})
    assert resend.status == 303


def test_bad_input_comes_back_with_the_text_kept_and_nothing_saved(live, signed_in, lead):
    browser = signed_in("lead", door="agent")
    page = browser.get("/agent/kb/contacts")
    form = _form(page)
    broken = browser.post("/agent/kb/contacts/save", {"csrf_token": browser.csrf(page), "rev": form["rev"],
                                                      "note": "坏", "text": "hotlines: [\n  - id: x"})
    assert broken.status == 400 and "YAML 格式有误" in broken.text and "- id: x" in broken.text
    bad_number = form["text"].replace("010-0000-1001", "打我电话")
    wrong = browser.post("/agent/kb/contacts/save", {"csrf_token": browser.csrf(page), "rev": form["rev"],
                                                     "note": "坏号", "text": bad_number})
    assert wrong.status == 400 and "不是有效的电话号码" in wrong.text and "打我电话" in wrong.text
    assert "返回知识库" not in wrong.text   # the form itself, not a dead-end message page
    forged = browser.post("/agent/kb/contacts/save", {"csrf_token": "forged", "rev": form["rev"], "note": "x",
                                                      "text": form["text"]})
    assert forged.status == 403
    assert browser.get("/agent/kb/contacts/diff?from=0&to=x").status == 400
    assert "还没有保存过" in browser.get("/agent/kb/contacts").text


def test_a_frontline_agent_and_a_wallet_user_cannot_open_the_editor(live, signed_in, agent, alice):
    assert signed_in("agent", door="agent").get("/agent/kb/contacts").status == 403
    wallet = signed_in("alice")
    assert wallet.get("/agent/kb/macros").status == 403
