"""Query strings of the help-centre pages (the pages answer HTML, so unknown parameters such as
tracking tags are ignored rather than refused)."""
from __future__ import annotations

from pydantic import ConfigDict, Field

from chalicelib.kernel.schema import ApiModel


class HelpSearchQuery(ApiModel):
    model_config = ConfigDict(extra="ignore")
    q: str = Field(default="", description="用户的问题，1–200 个字")
    category: str | None = Field(default=None,
                                 description="只看某个分类：contact、repayment、security、escalation、about")


class ContactPageQuery(ApiModel):
    model_config = ConfigDict(extra="ignore")
    number: str | None = Field(default=None, description="要核实的电话号码（没有 JavaScript 时表单用它）")


class ArticlePageQuery(ApiModel):
    model_config = ConfigDict(extra="ignore")
    q: str | None = Field(default=None,
                          description="the search that led here (recorded as a click signal, without the user)")


class ReceiptCheckPageQuery(ApiModel):
    model_config = ConfigDict(extra="ignore")
    serial: str | None = Field(default=None, description="回单流水号（回单上印的核验地址已带上）")
    code: str | None = Field(default=None, description="校验码（同上）；两项都填写时给出核验结果")
