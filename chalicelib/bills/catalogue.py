"""The catalogue of card issuers, licensed loan platforms and billers per city (``catalogue.yaml``)."""
from __future__ import annotations

import functools
from dataclasses import dataclass

UTILITIES = ("water", "electricity", "gas")
KINDS = ("card_issuer", "loan_platform", "biller")


@dataclass(frozen=True)
class Catalogue:
    version: str
    card_issuers: tuple[str, ...]
    loan_platforms: tuple[dict, ...]
    billers: dict            # city -> utility -> (names)

    @classmethod
    def from_dict(cls, data: dict) -> Catalogue:
        billers = {}
        for city, by_utility in (data.get("billers") or {}).items():
            unknown = set(by_utility) - set(UTILITIES)
            if unknown:
                raise ValueError(f"catalogue: {city} has unknown utilities {sorted(unknown)}")
            billers[str(city)] = {u: tuple(str(n) for n in names) for u, names in by_utility.items()}
        return cls(version=str(data["version"]), card_issuers=tuple(str(n) for n in data["card_issuers"]),
                   loan_platforms=tuple(dict(p) for p in data["loan_platforms"]), billers=billers)

    def entries(self, kind: str | None = None, city: str | None = None) -> list[dict]:
        """Flat entries ``{kind, name, ...}``; ``city`` narrows billers (the other kinds are national)."""
        found: list[dict] = []
        if kind in (None, "card_issuer") and city is None:
            found += [{"kind": "card_issuer", "name": n} for n in self.card_issuers]
        if kind in (None, "loan_platform") and city is None:
            found += [{"kind": "loan_platform", "name": p["name"], "licensee": p.get("licensee")}
                      for p in self.loan_platforms]
        if kind in (None, "biller"):
            for name_of_city, by_utility in self.billers.items():
                if city is not None and name_of_city != city:
                    continue
                for utility, names in by_utility.items():
                    found += [{"kind": "biller", "name": n, "city": name_of_city, "utility": utility} for n in names]
        return found

    def has_issuer(self, name: str) -> bool:
        return name in self.card_issuers

    def has_platform(self, name: str) -> bool:
        return any(p["name"] == name for p in self.loan_platforms)

    def has_biller(self, city: str, utility: str, name: str) -> bool:
        return name in self.billers.get(city, {}).get(utility, ())


@functools.cache
def load(path: str) -> Catalogue:
    import yaml
    with open(path, encoding="utf-8") as handle:
        return Catalogue.from_dict(yaml.safe_load(handle))
