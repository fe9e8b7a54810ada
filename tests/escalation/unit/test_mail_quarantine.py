"""Replies by e-mail (#25 item 4), the leads' quarantine, fast tier: a refused mail is listed for senior support
(reason, masked sender, time, size, 工单), paged newest first; a lead releases one whose reason allows it into its
工单 (once, on the timeline, with who) or discards it; nobody else may. Plus the rest of the inbound test set:
a Gmail-style reply (its "On … wrote:" wrapped over two lines) keeps only the new words."""
from __future__ import annotations

import pytest

from chalicelib.escalation import inbound, service
from chalicelib.kernel import refusals
from tests.escalation.unit.conftest import AGENT, ALICE, LEAD
from tests.escalation.unit.test_replies_by_mail import ctx, mail, said, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.unit


def _held(name: str, case_id: str, ctx) -> str:   # noqa: F811
    result = inbound.on_mail(mail(name, case_id, ctx), ctx)
    assert result.outcome == "quarantined"
    [item] = [m for m in service.quarantine_page(LEAD).items if m.reason == result.reason and m.status == "held"]
    return item.id


def test_a_lead_reads_the_quarantine_with_the_sender_masked_and_others_may_not(world, ctx):  # noqa: F811
    cases, _, case_id = world
    inbound.on_mail(mail("other_address.eml", case_id, ctx), ctx)
    [item] = service.quarantine_page(LEAD).items
    assert (item.reason, item.case_id, item.status, item.releasable) == ("unknown_sender", case_id, "held", True)
    assert item.sender == "a***@work.example.com" and "alice.wang" not in item.model_dump_json()
    assert item.at == "2026-11-24T02:00:00.000Z" and item.size > 300
    assert item.reason_title == "发件人不是用户验证过的邮箱"
    for someone in (AGENT, ALICE):
        with pytest.raises(refusals.NotAllowed):
            service.quarantine_page(someone)
        with pytest.raises(refusals.NotAllowed):
            service.release_mail(someone, ctx, item.id)


def test_a_lead_releases_a_mail_from_the_users_other_address_into_its_case_once(world, ctx):  # noqa: F811
    cases, _, case_id = world
    qid = _held("other_address.eml", case_id, ctx)
    assert said(cases, case_id) == []

    released = service.release_mail(LEAD, ctx, qid)
    assert (released.status, released.decided_by, released.releasable) == ("released", "lead-li", False)
    assert said(cases, case_id) == ["（通过邮件回复）\n"
                                    "我是 alice，用公司邮箱回复：扣款短信显示 11 月 21 日 09:12 已扣款。"]
    staff = service.get_case(AGENT, ctx, case_id).timeline
    assert any(e.event == "mail_released" and e.by_name == "lead-li" and "发件人" in e.text for e in staff)
    mine = service.get_case(ALICE, ctx, case_id)
    assert not any(e.event == "mail_released" for e in mine.timeline)          # the owner never sees who
    assert "lead-li" not in mine.model_dump_json()

    with pytest.raises(refusals.Conflicting) as again:
        service.release_mail(LEAD, ctx, qid)
    assert again.value.code == "already_decided"
    with pytest.raises(refusals.Conflicting):
        service.discard_mail(LEAD, ctx, qid)
    assert len(said(cases, case_id)) == 1


@pytest.mark.parametrize("name", ["forged_token.eml", "auto_reply.eml"])
def test_a_mail_whose_reason_does_not_allow_it_can_only_be_discarded(world, ctx, name):  # noqa: F811
    cases, _, case_id = world
    qid = _held(name, case_id, ctx)
    with pytest.raises(refusals.Conflicting) as refused:
        service.release_mail(LEAD, ctx, qid)
    assert refused.value.code == "not_releasable" and said(cases, case_id) == []
    discarded = service.discard_mail(LEAD, ctx, qid)
    assert (discarded.status, discarded.decided_by, discarded.decided_at) == ("discarded", "lead-li",
                                                                             "2026-11-24T02:00:00.000Z")
    assert said(cases, case_id) == []


def test_a_release_into_a_resolved_case_is_refused_and_the_mail_stays_held(world, ctx):  # noqa: F811
    cases, _, case_id = world
    qid = _held("other_address.eml", case_id, ctx)
    service.resolve(AGENT, ctx, case_id, "款项已于今日到账")
    with pytest.raises(refusals.Conflicting):
        service.release_mail(LEAD, ctx, qid)
    assert said(cases, case_id) == [] and service.quarantine_page(LEAD).items[0].status == "held"


def test_the_quarantine_pages_newest_first_and_refuses_a_bad_cursor(world, ctx, at):  # noqa: F811
    cases, _, case_id = world
    for name in ("forged_token.eml", "auto_reply.eml", "other_address.eml"):
        inbound.on_mail(mail(name, case_id, ctx), ctx)
        at.advance(minutes=1)
        ctx = at.ctx().__class__(now=at.now, settings=ctx.settings)
    first = service.quarantine_page(LEAD, limit=2)
    assert [m.reason for m in first.items] == ["unknown_sender", "auto_reply"] and first.next_cursor
    second = service.quarantine_page(LEAD, limit=2, cursor=first.next_cursor)
    assert [m.reason for m in second.items] == ["forged_token"] and second.next_cursor is None
    with pytest.raises(refusals.Invalid):
        service.quarantine_page(LEAD, cursor="bm90LWFuLWlk")
    with pytest.raises(refusals.Missing):
        service.release_mail(LEAD, ctx, "q20261124100000-000000000000")


def test_a_gmail_reply_keeps_only_the_new_words_even_with_its_attribution_wrapped(world, ctx):  # noqa: F811
    cases, _, case_id = world
    assert inbound.on_mail(mail("gmail_reply.eml", case_id, ctx), ctx).outcome == "added"
    assert said(cases, case_id) == ["（通过邮件回复）\nThe money left my card on 21 Nov at 09:12."]
