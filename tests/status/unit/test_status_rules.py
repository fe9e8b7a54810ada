"""Service notices on the in-memory twin (the fast tier: no moto, ``pytest -m unit``): what is in force by the
injected clock, whom a scope concerns, what a lead may post, who may post, and the per-container cache."""
from __future__ import annotations

import datetime as dt

import pytest

from chalicelib.kernel import clock, refusals
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context
from chalicelib.status import model, schemas, service

pytestmark = pytest.mark.unit

LEAD = Actor(user_id="u-lead", username="lead", roles=frozenset({"senior-support"}))
AGENT = Actor(user_id="u-agent", username="agent", roles=frozenset({"support"}))
ALICE = Actor(user_id="u-alice", username="alice")
NOW = clock.parse("2026-12-09T02:30:00Z")          # Wednesday 10:30 in Shanghai
CMB = "招商银行信用卡还款通道维护中，预计 14:00 恢复"


def ctx() -> Context:
    return Context.current()


def post(text=CMB, scope="issuer:招商银行", starts_at=None, ends_at="2026-12-09T14:00:00+08:00", actor=LEAD) -> dict:
    body = schemas.NewNotice.model_validate({"text": text, "scope": scope, "ends_at": ends_at,
                                             **({"starts_at": starts_at} if starts_at else {})})
    return service.post(actor, body, ctx())


@pytest.fixture
def twins(memory):
    clock.freeze(NOW)
    return memory


def test_a_notice_is_in_force_from_its_start_until_its_end_and_then_gone(twins):
    post(text="系统升级期间还款可能延迟到账，请耐心等待", scope="all", starts_at="2026-12-09T11:00:00+08:00",
         ends_at="2026-12-09T12:00:00+08:00")
    assert service.public_status(ctx())["notices"] == []                      # scheduled, not yet in force
    clock.freeze(clock.parse("2026-12-09T03:00:00Z"))                        # 11:00 exactly
    shown = service.public_status(ctx())["notices"]
    assert [n["text"] for n in shown] == ["系统升级期间还款可能延迟到账，请耐心等待"]
    assert shown[0]["until"] == "12月9日 12:00"
    clock.freeze(clock.parse("2026-12-09T04:00:00Z"))                        # 12:00: its end
    assert service.public_status(ctx())["notices"] == []
    assert service.for_help(ctx()) == []


def test_the_cache_spares_the_store_but_an_ended_notice_still_leaves_at_its_end(twins):
    post(scope="all", ends_at="2026-12-09T10:31:00+08:00")
    assert len(service.for_help(ctx())) == 1
    twins.status.notices.clear()                          # as if another container had taken it down meanwhile
    assert len(service.for_help(ctx())) == 1              # still cached here (a few seconds)
    clock.advance(dt.timedelta(seconds=ctx().settings.status_cache_seconds))
    assert service.for_help(ctx()) == []                  # read again after the cache's lifetime


def test_a_cached_notice_disappears_exactly_at_its_end_without_a_new_read(twins):
    post(scope="all", ends_at="2026-12-09T10:30:02+08:00")
    assert len(service.for_help(ctx())) == 1
    clock.advance(dt.timedelta(seconds=2))
    assert service.for_help(ctx()) == []


def test_a_notice_posted_here_shows_at_once_despite_the_cache(twins):
    assert service.for_help(ctx()) == []
    post(scope="all")
    assert len(service.for_help(ctx())) == 1


@pytest.mark.parametrize(("scope", "kind", "name", "concerned"), [
    ("all", "loan", "微粒贷", True),
    ("credit_card", "credit_card", "中国银行", True),
    ("credit_card", "loan", "微粒贷", False),
    ("issuer:招商银行", "credit_card", "招商银行", True),
    ("issuer:招商银行", "credit_card", "中国银行", False),
    ("platform:微粒贷", "loan", "微粒贷", True),
    ("platform:微粒贷", "credit_card", "微粒贷", False),
])
def test_a_scope_concerns_the_repayments_it_names(scope, kind, name, concerned):
    notice = model.Notice(id="sn_1", text=CMB, scope=scope, starts_at=NOW, ends_at=NOW + dt.timedelta(hours=1),
                          posted_by="lead", posted_at=NOW)
    assert notice.concerns_payee(kind, name) is concerned


def test_a_quote_warns_only_of_the_notices_that_concern_its_payee(twins):
    post()                                                            # 招商银行 cards only
    assert [n["text"] for n in service.for_payee(ctx(), "credit_card", "招商银行")] == [CMB]
    assert service.for_payee(ctx(), "credit_card", "中国银行") == []
    assert service.for_payee(ctx(), "loan", "微粒贷") == []


@pytest.mark.parametrize(("slug", "category", "shown"), [
    ("credit-card-repayment", "repayment", ["all", "credit_card", "issuer:招商银行"]),
    ("loan-repayment", "repayment", ["all"]),
    ("repayment-failed", "repayment", ["all", "credit_card", "issuer:招商银行"]),
    ("strong-password", "security", ["all"]),
])
def test_an_article_shows_the_notices_of_its_kind(twins, slug, category, shown):
    for scope in ("all", "credit_card", "issuer:招商银行"):
        post(text=f"公告：{scope}", scope=scope)
    assert service.for_help(ctx()) and len(service.for_help(ctx())) == 3      # the home page: every notice
    assert sorted(n["scope"] for n in service.for_help(ctx(), slug=slug, category=category)) == sorted(shown)


@pytest.mark.parametrize(("fields", "field", "says"), [
    ({"text": "短"}, "text", "至少"),
    ({"text": "维" * 121}, "text", "不能超过 120"),
    ({"text": "维护中 <script>alert(1)</script>"}, "text", "HTML"),
    ({"text": "请到 http://cmb-pay.example 重新绑卡"}, "text", "链接"),
    ({"text": "详情见 www.fake-bank.top 公告"}, "text", "链接"),
    ({"scope": "issuer:不存在银行"}, "scope", "不在目录中"),
    ({"scope": "bank:招商银行"}, "scope", "范围应为"),
    ({"scope": "mortgage"}, "scope", "范围应为"),
    ({"ends_at": "明天下午"}, "ends_at", "带时区"),
    ({"ends_at": "2026-12-09T14:00:00"}, "ends_at", "带时区"),
    ({"ends_at": "9999-12-31T23:59:59-01:00"}, "ends_at", "带时区"),
    ({"starts_at": "0001-01-01T00:00:00+01:00"}, "starts_at", "带时区"),
    ({"ends_at": "2026-12-09T10:00:00+08:00"}, "ends_at", "已经过去"),
    ({"starts_at": "2026-12-09T15:00:00+08:00"}, "ends_at", "晚于开始时间"),
    ({"ends_at": "2026-12-17T10:00:00+08:00"}, "ends_at", "最长显示 7 天"),
    ({"starts_at": "2027-01-20T10:00:00+08:00", "ends_at": "2027-01-20T12:00:00+08:00"}, "starts_at", "提前 30 天"),
    ({"starts_at": "2026-12-07T10:00:00+08:00"}, "starts_at", "24 小时"),
])
def test_bad_input_is_refused_with_a_chinese_message_and_nothing_is_stored(twins, fields, field, says):
    with pytest.raises(refusals.Invalid) as refused:
        post(**fields)
    assert refused.value.field == field and says in refused.value.message
    assert twins.status.notices == {} and twins.status.audits == {}


def test_the_text_is_kept_as_plain_one_line_text(twins):
    posted = post(text="  招商银行   信用卡\n还款通道维护中  ")
    assert posted["text"] == "招商银行 信用卡 还款通道维护中"


def test_only_senior_support_posts_and_removes_any_staff_member_reads(twins):
    for actor in (AGENT, ALICE):
        with pytest.raises(refusals.NotAllowed):
            post(actor=actor)
    posted = post()
    assert service.staff_list(AGENT, ctx())["items"][0]["posted_by"] == "lead"
    with pytest.raises(refusals.NotAllowed):
        service.staff_list(ALICE, ctx())
    with pytest.raises(refusals.NotAllowed):
        service.remove(AGENT, posted["id"], ctx())
    assert len(twins.status.notices) == 1


def test_create_and_delete_are_audited_and_a_second_delete_is_not_found(twins):
    posted = post()
    clock.advance(dt.timedelta(minutes=5))
    assert service.remove(LEAD, posted["id"], ctx()) == {"id": posted["id"], "deleted": True}
    assert service.for_help(ctx()) == []
    audit = twins.status.audit_of(posted["id"])
    assert [(a["action"], a["by"]) for a in audit] == [("create", "lead"), ("delete", "lead")]
    assert audit[1]["text"] == CMB
    with pytest.raises(refusals.Missing):
        service.remove(LEAD, posted["id"], ctx())
    with pytest.raises(refusals.Missing):
        service.remove(LEAD, "sn_000000000000deadbeef", ctx())


def test_users_never_see_who_posted_a_notice_or_its_id(twins):
    post(scope="all")
    for shown in (service.public_status(ctx())["notices"][0], service.for_help(ctx())[0],
                  service.for_payee(ctx(), "loan", "微粒贷")[0]):
        assert "lead" not in str(shown) and "posted_by" not in shown and "id" not in shown


def test_at_most_twenty_notices_at_once(twins):
    for i in range(model.MAX_IN_FORCE):
        post(text=f"第 {i} 条维护公告", scope="all")
    with pytest.raises(refusals.Conflicting):
        post(text="第二十一条维护公告", scope="all")


def test_leaving_the_case_form_after_a_notice_counts_once_per_notice_in_force(twins):
    posted = post(scope="all")
    service.deflected([posted["id"], posted["id"], "sn_000000000000deadbeef"], ctx())
    service.deflected([posted["id"]], ctx())
    assert service.deflections(ctx(), "2026-12-09") == {posted["id"]: 2}


def test_when_the_store_cannot_be_read_pages_go_on_without_a_banner_and_status_says_so(twins, monkeypatch):
    post(scope="all")
    assert len(service.for_help(ctx())) == 1                                # cached
    clock.advance(dt.timedelta(seconds=ctx().settings.status_cache_seconds))
    calls = []

    def down(now, limit):
        calls.append(now)
        raise TimeoutError("DynamoDB does not answer")
    monkeypatch.setattr(twins.status, "current", down)
    assert len(service.for_help(ctx())) == 1              # what the cache last held, rather than no page
    assert service.for_payee(ctx(), "loan", "微粒贷") and len(calls) == 1    # not asked again for the cache's lifetime
    clock.advance(dt.timedelta(seconds=ctx().settings.status_cache_seconds))
    with pytest.raises(TimeoutError):
        service.public_status(ctx())                      # client apps get the failure (503 at the edge)
