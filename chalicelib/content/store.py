"""The content store as the use cases see it: articles, their versions and audit records; writes join a unit of work.

DynamoDB (``dynamo_store.py``) by default; ``use(InMemoryContentStore())`` (``memory_store.py``) puts the
in-memory twin in its place, same interface, same conditions. Element names: ``article`` (new on absence,
changed only over the revision read), ``version`` (new on absence: a version is never overwritten),
``audit`` (new on absence: one record per revision of the article).
"""
from __future__ import annotations

from chalicelib.adapters import unit_of_work
from chalicelib.adapters.backends import Backend
from chalicelib.adapters.unit_of_work import Conflict
from chalicelib.content import dynamo_store
from chalicelib.content.model import Article, Audit, Version

__all__ = ["Conflict", "begin", "use", "backend"]

backend = Backend(dynamo_store)
use = backend.use


def begin() -> unit_of_work.UnitOfWork:
    return unit_of_work.begin()


# ---------------------------------------------------------------- reads
def get_article(slug: str) -> Article | None:
    return backend().get_article(slug)


def get_version(slug: str, number: int) -> Version | None:
    return backend().get_version(slug, number)


def versions(slug: str) -> list[Version]:
    """Every version of the article, oldest first."""
    return backend().versions(slug)


def articles() -> list[Article]:
    """Every article (any state), by slug."""
    return backend().articles()


def published_articles() -> list[Article]:
    """The articles users see (each with its live version), by slug."""
    return backend().published_articles()


def audit_of(slug: str) -> list[Audit]:
    """The article's recorded changes, oldest first."""
    return backend().audit_of(slug)


# ---------------------------------------------------------------- writes (elements of a unit of work)
def add_article(uow, article: Article) -> None:
    backend().add_article(uow, article)


def save_article(uow, article: Article, expected_revision: int) -> None:
    backend().save_article(uow, article, expected_revision)


def add_version(uow, version: Version) -> None:
    backend().add_version(uow, version)


def record(uow, audit: Audit) -> None:
    backend().record(uow, audit)
