"""The wallet's official contact channels, and "is this number really ours?".

The channels live in ``kb/contacts.yaml``, the verified impersonations in ``kb/scam_numbers.yaml`` (both
copied into the built index so they ship with the deployment package); this module loads them once per
container and answers ``GET /contacts`` and ``GET /contacts/verify``. Checking a number is the help
centre's defence against impersonated customer service, with three answers (``verdict``):

- ``official``: one of our numbers;
- ``scam_pattern``: a known scam pattern — a lookalike of one of ours (a digit added or changed, ours
  inside a longer number) or a number on the scam list;
- ``not_ours``: not a number of this wallet, and nothing more is claimed — a real bank's official line
  (95588), a regulator's, a mobile or a foreign number: the answer says so, and what to do if someone
  calling from it says they are us.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path
from typing import Literal

from pydantic import ConfigDict, Field

from chalicelib.config import settings
from chalicelib.edge import errors
from chalicelib.kernel.schema import ApiModel

SCAM_NUMBERS_FILE = "scam_numbers.yaml"  # beside the contacts file (the build copies both next to the index)
SCAM_ARTICLE = {"slug": "fake-hotline-scams", "title": "谨防冒充客服诈骗：如何辨别官方客服电话",
                "url": "/help/articles/fake-hotline-scams"}
MAX_NUMBER_CHARS = 40

# Separators people type or paste around a number: spaces (incl. full-width and NBSP
# after NFKC), dashes of every kind, brackets, dots and slashes.
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−().\[\]/]")
_MOBILE = re.compile(r"1[3-9]\d{9}")


# ---------------------------------------------------------------- the directory (response of GET /contacts)
class Hotline(ApiModel):
    """One official phone line."""
    id: str
    name: str
    number: str
    purpose: str
    hours: str
    urgent: bool = False


class OnlineChat(ApiModel):
    name: str
    path: str
    hours: str


class Email(ApiModel):
    address: str
    purpose: str
    response_time: str


class SocialAccount(ApiModel):
    platform: str
    account: str
    how: str


class RegulatorLine(ApiModel):
    number: str
    name: str
    scope: str


class ContactDirectory(ApiModel):
    """The wallet's official channels and the public regulator lines."""
    model_config = ConfigDict(extra="forbid")
    version: str
    hotlines: list[Hotline] = Field(min_length=1)
    online_chat: OnlineChat
    email: Email
    social: list[SocialAccount]
    regulators: list[RegulatorLine]

    def hotline(self, line_id: str) -> Hotline | None:
        return next((h for h in self.hotlines if h.id == line_id), None)


# ---------------------------------------------------------------- GET /contacts/verify
class VerifyQuery(ApiModel):
    model_config = ConfigDict(extra="forbid")
    number: str = Field(min_length=1, max_length=MAX_NUMBER_CHARS)


class ArticleLink(ApiModel):
    slug: str
    title: str
    url: str


NumberStatus = Literal["official", "regulator", "lookalike", "mobile", "foreign", "unknown"]


class NumberCheck(ApiModel):
    """Whether a phone number is one of the wallet's official numbers."""
    number: str                 # the normalised digits that were checked
    official: bool              # True only for the wallet's own lines
    verdict: Literal["official", "scam_pattern", "not_ours"] = Field(
        description="official: ours; scam_pattern: a lookalike of ours or on the scam list; not_ours: "
                    "not this wallet's number (no fraud verdict: e.g. another bank's official line)")
    status: NumberStatus        # what kind of number
    channel: Hotline | None     # the official line it is, when official
    regulator: RegulatorLine | None
    message: str
    warning: str | None
    article: ArticleLink | None


def digits(number: str) -> str:
    """The digits of a number as written in the directory ("021-0000-1003" → "02100001003")."""
    return re.sub(r"\D", "", number)


def normalise(raw: str) -> tuple[str, bool]:
    """``(digits, foreign)`` for what a user typed; raises ValidationFailed if it is not a phone number.

    Full-width digits and spaces become ASCII (NFKC); separators go; a +86 / 0086
    country code goes. Any other country code marks the number as foreign.
    """
    if len(raw or "") > MAX_NUMBER_CHARS:
        raise errors.ValidationFailed(f"号码不能超过 {MAX_NUMBER_CHARS} 个字符。", code="invalid_number",
                                      field="number")
    text = unicodedata.normalize("NFKC", raw or "").strip()
    text = _SEPARATORS.sub("", text)
    foreign = False
    if text.startswith("+"):
        text = text[1:]
        if text.startswith("86"):
            text = text[2:]
        else:
            foreign = True
    elif text.startswith("0086"):
        text = text[4:]
    elif text.startswith("00"):
        foreign = True
        text = text[2:]
    if not text.isdigit() or not text.isascii():
        raise errors.ValidationFailed("请输入电话号码，只能包含数字、空格、横线、括号和 +86。",
                                      code="invalid_number", field="number")
    if not 3 <= len(text) <= 20:
        raise errors.ValidationFailed("号码长度不对，请检查后重新输入。", code="invalid_number", field="number")
    return text, foreign


@functools.cache
def _load(path: str) -> ContactDirectory:
    import yaml  # imported when the file is first read, not at cold start
    with open(path, encoding="utf-8") as handle:
        return ContactDirectory.model_validate(yaml.safe_load(handle))


def contacts_file() -> Path:
    """The contacts file: ``CONTACTS_PATH``, else the copy shipped in the index, else ``kb/``."""
    cfg = settings()
    for candidate in (Path(cfg.contacts_path), Path(cfg.kb_index_dir) / "contacts.yaml",
                      Path(cfg.kb_source_dir) / "contacts.yaml"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"contacts.yaml not found (CONTACTS_PATH={cfg.contacts_path})")


_live: tuple[dict, ContactDirectory] | None = None   # the published document last read, parsed once


def directory() -> ContactDirectory:
    """The official channels: the version published in the workspace (``chalicelib/editions``, read at most every
    few seconds per container), else the packaged file, parsed once per container (per file)."""
    global _live
    from chalicelib.editions import service as editions  # only when the directory is first asked for
    found = editions.published("contacts")
    if found is None:
        return _load(str(contacts_file()))
    document = found[1]
    if _live is None or _live[0] is not document:   # the same object while the facade's cache holds it
        _live = (document, ContactDirectory.model_validate(document))
    return _live[1]


class ScamNumber(ApiModel):
    """One verified impersonation (``scam_numbers.yaml``)."""
    model_config = ConfigDict(extra="forbid")
    number: str
    pattern: str       # how it was used, in the user's words
    verified: str      # when the report was verified


class ScamList(ApiModel):
    model_config = ConfigDict(extra="forbid")
    version: str
    numbers: list[ScamNumber] = Field(default_factory=list)


@functools.cache
def _load_scams(path: str) -> dict[tuple[str, bool], ScamNumber]:
    """``(digits, foreign)`` → entry, as ``normalise`` reads what a user types."""
    import yaml
    with open(path, encoding="utf-8") as handle:
        listed = ScamList.model_validate(yaml.safe_load(handle))
    return {normalise(entry.number): entry for entry in listed.numbers}


def scam_numbers() -> dict[tuple[str, bool], ScamNumber]:
    """The scam list beside the contacts file (none there: an empty list)."""
    path = contacts_file().with_name(SCAM_NUMBERS_FILE)
    return _load_scams(str(path)) if path.is_file() else {}


def security_hotline() -> Hotline:
    line = directory().hotline("security")
    if line is None:  # the directory's own test guards this; a broken file must not hide the number
        return Hotline(id="security", name="安全专线", number=settings().security_hotline,
                       purpose="账户被盗、盗刷", hours="24 小时", urgent=True)
    return line


def verify_number(raw: str) -> NumberCheck:
    """Is ``raw`` one of our official numbers, a known scam pattern, or simply not ours?"""
    number, foreign = normalise(raw)
    book = directory()
    scam = ArticleLink(**SCAM_ARTICLE)
    hotline_list = "、".join(h.number for h in book.hotlines)
    shown = f"+{number}" if foreign else number

    def not_official(verdict: Literal["scam_pattern", "not_ours"], status: NumberStatus, message: str, warning: str,
                     regulator: RegulatorLine | None = None) -> NumberCheck:
        return NumberCheck(number=shown, official=False, verdict=verdict, status=status, channel=None,
                           regulator=regulator, message=message, warning=warning, article=scam)

    hang_up = "请不要转账、不要提供验证码，挂断后拨打官方号码核实。"

    if not foreign:
        for line in book.hotlines:
            if digits(line.number) == number:
                return NumberCheck(number=number, official=True, verdict="official", status="official", channel=line,
                                   regulator=None, message=f"{line.number} 是本钱包的官方{line.name}（{line.hours}）。",
                                   warning=("官方客服不会索要密码或短信验证码，也不会让你转账到“安全账户”。"
                                            "来电号码可以伪造，有疑问请挂断后主动拨打此号码核实。"),
                                   article=scam)
    status: NumberStatus
    if foreign:
        status = "foreign"
    elif any(digits(line.number) == number for line in book.regulators):
        status = "regulator"
    elif _MOBILE.fullmatch(number):
        status = "mobile"
    elif any(digits(line.number) in number or number in digits(line.number) for line in book.hotlines):
        status = "lookalike"
    else:
        status = "unknown"

    listed = scam_numbers().get((number, foreign))
    if listed is not None:
        return not_official("scam_pattern", status,
                            message=(f"{shown} 是已核实的冒充本钱包客服的诈骗号码：{listed.pattern}。"
                                     f"本钱包的官方号码只有：{hotline_list}。"),
                            warning=("请立即挂断，不要转账、不要提供验证码或密码。已经转账或透露了验证码，"
                                     "请马上拨打 110 报警，并拨打安全专线冻结账户。"))
    if status == "lookalike":
        return not_official("scam_pattern", status,
                            message=(f"{shown} 不是本钱包的号码，但与官方号码相似：这是冒充客服的诈骗常用的手法"
                                     f"（加位、改位或把官方号码藏在更长的号码里）。本钱包的官方号码只有：{hotline_list}。"),
                            warning="骗子常用相似的号码冒充客服。" + hang_up)

    regulator = next((line for line in book.regulators if digits(line.number) == number), None) if not foreign else None
    if regulator is not None:
        return not_official("not_ours", status, regulator=regulator,
                            message=f"{regulator.number} 是{regulator.name}，不是本钱包的客服号码。",
                            warning=("这是公开投诉电话，监管部门不会打电话让你转账或提供验证码；"
                                     "接到自称监管部门要求转账的电话，请挂断并报警。"))
    why = {"foreign": "这是境外号码，本钱包客服不会用境外号码联系你。",
           "mobile": "这是手机号码，本钱包客服不会用个人手机号联系你。",
           "unknown": "它可能属于其他银行或机构，我们不对别人的号码下结论。"}[status]
    return not_official("not_ours", status,
                        message=f"{shown} 不是本钱包的号码。本钱包的官方号码只有：{hotline_list}。",
                        warning=f"{why}如果有人用这个号码自称本钱包客服，那不是我们：{hang_up}")
