"""Request and response models of the knowledge-base routes (validation + the OpenAPI document)."""
from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, StrictBool, field_validator

from chalicelib.kernel.schema import ApiModel

CategoryId = Literal["contact", "repayment", "security", "escalation", "about"]


class SearchQuery(ApiModel):
    """Query string of GET /kb/search."""
    model_config = ConfigDict(extra="forbid")
    q: str = Field(min_length=1, max_length=200, description="the question, as the user typed it")
    category: CategoryId | None = None
    limit: int = Field(default=10, ge=1, le=50)

    @field_validator("q")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("请输入要搜索的问题")
        return value


class GapsQuery(ApiModel):
    """Query string of GET /support/kb-gaps."""
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=20, ge=1, le=100)
    days: int = Field(default=7, ge=1, le=31)


class FeedbackBody(ApiModel):
    """Was this article helpful?"""
    model_config = ConfigDict(extra="forbid")
    helpful: StrictBool
    comment: str | None = Field(default=None, max_length=500)
    query: str | None = Field(default=None, max_length=200,
                                 description="the search that led to the article, if any (a signal for the ranking)")


class SignalBody(ApiModel):
    """What a search led to: a result opened (``click``) or a case opened afterwards (``case``).
    Nothing about the user is stored; a query that looks like a phone, card or ID number is dropped."""
    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1, max_length=200)
    slug: str = Field(min_length=1, max_length=80)
    kind: Literal["click", "case"]


class SignalResponse(ApiModel):
    """Signal accepted (it may still be left out: personal-looking query, unknown article)."""
    status: Literal["accepted"]


class SearchResult(ApiModel):
    slug: str
    title: str
    category: CategoryId
    snippet: str = Field(description="HTML-escaped excerpt; matches wrapped in <mark>")
    score: float
    weak: bool | None = Field(default=None, description="present and true for a weak match (under 10 % of the "
                                                           "best score; the help centre may show it under 可能相关)")


class SearchResponse(ApiModel):
    """Matching articles, best first."""
    query: str
    total: int
    results: list[SearchResult]
    suggestion: str | None = Field(description="did-you-mean query, or null")
    took_ms: float


class RelatedArticle(ApiModel):
    slug: str
    title: str


class ArticleResponse(ApiModel):
    """One article with its rendered HTML body."""
    slug: str
    title: str
    category: CategoryId
    html: str
    updated: str
    questions: list[str]
    related: list[RelatedArticle]


class Category(ApiModel):
    id: CategoryId
    name: str
    count: int


class CategoriesResponse(ApiModel):
    """Article categories with their Chinese names and article counts."""
    categories: list[Category]


class FeedbackResponse(ApiModel):
    """Feedback recorded."""
    status: Literal["recorded"]


class ZeroResultQuery(ApiModel):
    query: str
    count: int
    last_seen: str
    write_url: str = Field(default="", description="the workspace's new-article form with this query as a user "
                                                   "question (「写一篇文章」)")


class ArticleFeedbackStats(ApiModel):
    slug: str
    title: str | None
    helpful: int
    not_helpful: int
    helpful_ratio: float


class GapsResponse(ApiModel):
    """What the knowledge base is missing: unanswered queries and unhelpful articles."""
    days: int
    from_: str = Field(alias="from", serialization_alias="from")
    to: str
    zero_result_queries: list[ZeroResultQuery]
    least_helpful_articles: list[ArticleFeedbackStats]


class BuildStatus(ApiModel):
    """Where a publish stands (GET /support/kb/builds/{id}, staff only): the index build it queued."""
    id: str
    status: Literal["queued", "building", "live", "failed"]
    message: str = Field(description="what happened, in words an editor reads (a failure says why)")
    requested_by: str
    why: str = Field(description="the reason given when the build was queued")
    queued_at: str
    finished_at: str | None = None
    articles: int | None = Field(default=None, description="articles in the index it built")
