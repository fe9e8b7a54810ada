"""Knowledge-base articles as content: the article, its kept versions, its states and who may do what.

An ``Article`` is the head of one slug: its state, its newest version (``current``), the version users see
(``published_version``, None while nothing is live) and a ``revision`` that every change of the head is
conditional on. Each save adds a ``Version`` (never changed afterwards): who, when, the change note and the
whole text (title, category, tags, questions, body).

States (``state``): ``draft`` (a newer version is being written; the published one, if any, stays live) →
``in_review`` (submitted, waiting for an approver) → ``published``; ``unpublished`` (taken down, old links
go to ``replacement`` or to a "已下线" page). Four eyes: ``publish`` only by an approver who is not the author
of the version published.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from chalicelib.kernel import review
from chalicelib.kernel.actor import KB_EDITOR, SENIOR_SUPPORT, SUPPORT, Actor

# draft → in review → published, who writes and who approves: the review rules contacts and macros share
# (``kernel/review.py``); an article may also be taken down.
DRAFT, IN_REVIEW, PUBLISHED, UNPUBLISHED = review.DRAFT, review.IN_REVIEW, review.PUBLISHED, "unpublished"
STATES = (DRAFT, IN_REVIEW, PUBLISHED, UNPUBLISHED)
STATE_NAMES = {**review.STATE_NAMES, UNPUBLISHED: "已下线"}

# What each role may do: the one table the API and the pages both ask (``allowed`` / ``service.require``).
READ_PUBLISHED, READ_DRAFTS, WRITE, APPROVE = "read_published", "read_drafts", "write", "approve"
PERMISSIONS: dict[str, frozenset[str]] = {
    READ_PUBLISHED: frozenset({SUPPORT, SENIOR_SUPPORT, KB_EDITOR}),
    READ_DRAFTS: frozenset({SENIOR_SUPPORT, KB_EDITOR}),
    WRITE: review.WRITERS,
    APPROVE: review.APPROVERS,
}


def allowed(who: Actor, action: str) -> bool:
    """May ``who`` do ``action`` (one of ``PERMISSIONS``)? Pages and API routes ask the same question."""
    return who.has_role(*PERMISSIONS[action])


@dataclass(frozen=True)
class Text:
    """What an editor writes: the parts of one version that users see."""
    title: str
    category: str
    body: str                              # Markdown
    tags: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()        # the questions users ask that this article answers


@dataclass(frozen=True)
class Version:
    slug: str
    number: int                 # 1, 2, 3 … per article
    text: Text
    author_id: str              # who wrote it (Cognito sub; "import" for the seed)
    author_name: str
    at: str                     # ISO instant
    note: str = ""              # the change note
    kind: str = "edit"          # create | edit | import | rollback
    updated: str = ""           # the date users see ("updated" of the seed file; the local date of the save)
    based_on: int | None = None # rollback: the version copied


@dataclass(frozen=True)
class Article:
    slug: str
    state: str
    current: int                         # the newest version
    last_author_id: str                  # author of ``current`` (four eyes)
    revision: int = 1                    # every head change is conditional on this
    published_version: int | None = None
    published: Version | None = None     # the live version (kept on the head: the build reads it in one Query)
    ever_published: tuple[int, ...] = () # versions that were live once (rollback may go back to these)
    replacement: str | None = None       # unpublished: where old links go
    created_at: str = ""
    updated_at: str = ""
    updated_by: str = ""
    title: str = ""                      # of ``current``: the list shows it without reading versions
    category: str = ""

    def next(self, **changes) -> Article:
        return replace(self, revision=self.revision + 1, **changes)

    @property
    def is_live(self) -> bool:
        return self.state != UNPUBLISHED and self.published_version is not None


@dataclass(frozen=True)
class Audit:
    """One recorded change: who did what to which version."""
    slug: str
    at: str
    actor_id: str
    actor_name: str
    action: str                 # create | save | submit | publish | unpublish | rollback | import
    version: int
    revision: int = 0           # the head's revision after the change: orders an article's records
    detail: dict = field(default_factory=dict)


def author_name(who: Actor) -> str:
    return who.username or who.user_id
