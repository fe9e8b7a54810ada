"""Service notices: the rules (no storage, no HTTP here).

A notice is in force while ``starts_at <= now < ends_at`` (the injected clock). Its scope says whom it concerns:

=======================  =============================================================
scope                    concerns
=======================  =============================================================
``all``                  everyone
``credit_card``          credit-card repayments (``loan``, ``utility`` likewise)
``issuer:<name>``        repayments of that bank's credit cards (the bills catalogue)
``platform:<name>``      repayments of that loan platform
``biller:<name>``        utility bills of that biller (any city)
=======================  =============================================================
"""
from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from chalicelib.kernel import clock, refusals

KINDS = ("credit_card", "loan", "utility")
KIND_LABELS = {"credit_card": "信用卡还款", "loan": "贷款还款", "utility": "生活缴费"}
PREFIXES = {"issuer": "credit_card", "platform": "loan", "biller": "utility"}   # a named payee's kind
PREFIX_LABELS = {"issuer": "发卡行", "platform": "借款平台", "biller": "缴费单位"}
MAX_TEXT = 120                               # characters: a banner line on a 375 px screen, two or three lines
MIN_TEXT = 4
MAX_LENGTH = dt.timedelta(days=7)            # a notice is about an outage or maintenance, not a standing message
MAX_LEAD = dt.timedelta(days=30)             # how far ahead a notice may be scheduled
MAX_BACKDATE = dt.timedelta(hours=24)        # "维护自今晨 6:00 起" may start a little in the past
MAX_IN_FORCE = 20                            # notices in force or scheduled at once (the banner stays short)
KEEP = dt.timedelta(days=400)                # an ended notice and its audit records expire after this (TTL)
NOTICE_ID = re.compile(r"sn_[0-9a-f]{20}")
_MARKUP = re.compile(r"<\s*/?\s*[A-Za-z!]|&[#A-Za-z0-9]+;")
_LINK = re.compile(r"(?i)(?:[a-z][a-z0-9+.-]*://|www\.|javascript:|data:)|\b[a-z0-9-]+\.(?:com|cn|net|org|top|xyz)\b")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")

# Which notices a help article concerns: articles about one kind of repayment (by slug); other articles of the
# ``repayment`` category concern every repayment notice; articles of other categories only ``all``.
ARTICLE_KINDS = {"credit-card-repayment": "credit_card", "loan-repayment": "loan", "utility-bills": "utility"}
REPAYMENT_CATEGORY = "repayment"


@dataclass(frozen=True)
class Notice:
    id: str
    text: str
    scope: str
    starts_at: dt.datetime       # aware UTC
    ends_at: dt.datetime
    posted_by: str               # staff username: never shown to users
    posted_at: dt.datetime

    def in_force(self, now: dt.datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    @property
    def kind(self) -> str | None:
        """The repayment kind the scope concerns (None: ``all``)."""
        if self.scope in KINDS:
            return self.scope
        prefix = self.scope.partition(":")[0]
        return PREFIXES.get(prefix)

    def concerns_payee(self, kind: str, name: str | None) -> bool:
        """Whether a repayment of ``kind`` to ``name`` (issuer, platform or biller) is affected."""
        if self.scope == "all" or self.scope == kind:
            return True
        prefix, _, named = self.scope.partition(":")
        return PREFIXES.get(prefix) == kind and named == name

    def concerns_article(self, slug: str, category: str) -> bool:
        if self.scope == "all":
            return True
        if category != REPAYMENT_CATEGORY:
            return False
        article_kind = ARTICLE_KINDS.get(slug)
        return article_kind is None or article_kind == self.kind

    @property
    def scope_label(self) -> str:
        if self.scope == "all":
            return "全部用户"
        if self.scope in KINDS:
            return KIND_LABELS[self.scope]
        prefix, _, named = self.scope.partition(":")
        return f"{PREFIX_LABELS[prefix]}：{named}"


def new_id(now: dt.datetime) -> str:
    """``sn_`` + 12 hex of epoch ms + 8 random."""
    return f"sn_{int(now.timestamp() * 1000):012x}{secrets.token_hex(4)}"


# ---------------------------------------------------------------- checking what a lead typed
def clean_text(text: str) -> str:
    """Plain text, one line: no markup, no links (an official notice must not carry a phishing link)."""
    text = " ".join((text or "").split())
    if len(text) < MIN_TEXT:
        raise refusals.Invalid(f"text：公告内容至少 {MIN_TEXT} 个字。", code="notice_text_invalid", field="text")
    if len(text) > MAX_TEXT:
        raise refusals.Invalid(f"text：公告内容不能超过 {MAX_TEXT} 个字（现在 {len(text)} 个）。",
                               code="notice_text_invalid", field="text")
    if _CONTROL.search(text):
        raise refusals.Invalid("text：公告内容含有不可见的控制字符，请重新输入。", code="notice_text_invalid",
                               field="text")
    if _MARKUP.search(text):
        raise refusals.Invalid("text：公告是纯文本，请不要使用 HTML 标签或字符实体。", code="notice_text_invalid",
                               field="text")
    if _LINK.search(text):
        raise refusals.Invalid("text：公告里不能有网址或链接（冒充官方的链接是诈骗常用手段）。",
                               code="notice_text_invalid", field="text")
    return text


def check_scope(scope: str, *, issuers, platforms, billers) -> str:
    """``scope`` as stored, or a refusal naming what is allowed (names checked against the catalogue)."""
    scope = (scope or "").strip()
    if scope == "all" or scope in KINDS:
        return scope
    prefix, sep, named = scope.partition(":")
    named = named.strip()
    known = {"issuer": issuers, "platform": platforms, "biller": billers}.get(prefix)
    if not sep or known is None:
        raise refusals.Invalid("scope：范围应为 all、credit_card、loan、utility，或 issuer:发卡行、platform:借款平台、"
                               "biller:缴费单位。", code="notice_scope_invalid", field="scope")
    if named not in known:
        raise refusals.Invalid(f"scope：{PREFIX_LABELS[prefix]}“{named[:40]}”不在目录中，请从 /catalogue 中选择。",
                               code="notice_scope_invalid", field="scope")
    return f"{prefix}:{named}"


def parse_instant(value: str | None, field: str) -> dt.datetime:
    """An ISO 8601 instant with its offset (``2026-12-09T14:00:00+08:00``), as aware UTC."""
    label = {"starts_at": "开始时间", "ends_at": "结束时间"}[field]
    try:
        moment = dt.datetime.fromisoformat((value or "").strip().replace("Z", "+00:00"))
        if moment.tzinfo is None:
            raise ValueError
        return moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):   # not a time, no offset, or past year 9999 once in UTC
        raise refusals.Invalid(f"{field}：{label}应为带时区的时间，例如 2026-12-09T14:00:00+08:00。",
                               code="notice_time_invalid", field=field) from None


def check_window(starts_at: dt.datetime, ends_at: dt.datetime, now: dt.datetime) -> None:
    def refuse(field: str, message: str):
        raise refusals.Invalid(f"{field}：{message}", code="notice_time_invalid", field=field)

    if ends_at <= now:
        refuse("ends_at", "结束时间已经过去了。")
    if ends_at <= starts_at:
        refuse("ends_at", "结束时间须晚于开始时间。")
    if ends_at - starts_at > MAX_LENGTH:
        refuse("ends_at", f"一条公告最长显示 {MAX_LENGTH.days} 天，请缩短或到期后重新发布。")
    if starts_at > now + MAX_LEAD:
        refuse("starts_at", f"开始时间最多可以提前 {MAX_LEAD.days} 天安排。")
    if starts_at < now - MAX_BACKDATE:
        refuse("starts_at", "开始时间最多只能早于现在 24 小时。")


def local_text(moment: dt.datetime, tz: str) -> str:
    """``12月9日 14:00`` in the service's time zone (what a banner says)."""
    local = moment.astimezone(clock.zone(tz))
    return f"{local.month}月{local.day}日 {local:%H:%M}"
