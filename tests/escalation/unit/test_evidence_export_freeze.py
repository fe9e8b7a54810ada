"""The fast tier's other escalation use cases (#22 §2): evidence attachments (on the attachments store's in-memory
twin), the export a user attaches to a complaint, the security freeze and its lifting (on repay's in-memory store),
and deflection (the search facade stood in for) — what a user or a team would notice, at a fixed moment."""
from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.escalation import attachments, deflection, service
from chalicelib.escalation.attachment_memory import MemoryAttachments
from chalicelib.kernel import refusals
from tests.escalation.unit.conftest import AGENT, ALICE, BOB, LEAD

pytestmark = pytest.mark.unit


@pytest.fixture
def files(cases):
    twin = MemoryAttachments()
    attachments.use(twin)
    yield twin
    attachments.use(None)


@pytest.fixture
def accounts(cases):
    from chalicelib.repay import store as repay_store
    from chalicelib.repay.memory_store import InMemoryRepayStore
    previous = repay_store.use(InMemoryRepayStore())
    yield
    repay_store.use(previous)


def opened(at, who=ALICE, category="repayment_delay") -> str:
    outcome = service.open_case(who, at.ctx(), category=category, description="还款三天了还没到账，请帮忙查询",
                                repayment_id=None)
    return outcome.body["case_id"]


def key() -> str:
    return uuid.uuid4().hex


def uploaded(files, at, case_id, filename="转账截图.png", content_type="image/png", size=2048) -> str:
    """The owner asks for a form and the browser stores the file through it (what S3 would do)."""
    grant = service.attachment_upload(ALICE, at.ctx(), case_id, filename, content_type, size)
    files.upload(grant.fields["key"], size, at.now)
    return grant.attachment_id


# ---------------------------------------------------------------- evidence
def test_the_owner_gets_a_form_for_one_safe_file_of_the_stated_type_and_size(files, at):
    case_id = opened(at)
    grant = service.attachment_upload(ALICE, at.ctx(), case_id, "../../我的 截图<1>.PNG", "image/png", 4096)
    assert grant.max_bytes == attachments.MAX_BYTES
    seconds = at.ctx().settings.attachment_url_seconds      # the form lapses that long after the moment asked
    assert grant.expires_at == (at.now + dt.timedelta(seconds=seconds)).isoformat(timespec="milliseconds")[:-6] + "Z"
    form = files.granted[-1]
    assert form["key"] == f"cases/{case_id}/{grant.attachment_id}/我的_截图_1.png"   # no path, no markup
    assert (form["content_type"], form["max_bytes"]) == ("image/png", attachments.MAX_BYTES)


@pytest.mark.parametrize(("content_type", "size", "code"), [
    ("text/html", 100, "attachment_type"),
    ("application/pdf", attachments.MAX_BYTES + 1, "attachment_too_large"),
])
def test_a_wrong_type_or_a_file_too_large_is_refused_before_any_form(files, at, content_type, size, code):
    case_id = opened(at)
    with pytest.raises(refusals.Invalid) as refused:
        service.attachment_upload(ALICE, at.ctx(), case_id, "证据", content_type, size)
    assert refused.value.code == code and files.granted == []


def test_only_the_owner_uploads_and_not_to_a_closed_case_nor_past_the_limit(files, at):
    case_id = opened(at)
    with pytest.raises(refusals.Missing):          # someone else's case looks missing
        service.attachment_upload(BOB, at.ctx(), case_id, "a.png", "image/png", 10)
    for _ in range(attachments.MAX_PER_CASE):
        uploaded(files, at, case_id)
    with pytest.raises(refusals.Conflicting) as full:
        service.attachment_upload(ALICE, at.ctx(), case_id, "a.png", "image/png", 10)
    assert full.value.code == "too_many_attachments"

    other = opened(at)
    service.resolve(AGENT, at.ctx(), other, "已核实到账", key())
    service.confirm(ALICE, at.ctx(), other, key())
    with pytest.raises(refusals.Conflicting) as closed:
        service.attachment_upload(ALICE, at.ctx(), other, "a.png", "image/png", 10)
    assert closed.value.code == "case_closed"


def test_owner_and_staff_list_the_files_with_short_download_links_but_never_the_storage_key(files, at):
    case_id = opened(at)
    first = uploaded(files, at, case_id, "付款凭证.pdf", "application/pdf", 5000)
    at.advance(minutes=1)
    second = uploaded(files, at, case_id)
    files.upload(f"cases/{case_id}/not-an-id/evil.html", 10, at.now)   # not made through a form: not shown
    for reader in (ALICE, AGENT):
        listed = service.list_attachments(reader, at.ctx(), case_id)
        assert [item.attachment_id for item in listed.items] == [first, second]   # oldest first
        assert [item.filename for item in listed.items] == ["付款凭证.pdf", "转账截图.png"]
        assert listed.items[0].content_type == "application/pdf" and listed.items[0].size == 5000
        assert "key" not in listed.items[0].model_dump()
    link = parse_qs(urlsplit(listed.items[0].download_url).query)
    assert link["response-content-disposition"][0].startswith("attachment;")   # saved, never shown inline
    with pytest.raises(refusals.Missing):
        service.list_attachments(BOB, at.ctx(), case_id)


def test_one_file_downloads_by_its_id_and_a_wrong_id_is_missing(files, at):
    case_id = opened(at)
    attachment_id = uploaded(files, at, case_id)
    assert f"/cases/{case_id}/{attachment_id}/" in service.attachment_download(AGENT, at.ctx(), case_id,
                                                                                attachment_id)
    for wrong in ("20261124020000-deadbeef", "../../etc"):
        with pytest.raises(refusals.Missing):
            service.attachment_download(ALICE, at.ctx(), case_id, wrong)
    with pytest.raises(refusals.Missing):
        service.attachment_download(BOB, at.ctx(), case_id, attachment_id)


# ---------------------------------------------------------------- export
def test_the_export_is_in_the_users_words_with_routes_evidence_and_file_names(files, at):
    case_id = opened(at)
    uploaded(files, at, case_id, "银行流水.pdf", "application/pdf")
    service.add_note(AGENT, at.ctx(), case_id, "内部备注：疑似重复扣款，待财务核对", key())
    service.reply(AGENT, at.ctx(), case_id, "我们正在核实，请稍候。", False, key())
    exported = service.export(ALICE, at.ctx(), case_id)
    assert exported.reference == case_id and exported.exported_at == "2026-11-24T02:00:00.000Z"
    assert [a.filename for a in exported.attachments] == ["银行流水.pdf"]
    assert exported.legal_routes and exported.evidence_to_keep
    text = exported.model_dump_json()
    assert "我们正在核实" in text
    assert "内部备注" not in text and AGENT.username not in text and AGENT.user_id not in text
    page = service.export_html(ALICE, at.ctx(), case_id)
    assert case_id in page and "银行流水.pdf" in page and "内部备注" not in page
    with pytest.raises(refusals.Missing):
        service.export(BOB, at.ctx(), case_id)


# ---------------------------------------------------------------- freeze
def test_a_security_case_freezes_repayments_at_once_and_only_senior_support_lifts_it(files, accounts, at):
    from chalicelib.repay import service as repay_service
    case_id = opened(at, category="account_security")
    view = service.get_case(ALICE, at.ctx(), case_id)
    assert (view.step, view.priority) == ("senior", "P1")
    assert repay_service.is_frozen(ALICE.user_id)
    with pytest.raises(refusals.NotAllowed):
        service.unfreeze(AGENT, at.ctx(), ALICE.user_id)
    with pytest.raises(refusals.Invalid):
        service.unfreeze(LEAD, at.ctx(), "u alice; drop")
    assert repay_service.is_frozen(ALICE.user_id)

    lifted = service.unfreeze(LEAD, at.ctx(), ALICE.user_id)
    assert lifted.frozen is False and not repay_service.is_frozen(ALICE.user_id)
    events = [entry["event"] for entry in service.get_case(LEAD, at.ctx(), case_id).model_dump()["timeline"]]
    assert events[-1] == "unfrozen"                    # the case records who lifted it, when
    assert service.unfreeze(LEAD, at.ctx(), ALICE.user_id).frozen is False   # repeating it is harmless


# ---------------------------------------------------------------- deflection
class Search:
    """The search facade as deflection sees it: two known articles; what it was told."""

    def __init__(self):
        self.signals = []

    def get_article(self, slug):
        return {"slug": slug} if slug in ("repayment-delay", "fee-rules") else None

    def record_signal(self, query, slug, kind):
        self.signals.append((query, slug, kind))

    def search(self, q, limit):
        hits = [SimpleNamespace(slug=f"a{i}", title=f"文章{i}", snippet="…") for i in range(7)]
        return SimpleNamespace(results=hits[:limit])


@pytest.fixture
def search(monkeypatch):
    found = Search()
    monkeypatch.setattr(deflection, "_search", lambda: found)
    return found


def test_an_article_opened_instead_of_a_case_counts_for_the_services_local_day(cases, search, at):
    at.now = dt.datetime(2026, 11, 24, 17, 30, tzinfo=dt.UTC)    # 01:30 on the 25th in Shanghai
    service.deflected("还款没到账", "repayment-delay", at.ctx())
    service.deflected("还款没到账", "no-such-article", at.ctx())   # unknown: not counted
    assert cases.deflections("2026-11-25") == {"repayment-delay": {"opened": 1, "returned": 0}}
    assert cases.deflections("2026-11-24") == {}
    assert search.signals == [("还款没到账", "repayment-delay", "click")]


def test_coming_back_to_open_a_case_counts_each_article_once_as_not_deflected(cases, search, at):
    service.not_deflected("手续费", ["fee-rules", "fee-rules", "repayment-delay", "gone"], at.ctx())
    assert cases.deflections("2026-11-24") == {"fee-rules": {"opened": 0, "returned": 1},
                                               "repayment-delay": {"opened": 0, "returned": 1}}
    assert [kind for _, _, kind in search.signals] == ["case", "case"]


def test_suggestions_before_opening_are_at_most_five_links_into_the_help_centre(cases, search):
    found = service.suggestions("还款失败", ALICE)
    assert [item.url for item in found.items] == [f"/help/articles/a{i}" for i in range(5)]
