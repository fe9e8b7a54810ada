"""Request and response models of the service-notice routes (they also make ``/openapi.json``)."""
from __future__ import annotations

from pydantic import ConfigDict, Field, StrictStr

from chalicelib.kernel.schema import ApiModel


class NewNotice(ApiModel):
    """A service notice to post (senior support). Times are ISO 8601 with an offset."""
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)
    text: StrictStr = Field(min_length=1, max_length=400, description="公告内容（纯文本，4–120 字，不含链接）",
                            examples=["招商银行信用卡还款通道维护中，预计 14:00 恢复"])
    scope: StrictStr = Field(max_length=80, description="all、credit_card、loan、utility，或 issuer:<发卡行>、"
                                                        "platform:<借款平台>、biller:<缴费单位>（目录中的名称）",
                             examples=["issuer:招商银行"])
    starts_at: StrictStr | None = Field(default=None, max_length=40,
                                        description="开始时间，默认现在；最多提前 30 天，最多早于现在 24 小时",
                                        examples=["2026-12-09T09:00:00+08:00"])
    ends_at: StrictStr = Field(max_length=40, description="结束时间：晚于开始时间与现在，最长 7 天",
                               examples=["2026-12-09T14:00:00+08:00"])


class PublicNotice(ApiModel):
    """A notice as users and client apps see it (no staff names, no ids)."""
    text: str
    scope: str
    scope_label: str
    starts_at: str
    ends_at: str
    until: str = Field(description="结束时间（服务所在时区），例如 12月9日 14:00")


class StatusView(ApiModel):
    """The service notices in force now."""
    as_of: str
    notices: list[PublicNotice]


class StaffNotice(ApiModel):
    """A notice as staff see it: who posted it, and whether it is in force now."""
    id: str
    text: str
    scope: str
    scope_label: str
    starts_at: str
    ends_at: str
    posted_by: str
    posted_at: str
    in_force: bool


class StaffNotices(ApiModel):
    """Notices in force or scheduled, soonest end first."""
    items: list[StaffNotice]


class Deleted(ApiModel):
    id: str
    deleted: bool
