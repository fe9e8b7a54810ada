"""Request and response models of the repayment routes (parsed with, and documented from, the same classes)."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StrictStr, field_validator, model_validator

from chalicelib.kernel.money import InvalidAmount, parse_fen
from chalicelib.kernel.schema import ApiModel
from chalicelib.repay import model
from chalicelib.status.schemas import PublicNotice

Kind = Literal["credit_card", "loan", "utility"]
Status = Literal["verification_required", "processing", "succeeded", "failed", "cancelled"]


def date_text(value):
    """A JSON date as ``YYYY-MM-DD`` text only (strict models would take no string, lax ones any format)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("日期格式应为 YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError("日期格式应为 YYYY-MM-DD") from None

class _Input(ApiModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class CreditCardPayee(_Input):
    """Credit card: issuing bank and either the card number (only the last 4 digits are kept) or the
    ``card_token`` of a saved card (``/bills``)."""
    kind: Literal["credit_card"]
    issuer: StrictStr = Field(min_length=1, max_length=40, description="发卡行，例如 招商银行")
    card_number: StrictStr | None = Field(default=None, min_length=12, max_length=23,
                                             description="卡号，12–19 位数字，可含空格")
    card_token: StrictStr | None = Field(default=None, pattern=r"^ct_[0-9A-Za-z]{16,64}$",
                                            description="已保存卡片的令牌（见 /bills），与 card_number 二选一")

    @model_validator(mode="after")
    def _one_of(self):
        if (self.card_number is None) == (self.card_token is None):
            raise ValueError("card_number 与 card_token 须且只能填写一个")
        return self

    @field_validator("card_number")
    @classmethod
    def _luhn(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return model.card_digits(value)


class LoanPayee(_Input):
    """Loan: lending platform and contract number."""
    kind: Literal["loan"]
    platform: StrictStr = Field(min_length=1, max_length=40, description="借款平台")
    contract_number: StrictStr = Field(min_length=4, max_length=40, pattern=r"^[A-Za-z0-9-]+$",
                                       description="借款合同号")


class UtilityPayee(_Input):
    """Utility bill: water, electricity or gas; biller, household account number, city."""
    kind: Literal["utility"]
    utility: Literal["water", "electricity", "gas"]
    biller: StrictStr = Field(min_length=1, max_length=60, description="缴费单位")
    account_number: StrictStr = Field(min_length=4, max_length=32, pattern=r"^[A-Za-z0-9-]+$", description="户号")
    city: StrictStr = Field(min_length=1, max_length=30)


Payee = Annotated[CreditCardPayee | LoanPayee | UtilityPayee, Field(discriminator="kind")]


class RepaymentRequest(_Input):
    """A repayment to quote or to make."""
    amount: StrictStr = Field(max_length=20, description="金额（元），字符串，最多两位小数，例如 \"1234.50\"",
                              examples=["1234.50"])
    payee: Payee
    due_date: dt.date | None = Field(default=None, description="还款日 YYYY-MM-DD；到账晚于此日会提示")

    @field_validator("amount")
    @classmethod
    def _amount(cls, value: str) -> str:
        try:
            parse_fen(value)
        except InvalidAmount as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("due_date", mode="before")
    @classmethod
    def _date_text(cls, value):
        return date_text(value)

    @property
    def amount_fen(self) -> int:
        return parse_fen(self.amount)


class VerifyRequest(_Input):
    """The 6-digit code sent by SMS."""
    code: StrictStr = Field(pattern=r"^[0-9]{6}$", description="短信验证码（6 位数字）")


class ListQuery(ApiModel):
    """History filters (query string values arrive as text)."""
    model_config = ConfigDict(extra="forbid")
    status: Status | None = None
    kind: Kind | None = None
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, min_length=1, max_length=200)


# ---------------------------------------------------------------- responses
class FeeLineView(ApiModel):
    code: str
    label: str
    amount: str


class AllowanceView(ApiModel):
    monthly: str
    used_before: str
    applied: str
    remaining_after: str


class ArrivalView(ApiModel):
    expected_at: str = Field(description="ISO 8601, Asia/Shanghai")
    date: str
    note: str


class WarningView(ApiModel):
    code: str
    message: str
    kb_article: str


class QuoteView(ApiModel):
    """Fee breakdown, total and expected arrival."""
    kind: Kind
    amount: str
    fee: str
    total: str
    fee_breakdown: list[FeeLineView]
    allowance: AllowanceView
    fee_schedule_version: str
    expected_arrival: ArrivalView
    due_date: str | None = None
    warning: WarningView | None = None
    notices: list[PublicNotice] = Field(default_factory=list,
                                        description="服务公告：影响这笔还款的通道维护等（显示在手续费旁）")
    verification_required: bool


class PayeeView(ApiModel):
    kind: Kind
    issuer: str | None = None
    card_last4: str | None = None
    platform: str | None = None
    contract_number: str | None = None
    utility: Literal["water", "electricity", "gas"] | None = None
    biller: str | None = None
    account_number: str | None = None
    city: str | None = None


class FailureView(ApiModel):
    reason: str
    message: str
    next_step: str
    kb_article: str
    retryable: bool


class NoticeView(ApiModel):
    code: str
    message: str
    kb_article: str


class VerificationView(ApiModel):
    expires_at: str
    attempts_left: int


class TimelineEntryView(ApiModel):
    at: str
    status: Status
    event: str
    message: str


class RepaymentSummary(ApiModel):
    """A repayment in a history page: what it is, where it stands, when it arrives."""
    id: str
    status: Status
    kind: Kind
    payee: PayeeView
    amount: str
    fee: str
    total: str
    created_at: str
    expected_arrival: ArrivalView
    actual_arrival: str | None = None
    failure: FailureView | None = None


class RepaymentView(RepaymentSummary):
    """A repayment: status, fee, expected and actual arrival, timeline."""
    fee_breakdown: list[FeeLineView]
    fee_schedule_version: str
    attempt: int
    updated_at: str
    due_date: str | None = None
    warning: WarningView | None = None
    notice: NoticeView | None = None
    verification: VerificationView | None = None
    timeline: list[TimelineEntryView]


class RepaymentPage(ApiModel):
    """The user's repayments, newest first."""
    items: list[RepaymentSummary]
    next_cursor: str | None = None


class ReceiptView(ApiModel):
    """电子回单 of a succeeded repayment (times in Asia/Shanghai)."""
    serial: str = Field(description="回单流水号，RD + 20 位十六进制")
    repayment_id: str
    kind: Kind
    kind_label: str
    amount: str
    fee: str
    total: str
    payee: str = Field(description="收款方，仅含尾号")
    submitted_at: str
    settled_at: str
    time_zone: str
    verification_code: str = Field(description="校验码：回单各字段的 HMAC，可在 /receipts/verify 核验")
    verify_url: str


class ReceiptQuery(ApiModel):
    """A receipt to check: its serial and verification code as printed."""
    model_config = ConfigDict(extra="forbid")
    serial: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=64)


class ReceiptCheck(ApiModel):
    """Whether such a receipt was issued; if so its non-personal fields only."""
    valid: bool
    serial: str
    message: str
    amount: str | None = None
    settled_date: str | None = None
    payee: str | None = None


class StaffRepayments(ApiModel):
    """The repayment(s) behind a 工单, as staff read them (each read leaves an access record)."""
    case_id: str
    linked_repayment_id: str | None = Field(description="the repayment the user named when opening the 工单")
    accessed_at: str
    access_record: str = Field(description="the access record written for this read")
    items: list[RepaymentView] = Field(description="the named repayment first, then the user's latest ones")


# ---------------------------------------------------------------- the leads' access records (#25.6)
class AccessQuery(ApiModel):
    model_config = ConfigDict(extra="forbid")
    staff: str | None = Field(default=None, min_length=1, max_length=128, description="a staff member's user name")
    user_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_\-]+$")
    since: dt.date | None = Field(default=None, description="UTC day; default: 6 days before ``until``")
    until: dt.date | None = Field(default=None, description="UTC day; default: today")
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, min_length=1, max_length=2000)
    format: Literal["json", "csv"] = "json"


class AccessRecord(ApiModel):
    at: str
    staff_username: str
    staff_role: str
    user_id: str
    event: str
    event_title: str
    case_ids: list[str]
    repayment_ids: list[str]


class AccessPage(ApiModel):
    """Staff reads of users' data, newest first."""
    items: list[AccessRecord]
    next_cursor: str | None
