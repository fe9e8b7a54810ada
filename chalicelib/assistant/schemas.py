"""Request and response models of ``POST /assistant/turns`` (parsed with, and documented from, the same classes)."""
from __future__ import annotations

from pydantic import ConfigDict, Field, StrictStr

from chalicelib.assistant.model import Reply
from chalicelib.kernel.schema import ApiModel


class TurnRequest(ApiModel):
    """A message (``text``) or a tapped button (``action``, an id from the last reply's ``actions``); a new
    conversation may start about one of the caller's repayments (``repayment_id``)."""
    model_config = ConfigDict(extra="forbid", strict=True)
    conversation_id: StrictStr | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,128}$",
                                              description="继续的对话；不填则开始新对话")
    text: StrictStr | None = Field(default=None, description="用户输入，1–500 个字（更长的请求为 400 text_too_long）")
    action: StrictStr | None = Field(default=None, max_length=200, pattern=r"^[A-Za-z0-9_:.-]+$",
                                     description="上一条回复中按钮的 id；需带 Idempotency-Key")
    repayment_id: StrictStr | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="新对话的上下文：本人的一笔还款（如还款失败通知里的那笔）。首条回复即说明这笔还款的情况和可用操作，"
                    "text/action 可不填；他人的或不存在的还款为 404 repayment_not_found；"
                    "不可与 conversation_id 同时使用")


class PublicTurnRequest(ApiModel):
    """An anonymous visitor's message, or a clarifying button (``clarify:<intent>``)."""
    model_config = ConfigDict(extra="forbid", strict=True)
    text: StrictStr | None = Field(default=None, description="用户输入，1–500 个字")
    action: StrictStr | None = Field(default=None, max_length=200, pattern=r"^clarify:[a-z_]{1,60}$")


class ActionView(ApiModel):
    id: str
    label: str


class ArticleRef(ApiModel):
    slug: str
    title: str


class ReplyView(ApiModel):
    text: str
    facts: list[str]
    actions: list[ActionView]
    articles: list[ArticleRef]


class HandoverView(ApiModel):
    case_id: str


class TurnResponse(ApiModel):
    conversation_id: str | None = Field(description="匿名访客为 null（不保存对话）")
    reply: ReplyView
    handover: HandoverView | None = None


def turn_view(conversation_id: str | None, reply: Reply, case_id: str | None = None) -> dict:
    view = TurnResponse(
        conversation_id=conversation_id,
        reply=ReplyView(text=reply.text, facts=list(reply.facts),
                        actions=[ActionView(id=a.id, label=a.label) for a in reply.actions],
                        articles=[ArticleRef(slug=a.slug, title=a.title) for a in reply.articles]),
        handover=HandoverView(case_id=case_id) if case_id else None)
    body = view.model_dump(mode="json", exclude_none=True)
    body.setdefault("conversation_id", None)
    return body
