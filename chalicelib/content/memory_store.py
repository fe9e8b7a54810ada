"""The in-memory twin of the content store (``store.use(InMemoryContentStore())``): same interface, same conditions."""
from __future__ import annotations

from chalicelib.adapters.unit_of_work import Change
from chalicelib.content.model import Article, Audit, Version


class InMemoryContentStore:
    def __init__(self) -> None:
        self.heads: dict[str, Article] = {}
        self.kept: dict[tuple[str, int], Version] = {}
        self.audits: list[Audit] = []

    # ------------------------------------------------------------ reads
    def get_article(self, slug: str) -> Article | None:
        return self.heads.get(slug)

    def get_version(self, slug: str, number: int) -> Version | None:
        return self.kept.get((slug, number))

    def versions(self, slug: str) -> list[Version]:
        return sorted((v for (s, _), v in self.kept.items() if s == slug), key=lambda v: v.number)

    def articles(self) -> list[Article]:
        return [self.heads[s] for s in sorted(self.heads)]

    def published_articles(self) -> list[Article]:
        return [a for a in self.articles() if a.is_live]

    def audit_of(self, slug: str) -> list[Audit]:
        return sorted((a for a in self.audits if a.slug == slug), key=lambda a: a.revision)

    # ------------------------------------------------------------ writes
    def add_article(self, uow, article: Article) -> None:
        uow.add("article", Change(holds=lambda: article.slug not in self.heads,
                                  apply=lambda: self.heads.__setitem__(article.slug, article)))

    def save_article(self, uow, article: Article, expected_revision: int) -> None:
        def holds() -> bool:
            found = self.heads.get(article.slug)
            return found is not None and found.revision == expected_revision

        uow.add("article", Change(holds=holds, apply=lambda: self.heads.__setitem__(article.slug, article)))

    def add_version(self, uow, version: Version) -> None:
        key = (version.slug, version.number)
        uow.add("version", Change(holds=lambda: key not in self.kept,
                                  apply=lambda: self.kept.__setitem__(key, version)))

    def record(self, uow, audit: Audit) -> None:
        def holds() -> bool:
            return not any(a.slug == audit.slug and a.revision == audit.revision for a in self.audits)

        uow.add("audit", Change(holds=holds, apply=lambda: self.audits.append(audit)))
