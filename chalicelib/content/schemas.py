"""Request and response models of the content API (``/support/kb/articles…``); they also feed /openapi.json.

Lengths, categories, Markdown and phone numbers are checked by ``content/rules.py`` (Chinese messages naming
the field), so the schemas here only fix the shapes.
"""
from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, StrictInt, StrictStr

from chalicelib.kernel.schema import ApiModel

State = Literal["draft", "in_review", "published", "unpublished"]
# The request body may carry a 100 kB article JSON-escaped (a Chinese character as \\uXXXX: 6 bytes)
MAX_REQUEST_BYTES = 640 * 1024


class _Input(ApiModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class NewArticle(_Input):
    title: StrictStr = Field(description="标题")
    category: StrictStr = Field(description="分类：contact、repayment、security、escalation、about")
    body: StrictStr = Field(description="正文（Markdown，最多 100 KB，不能有 HTML）")
    tags: list[StrictStr] = Field(default_factory=list, description="标签")
    questions: list[StrictStr] = Field(default_factory=list, description="用户会怎么问（搜索也用它们）")
    slug: StrictStr | None = Field(default=None, description="文章地址（小写字母、数字、短横线）；不填自动生成")
    note: StrictStr | None = Field(default=None, description="修改说明")


class ArticleChange(_Input):
    """A new draft version: the whole text (PUT). ``If-Match: <version>`` makes it conditional."""
    title: StrictStr
    category: StrictStr
    body: StrictStr
    tags: list[StrictStr] = Field(default_factory=list)
    questions: list[StrictStr] = Field(default_factory=list)
    note: StrictStr | None = Field(default=None, description="修改说明")


class Unpublish(_Input):
    replacement: StrictStr | None = Field(default=None, description="旧链接跳转到的文章（须已发布）；不填显示“已下线”")
    note: StrictStr | None = None


class Rollback(_Input):
    version: StrictInt = Field(ge=1, le=999_999_999, description="回到哪个曾经发布过的版本")
    note: StrictStr | None = None


class SubmitBody(_Input):
    note: StrictStr | None = None


class DiffQuery(_Input):
    model_config = ConfigDict(extra="forbid", strict=False)
    from_: int = Field(alias="from", ge=1, le=999_999_999, description="旧版本号")
    to: int = Field(ge=1, le=999_999_999, description="新版本号")


class ArticleText(ApiModel):
    title: str
    category: str
    body: str
    tags: list[str]
    questions: list[str]


class VersionView(ApiModel):
    version: int
    author: str
    at: str
    note: str
    kind: Literal["create", "edit", "import", "rollback"]
    based_on: int | None = None


class VersionDetail(VersionView):
    text: ArticleText


class ArticleView(ApiModel):
    slug: str
    state: State
    state_name: str
    version: int = Field(description="最新版本号（PUT 的 If-Match 用它）")
    published_version: int | None
    replacement: str | None
    updated_at: str
    updated_by: str
    text: ArticleText = Field(description="最新版本（草稿或已发布）；一线客服只看到已发布的版本")
    last: VersionView
    html: str = Field(description="按帮助中心的渲染规则（经过净化）得到的 HTML，预览用")
    can_publish: bool = Field(description="调用者能否发布当前版本（四眼原则：审核人不能是最后作者）")
    publish_refusal: str | None = Field(None, description="不能发布时的原因（页面显示在按钮旁）；能发布时为 null")


class ArticleSummary(ApiModel):
    slug: str
    title: str
    category: str
    state: State
    state_name: str
    version: int
    published_version: int | None
    updated_at: str
    updated_by: str


class ArticleList(ApiModel):
    articles: list[ArticleSummary]


class VersionList(ApiModel):
    slug: str
    versions: list[VersionView]


class PublishResult(ApiModel):
    article: ArticleView
    build_id: str | None = Field(description="索引重建任务编号（GET /support/kb/builds/{id}）；未能排队时为空")


class DiffView(ApiModel):
    slug: str
    from_version: int
    to_version: int
    diff: str = Field(description="统一差异格式（difflib），含标题、分类、标签、问题与正文")
    changed: bool


class Conflict412(ApiModel):
    """What a 412 carries besides ``code``/``message``: the other's saved version and the text sent."""
    current: VersionDetail
    yours: ArticleText
    diff: str
