"""Which intent a message means: a multinomial naive Bayes model over the search analyser's terms.

Features of a message (``features``): the analyser's words with their canonical forms (``w:还款``,
``w:失败``), its character unigrams and bigrams (``g:还款``), its fuzzy pinyin bigrams (``p:huan_kuan``,
from Chinese characters and from typed pinyin alike) — so typos that sound right (还款失拜), pinyin
(huankuan shibai) and slang the synonym list knows (还钱 → 还款) land on the same features as the
examples. Each distinct feature counts once per message (binarised: a long run-on sentence does not
drown the model in one repeated word).

Trained at build time (``python -m chalicelib.assistant build``, part of ``make index``) on the examples
of ``intents.yaml`` with the analyser of the built index (the same segmentation the runtime uses), and
written beside the index as ``assistant_model.json``. Pure Python, no numpy: ~250 examples train in
well under a second, a message scores in well under a millisecond.

Scores are turned into probabilities with a temperature (``TEMPERATURE``: log-likelihoods divided by
the message's feature count to the power 0.3), so "how sure" is comparable between short and long messages;
``understand.py`` decides from them whether to answer, ask a clarifying question or fall back to search.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

MODEL_FILE = "assistant_model.json"
ALPHA = 0.1          # additive smoothing (tuned: 0.1 / 0.3 / 1.0 on the tuning half)
TEMPERATURE = 0.3    # probabilities from log-likelihood / n_features ** TEMPERATURE (tuned: 0.3 / 0.5 / 0.7)
_SPACED_LATIN = re.compile(r"(?<=[a-z]) +(?=[a-z])")
WEIGHTS = {"w": 1.0, "g": 0.7, "p": 0.6, "f": 0.6, "fg": 0.3}   # a kind's count per feature (words tell most)


def features(analyzer, text: str) -> dict[str, float]:
    """The message's distinct features and their weights. Filler words, which the search never matches on,
    count here as weaker features of their own (``f:``): 你好, 谢谢 and 在吗 are all a greeting says."""
    parsed = analyzer.analyze(text)
    lowered = text.lower()
    if _SPACED_LATIN.search(lowered):
        # pinyin typed a syllable at a time ("hai kuan shi bai"): its run, joined, gives the syllable pairs
        parsed.pinyin.extend(analyzer.analyze(_SPACED_LATIN.sub("", lowered)).pinyin)
    found: dict[str, float] = {}
    for kind, terms in (("fg", parsed.filler_grams), ("p", parsed.pinyin), ("g", parsed.grams), ("w", parsed.words)):
        for term in terms:
            if term.startswith("~"):
                found[f"f:{term[1:]}"] = WEIGHTS["f"]
            else:
                found[f"{'g' if kind == 'fg' else kind}:{term}"] = WEIGHTS[kind]
    return found


@dataclass(frozen=True)
class Scored:
    intent: str
    probability: float


class Model:
    """Naive Bayes kept sparse: the file holds each feature's (weighted) counts per intent; loading turns them
    into log-probability *lifts* over the intent's unseen-feature floor, so scoring a message touches only the
    intents each of its features was seen with."""

    def __init__(self, data: dict):
        self.intents: list[str] = data["intents"]
        self.counts: dict[str, dict[str, float]] = data["counts"]       # feature → {intent index: weighted count}
        self.totals: list[float] = data["totals"]                       # weighted feature count per intent
        self.examples: list[int] = data["examples"]                     # examples per intent
        self.alpha: float = data.get("alpha", ALPHA)
        self.source: str = data.get("source", "")
        n = sum(self.examples)
        denominators = [t + self.alpha * (len(self.counts) + 1) for t in self.totals]
        self.priors = [math.log(e / n) for e in self.examples]
        self.floor = [math.log(self.alpha / d) for d in denominators]   # log P(unseen feature | intent)
        self.lifts = {f: [(int(k), math.log((c + self.alpha) / self.alpha)) for k, c in row.items()]
                      for f, row in self.counts.items()}

    # -- training
    @classmethod
    def train(cls, examples: Iterable[tuple[str, dict[str, float]]], *, source: str = "",
              alpha: float = ALPHA) -> Model:
        by_intent: dict[str, Counter] = {}
        for intent, feats in examples:
            by_intent.setdefault(intent, Counter())
            by_intent[intent]["#examples"] += 1
            by_intent[intent].update(feats)
        intents = sorted(by_intent)
        counts: dict[str, dict[str, float]] = {}
        for k, intent in enumerate(intents):
            for feature, count in by_intent[intent].items():
                if feature != "#examples":
                    counts.setdefault(feature, {})[str(k)] = round(count, 2)
        totals = [round(sum(c for f, c in by_intent[i].items() if f != "#examples"), 2) for i in intents]
        return cls({"intents": intents, "counts": dict(sorted(counts.items())), "totals": totals,
                    "examples": [by_intent[i]["#examples"] for i in intents], "alpha": alpha, "source": source})

    # -- scoring
    def rank(self, feats: dict[str, float]) -> list[Scored]:
        """Every intent, most likely first (probabilities sum to 1). Unknown features carry no evidence."""
        scores = list(self.priors)
        known = 0.0
        for feature, weight in feats.items():
            row = self.lifts.get(feature)
            if row is None:
                continue
            known += weight
            for k, lift in row:
                scores[k] += weight * lift
        if known == 0:
            return [Scored(i, 1 / len(self.intents)) for i in self.intents]
        scores = [s + known * f for s, f in zip(scores, self.floor, strict=True)]
        scale = 1 / known ** TEMPERATURE
        top = max(scores)
        exp = [math.exp((s - top) * scale) for s in scores]
        total = sum(exp)
        ranked = sorted(zip(self.intents, exp, strict=True), key=lambda pair: -pair[1])
        return [Scored(i, e / total) for i, e in ranked]

    @property
    def vocabulary_size(self) -> int:
        return len(self.counts)

    # -- files
    def to_json(self) -> dict:
        return {"intents": self.intents, "counts": self.counts, "totals": self.totals, "examples": self.examples,
                "alpha": self.alpha, "source": self.source}

    def save(self, path: Path) -> int:
        body = json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":"))
        path.write_text(body, encoding="utf-8")
        return len(body.encode())

    @classmethod
    def load(cls, path: Path) -> Model | None:
        try:
            return cls(json.loads(path.read_text(encoding="utf-8")))
        except (FileNotFoundError, KeyError, ValueError):
            return None


def source_hash(text: str) -> str:
    """Which intents file a model was trained from (a stale model is retrained on load)."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]
