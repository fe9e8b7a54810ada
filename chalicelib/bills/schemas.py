"""Request and response models of the bills, schedules and catalogue routes."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr, field_validator, model_validator

from chalicelib.kernel.money import InvalidAmount, parse_fen
from chalicelib.kernel.schema import ApiModel
from chalicelib.repay import model as repay_model
from chalicelib.repay.schemas import date_text

Utility = Literal["water", "electricity", "gas"]


class _Input(ApiModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


def _amount(value):
    if value is None:
        return None
    try:
        parse_fen(value)
    except InvalidAmount as exc:
        raise ValueError(str(exc)) from None
    return value


class _Due(_Input):
    due_day: StrictInt | None = Field(default=None, ge=1, le=31, description="每月还款日（1–31，小月取月末）")
    statement_due_date: dt.date | None = Field(default=None, description="账单到期日 YYYY-MM-DD（一次性）")
    reminders: StrictBool = Field(default=True, description="是否在到期前 3 天、1 天和当天（未还款时）短信提醒")
    name: StrictStr | None = Field(default=None, min_length=1, max_length=30, description="备注名，例如 家里电费")

    _statement = field_validator("statement_due_date", mode="before")(classmethod(lambda cls, v: date_text(v)))

    @model_validator(mode="after")
    def _one_due(self):
        if (self.due_day is None) == (self.statement_due_date is None):
            raise ValueError("due_day 与 statement_due_date 须且只能填写一个")
        return self


class CardPayee(_Input):
    """A credit card: issuer (from the catalogue) and card number — only issuer, last 4 and a token are kept."""
    kind: Literal["credit_card"]
    issuer: StrictStr = Field(min_length=1, max_length=40)
    card_number: StrictStr = Field(min_length=12, max_length=23, description="卡号（仅用于换取令牌，不保存）")

    @field_validator("card_number")
    @classmethod
    def _luhn(cls, value: str) -> str:
        return repay_model.card_digits(value)


class LoanPayee(_Input):
    kind: Literal["loan"]
    platform: StrictStr = Field(min_length=1, max_length=40)
    contract_number: StrictStr = Field(min_length=4, max_length=40, pattern=r"^[A-Za-z0-9-]+$")


class UtilityPayee(_Input):
    kind: Literal["utility"]
    utility: Utility
    city: StrictStr = Field(min_length=1, max_length=30)
    biller: StrictStr = Field(min_length=1, max_length=60)
    account_number: StrictStr = Field(min_length=4, max_length=32, pattern=r"^[A-Za-z0-9-]+$")


Payee = Annotated[CardPayee | LoanPayee | UtilityPayee, Field(discriminator="kind")]


class NewBill(_Due):
    """A bill to save: what is repaid (the same payee shape as POST /repayments), when it is due, reminders."""
    payee: Payee


class BillChange(_Input):
    """What may change on a saved bill (the payee may not: save a new bill instead)."""
    due_day: StrictInt | None = Field(default=None, ge=1, le=31)
    statement_due_date: dt.date | None = None
    reminders: StrictBool | None = None
    name: StrictStr | None = Field(default=None, min_length=1, max_length=30)

    _statement = field_validator("statement_due_date", mode="before")(classmethod(lambda cls, v: date_text(v)))

    @model_validator(mode="after")
    def _something(self):
        if self.due_day is not None and self.statement_due_date is not None:
            raise ValueError("due_day 与 statement_due_date 只能填写一个")
        if not self.model_fields_set:
            raise ValueError("请至少修改一项")
        return self


class PageQuery(ApiModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, min_length=1, max_length=200)


class CatalogueQuery(ApiModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["card_issuer", "loan_platform", "biller"] | None = None
    city: str | None = Field(default=None, min_length=1, max_length=30)


class LookupBody(_Input):
    """A utility account to look up at its biller."""
    utility: Utility
    city: StrictStr = Field(min_length=1, max_length=30)
    biller: StrictStr = Field(min_length=1, max_length=60)
    account_number: StrictStr = Field(min_length=4, max_length=32, pattern=r"^[A-Za-z0-9-]+$")


class NewSchedule(_Input):
    """Pay a saved bill later: on a date, so that it arrives by the due date, or monthly (utilities)."""
    mode: Literal["on_date", "by_due_date", "autopay"]
    amount: StrictStr | None = Field(default=None, max_length=20, description="金额（元）；autopay 按账单全额时不填")
    run_on: dt.date | None = Field(default=None, description="on_date：执行日期 YYYY-MM-DD（当日 09:00 执行）")
    autopay_full: StrictBool = Field(default=False, description="autopay：按出账金额全额缴费")
    max_amount: StrictStr | None = Field(default=None, max_length=20, description="autopay 全额：单次上限（元）")

    _run_on = field_validator("run_on", mode="before")(classmethod(lambda cls, v: date_text(v)))
    _amounts = field_validator("amount", "max_amount")(classmethod(lambda cls, v: _amount(v)))

    @model_validator(mode="after")
    def _consistent(self):
        if self.mode == "on_date" and self.run_on is None:
            raise ValueError("on_date 须填写 run_on")
        if self.mode != "on_date" and self.run_on is not None:
            raise ValueError("只有 on_date 可以填写 run_on")
        if self.autopay_full:
            if self.mode != "autopay" or self.amount is not None or self.max_amount is None:
                raise ValueError("autopay_full 仅用于 autopay，须填写 max_amount，不填 amount")
        elif self.amount is None:
            raise ValueError("请填写 amount")
        elif self.max_amount is not None:
            raise ValueError("只有 autopay_full 可以填写 max_amount")
        return self


class ScheduleChange(_Input):
    """Change a schedule that has not started: the amount, or the date of an on_date one."""
    amount: StrictStr | None = Field(default=None, max_length=20)
    run_on: dt.date | None = None
    max_amount: StrictStr | None = Field(default=None, max_length=20)

    _run_on = field_validator("run_on", mode="before")(classmethod(lambda cls, v: date_text(v)))
    _amounts = field_validator("amount", "max_amount")(classmethod(lambda cls, v: _amount(v)))

    @model_validator(mode="after")
    def _something(self):
        if not self.model_fields_set:
            raise ValueError("请至少修改一项")
        return self


class CodeBody(_Input):
    code: StrictStr = Field(pattern=r"^[0-9]{6}$", description="短信验证码（6 位数字）")


# ---------------------------------------------------------------- responses
class BillPayeeView(ApiModel):
    kind: Literal["credit_card", "loan", "utility"]
    issuer: str | None = None
    card_last4: str | None = None
    card_token: str | None = Field(default=None, description="付款时用作 payee.card_token")
    platform: str | None = None
    contract_number: str | None = None
    utility: Utility | None = None
    city: str | None = None
    biller: str | None = None
    account_number: str | None = None
    holder_masked: str | None = None


class BillView(ApiModel):
    """A saved bill and its current period."""
    id: str
    kind: Literal["credit_card", "loan", "utility"]
    name: str | None = None
    payee: BillPayeeView
    label: str
    due_day: int | None = None
    statement_due_date: str | None = None
    next_due_date: str | None = None
    reminders: bool
    next_reminder_at: str | None = None
    created_at: str
    updated_at: str


class BillPage(ApiModel):
    items: list[BillView]
    next_cursor: str | None = None


class Deleted(ApiModel):
    id: str
    deleted: bool


class CatalogueEntry(ApiModel):
    kind: Literal["card_issuer", "loan_platform", "biller"]
    name: str
    licensee: str | None = None
    city: str | None = None
    utility: Utility | None = None


class CatalogueView(ApiModel):
    version: str
    items: list[CatalogueEntry]
    cities: list[str]


class LookupView(ApiModel):
    """What the biller says the household owes, and whose household it is (name partly hidden)."""
    found: bool
    amount_due: str | None = None
    holder_masked: str | None = None
    message: str


class RunView(ApiModel):
    period: str | None = None
    repayment_id: str | None = None
    outcome: str
    at: str
    message: str


class ScheduleView(ApiModel):
    """A scheduled repayment: when it runs, and what ran."""
    id: str
    bill_id: str
    mode: Literal["on_date", "by_due_date", "autopay"]
    status: Literal["verification_required", "active", "running", "completed", "cancelled"]
    amount: str | None = None
    autopay_full: bool = False
    max_amount: str | None = None
    run_on: str | None = None
    period: str | None = None
    runs_at: str | None = Field(default=None, description="下次执行（或重试）时间，Asia/Shanghai")
    message: str
    repayment_id: str | None = None
    verification_expires_at: str | None = None
    cancel_reason: str | None = None
    history: list[RunView]
    created_at: str
    updated_at: str


class SchedulePage(ApiModel):
    items: list[ScheduleView]
    next_cursor: str | None = None


# ---------------------------------------------------------------- the in-app inbox (chalicelib/notices/)
class InboxNotice(ApiModel):
    id: str
    kind: Literal["reminder", "settled", "failed", "delayed", "schedule"]
    text: str = Field(description="the same words as the SMS (without its signature)")
    ref: dict[str, str] = Field(default_factory=dict, description="repayment_id / bill_id / schedule_id it is about")
    created_at: str
    read: bool
    read_at: str | None = None


class NoticePage(ApiModel):
    items: list[InboxNotice]
    unread: int = Field(description="unread notices, at most 99")
    unread_more: bool = Field(description="more than 99 unread (show 99+)")
    next_cursor: str | None = None


class UnreadView(ApiModel):
    unread: int
    unread_more: bool
