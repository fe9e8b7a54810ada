"""Request and response models of the report routes (validation + the OpenAPI document)."""
from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import ConfigDict, Field

from chalicelib.kernel.schema import ApiModel

Cell = str | int | float | None
ARTICLE = r"^[a-z0-9][a-z0-9-]*$"   # an article slug (content rules)


class ReportQuery(ApiModel):
    """Query string of GET /support/reports/{report}: a date range (Asia/Shanghai days, at most 366,
    default the last 28), filters, and the format (``csv`` needs ``table``; default: the first table)."""
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: dt.date | None = Field(default=None, alias="from", description="first day, YYYY-MM-DD")
    to: dt.date | None = Field(default=None, description="last day, YYYY-MM-DD (default today)")
    category: str | None = Field(default=None, max_length=40,
                                    description="case category (cases, satisfaction) or KB category (self-service)")
    step: str | None = Field(default=None, max_length=40, description="escalation step (cases, satisfaction)")
    article: str | None = Field(default=None, pattern=ARTICLE, max_length=80,
                                description="self-service: one article's daily deflection, its publish dates marked")
    format: Literal["json", "csv"] = "json"
    table: str | None = Field(default=None, max_length=40, description="which table as CSV")


class ReportColumn(ApiModel):
    key: str
    title: str


class ReportTable(ApiModel):
    """One table of a report: its columns and rows (the CSV download has the same)."""
    name: str
    title: str
    columns: list[ReportColumn]
    rows: list[list[Cell]]


class Report(ApiModel):
    """A report over a date range: its tables, each downloadable as CSV (``?format=csv&table=<name>``)."""
    report: Literal["cases", "satisfaction", "self-service", "agents"]
    from_: str = Field(alias="from", serialization_alias="from")
    to: str
    category: str | None = None
    step: str | None = None
    generated_at: str
    notes: list[str] = Field(default_factory=list)
    tables: list[ReportTable]


class ReportPageQuery(ApiModel):
    """Query string of GET /agent/reports (the page): which report, the date range and filters."""
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    report: Literal["cases", "satisfaction", "self-service", "agents"] = "cases"
    from_: dt.date | None = Field(default=None, alias="from")
    to: dt.date | None = None
    category: str | None = Field(default=None, max_length=40)
    step: str | None = Field(default=None, max_length=40)
    article: str | None = Field(default=None, pattern=ARTICLE, max_length=80)
    format: Literal["html", "csv"] = "html"
    table: str | None = Field(default=None, max_length=40)

    def as_report_query(self) -> ReportQuery:
        return ReportQuery.model_validate({"from": self.from_, "to": self.to, "category": self.category or None,
                                           "step": self.step or None, "table": self.table or None,
                                           "article": self.article or None})
