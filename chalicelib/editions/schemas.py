"""Request and response models of the editions API (``/support/kb/contacts``, ``/support/kb/macros``)."""
from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import ConfigDict, Field

from chalicelib.kernel.schema import ApiModel


class EditionSave(ApiModel):
    """A new draft: the whole document (the YAML's content as JSON) and a change note. ``rev``: the revision
    the editor opened (or ``If-Match``); someone saved since → 412 with nothing stored."""
    model_config = ConfigDict(extra="forbid")
    document: dict[str, Any]
    note: str = Field(min_length=1, max_length=200)
    rev: int | None = Field(default=None, ge=0)


class EditionAction(ApiModel):
    """Submit for review, publish: over the revision read (``rev`` or ``If-Match``)."""
    model_config = ConfigDict(extra="forbid")
    rev: int | None = Field(default=None, ge=0)


class EditionRollback(ApiModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=0, le=1_000_000)
    rev: int | None = Field(default=None, ge=0)


class EditionView(ApiModel):
    """The newest version of one kind and what the caller may do with it."""
    kind: str
    title: str
    rev: int
    status: Literal["draft", "in_review", "published"]
    status_title: str
    latest_version: int = Field(description="0: nothing saved yet, the packaged file")
    published_version: int | None
    last_author: str
    updated_at: dt.datetime | None
    document: dict[str, Any]
    text: str = Field(description="the document as YAML, as the editor shows it")
    four_eyes: bool
    can_write: bool
    can_publish: bool
    publish_refusal: str | None


class EditionVersionSummary(ApiModel):
    number: int
    note: str
    author: str
    at: dt.datetime
    published: bool


class EditionRecord(ApiModel):
    """One audit record: who did what to which version."""
    rev: int
    action: Literal["imported", "saved", "submitted", "published"]
    actor: str
    version: int
    at: str
    note: str = ""


class EditionVersionList(ApiModel):
    kind: str
    items: list[EditionVersionSummary]
    records: list[EditionRecord]


class EditionVersionView(ApiModel):
    number: int
    note: str
    author: str
    at: dt.datetime
    document: dict[str, Any]
    text: str


class EditionDiffQuery(ApiModel):
    model_config = ConfigDict(extra="forbid")
    older: int = Field(ge=0, le=1_000_000, alias="from")
    newer: int = Field(ge=0, le=1_000_000, alias="to")


class EditionDiffRow(ApiModel):
    kind: Literal["same", "changed"]
    old: str | None
    new: str | None


class EditionDiff(ApiModel):
    kind: str
    older: int
    newer: int
    changed: bool
    unified: str
    rows: list[EditionDiffRow]
