"""The knowledge-base index at run time: opened read-only once per container, searched here.

The index is built offline by ``chalicelib/search/build/`` (``python -m chalicelib.search build
--source kb --out chalicelib/search/index``); this module holds what both sides share (the
categories, the six fields, the support files' names) and the reader with its scoring.

Search: BM25 over six fields (words / character bigrams / pinyin bigrams, each for the
"head" — title, questions and tags, weighted alike — and for the body), scored here from
the index's postings (``postings.py``) rather than by Whoosh's query machinery: each
(field, term) posting list is read once per container and kept as ``{docnum: bm25}``, so a
query is a few dictionary merges (sub-millisecond on the KB, a few ms on 8,000 entries)
instead of Whoosh's generic matcher tree (~20 ms per query).
"""
from __future__ import annotations

import heapq
import json
import math
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from chalicelib.search import analyzer as analysis
from chalicelib.search.learned import MODEL_FILE as LEARNED_FILE
from chalicelib.search.learned import LearnedModel
from chalicelib.search.postings import Postings, open_postings

if TYPE_CHECKING:  # the response models (pydantic) are not loaded with the index
    from chalicelib.search.schemas import CategoryId

CATEGORIES: dict[CategoryId, str] = {  # id → Chinese name, in display order
    "contact": "联系客服",
    "repayment": "还款与费用",
    "security": "账户安全",
    "escalation": "投诉与升级",
    "about": "关于本钱包",
}
FIELDS = ("hw", "hg", "hp", "bw", "bg", "bp")  # head/body × words/grams/pinyin
META_FILE = "meta.json"
SUGGEST_FILE = "suggest.txt"
TITLE_PRODUCTS_FILE = "title_products.txt"
CONTACTS_FILE = "contacts.yaml"


# --------------------------------------------------------------- searching
# Field weights: the head (title, questions, tags) counts like the title; exact words beat
# bigrams, which beat pinyin (pinyin only rescues typos and romanised queries).
FIELD_WEIGHT = {"hw": 3.0, "hg": 1.8, "hp": 0.9, "bw": 1.0, "bg": 0.6, "bp": 0.3}
# Heads are one short question each (FAQ) or a handful (articles): a strong length
# normalisation and a slower-saturating tf let the head that is mostly the query win.
K1 = 1.6
FIELD_B = {"hw": 0.9, "hg": 0.9, "hp": 0.9, "bw": 0.75, "bg": 0.75, "bp": 0.75}
RELEVANCE_FLOOR = 0.1  # results below this share of the best one are "weak" (still listed up to the limit)
COMMON_SHARE = 0.05  # terms in more documents than this only re-score documents already found…
MAX_CANDIDATES = 3000
# …unless fewer candidates than this were found: then every real term brings its documents, as a
# plain BM25 would (an entry sharing a short question's product and action words must stay in
# the running when its rarer words found few entries). ATEC R@5, tuned on even / checked on odd:
# 100 → +0.0014 / +0.0017, 200 → +0.0024 / +0.0019, 1000 → +0.003 / +0.0025 at ~3× the query
# time (200: ~1.4×). RESULTS.md.
MIN_CANDIDATES = 200
UNIGRAM_WEIGHT = 1.5  # single characters relative to bigrams
WEAK_UNIGRAMS = True  # single characters only re-score documents other terms found
FILLER_GRAM_WEIGHT = 0.5  # characters/bigrams touching a filler word (analyzer.FILLER_GRAMS): weak, lighter
COVERAGE = 0.7  # how much covering more of the query multiplies the score (0 = plain BM25 sum)
# An article whose title names only other products than the query's (products.txt), and whose
# questions do not name the query's either, keeps this share of its score.
# ATEC FAQ (8,537 real questions, half tuned / half checked): 0.6 moved R@5 by +0.007 / +0.009 and R@1
# by +0.002 — 0.4 or 0.8 within 0.002 of it.
PRODUCT_MISMATCH = 0.6


@dataclass
class Hit:
    docnum: int
    score: float
    weak: bool = False  # below RELEVANCE_FLOOR of the best: "可能相关"


class KbIndex:
    """A read-only, once-per-container view of a built index."""

    def __init__(self, index_dir: str | Path):
        self.dir = Path(index_dir)
        self.index: Postings = open_postings(self.dir)
        self.analyzer = analysis.Analyzer.for_index(self.dir)
        self.meta = json.loads((self.dir / META_FILE).read_text(encoding="utf-8"))
        self.doc_count = self.index.doc_count
        self._postings: dict[tuple[str, str], dict[int, float]] = {}
        self._lengths: dict[str, list[int]] = {}
        self._category_docs: dict[str, frozenset[int]] = {}
        self._suggest: dict[str, str] | None = None
        self._title_products: dict[int, frozenset[str]] | None = None
        self._stored: dict[int, dict] = {}
        self._spans: dict[tuple[int, str], list] = {}
        self._learned: LearnedModel | None | bool = False  # False: not read yet
        # A newer model fetched on a background thread must not be overwritten by a search that
        # was reading the shipped learned.json at that moment.
        self._learned_lock = threading.Lock()

    # -- the learned model (learned.json beside the index, or a newer one handed in)
    @property
    def learned(self) -> LearnedModel | None:
        if self._learned is False:
            with self._learned_lock:
                if self._learned is False:
                    self._learned = LearnedModel.load(self.dir / LEARNED_FILE)
        return self._learned  # type: ignore[return-value]

    def use_learned(self, model: LearnedModel | None) -> None:
        """Score with another learned model from now on (a rebuilt one, picked up without a redeploy)."""
        with self._learned_lock:
            self._learned = model

    # -- scoring
    def _field_lengths(self, field: str) -> list[int]:
        lengths = self._lengths.get(field)
        if lengths is None:
            lengths = [self.index.doc_length(d, field) for d in range(self.doc_count)]
            self._lengths[field] = lengths
        return lengths

    def postings(self, field: str, term: str) -> dict[int, float]:
        """``{docnum: BM25 contribution}`` of one term in one field (cached per container)."""
        key = (field, term)
        cached = self._postings.get(key)
        if cached is not None:
            return cached
        scores: dict[int, float] = {}
        frequencies = self.index.frequencies(field, term)
        if frequencies is not None:
            lengths = self._field_lengths(field)
            df = self.index.doc_frequency(field, term)
            idf = math.log(1 + (self.doc_count - df + 0.5) / (df + 0.5))
            average = (self.index.total_length(field) / self.doc_count) or 1.0
            b = FIELD_B[field]
            for docnum, tf in frequencies:
                norm = K1 * (1 - b + b * lengths[docnum] / average)
                scores[docnum] = idf * tf * (K1 + 1) / (tf + norm)
        self._postings[key] = scores
        return scores

    def term_scores(self, kind: str, term: str) -> dict[int, float]:
        """Head and body contributions of one term merged: ``{docnum: weighted BM25}`` (cached)."""
        key = ("*" + kind, term)
        merged = self._postings.get(key)
        if merged is None:
            head, body = self.postings("h" + kind, term), self.postings("b" + kind, term)
            wh, wb = FIELD_WEIGHT["h" + kind], FIELD_WEIGHT["b" + kind]
            merged = {d: wh * v for d, v in head.items()} if wh else {}
            if wb:
                for d, v in body.items():
                    merged[d] = merged.get(d, 0.0) + wb * v
            self._postings[key] = merged
        return merged

    def query_terms(self, parsed: analysis.Analysis) -> list[tuple[dict[int, float], float, bool, bool]]:
        """(merged postings, query weight, counts for coverage, weak) of every distinct query term."""
        terms = []
        real_grams = set(parsed.grams)
        filler_grams = [g for g in parsed.filler_grams if g not in real_grams]
        for kind, tokens in (("w", parsed.words), ("g", parsed.grams + filler_grams), ("p", parsed.pinyin)):
            for token, count in Counter(tokens).items():
                postings = self.term_scores(kind, token)
                if postings:
                    # repeating a word in the query counts, a little; a single character is a
                    # weak term: it re-scores documents but never makes one match on its own
                    filler = token.startswith(analysis.FILLER_MARK) or (kind == "g" and token not in real_grams)
                    single_character = kind == "g" and len(token) == 1
                    weak = filler or (single_character and WEAK_UNIGRAMS)
                    weight = (1.0 + 0.3 * (count - 1)) * (UNIGRAM_WEIGHT if single_character else 1.0)
                    if filler and kind == "g":
                        weight *= FILLER_GRAM_WEIGHT
                    terms.append((postings, weight, kind != "p" and not filler, weak))
        return terms

    def score(self, parsed: analysis.Analysis, text: str | None = None) -> dict[int, float]:
        """The lexical score (``lexical_score``) plus what the learned model adds (``learned.py``:
        recurring queries need the query ``text``)."""
        totals = self.lexical_score(parsed)
        model = self.learned
        if model is not None:
            model.apply(parsed, text or "", totals, self.term_scores)
        self._demote_other_products(parsed, totals)
        return totals

    def lexical_score(self, parsed: analysis.Analysis) -> dict[int, float]:
        """OR over all query terms, BM25-summed; covering more of the query counts extra.

        Term-at-a-time, rarest term first. Rare terms (in at most ``COMMON_SHARE`` of the
        documents) bring in candidates, until there are ``MAX_CANDIDATES``; every other term
        only adds to candidates it shares (a C-level key intersection, not a Python loop over
        its long posting list). Until ``MIN_CANDIDATES`` are found, common terms bring theirs
        too: a short question's rare words may find only a few entries, and the entries that
        share its product and action words (花呗 + 还款) are the next best answers — a plain
        BM25 keeps them, so must we. New candidates are added with C-level dict operations.
        """
        if parsed.words and all(w.startswith(analysis.FILLER_MARK) for w in parsed.words):
            return {}  # only filler words (请问怎么办呢): how to ask, not what — nothing to match
        terms = self.query_terms(parsed)
        if not any(not t[3] for t in terms):
            if not parsed.grams or any(len(g) > 1 for g in parsed.grams) or parsed.pinyin:
                return {}  # none of the query's real words or bigrams occur anywhere
            # a one-character query: its characters may match on their own (fillers never)
            terms = [t for t in terms if t[2]]
        terms = sorted(terms, key=lambda t: (t[3], len(t[0])))  # strong terms first, rarest first
        if not terms:
            return {}
        common = max(50, int(self.doc_count * COMMON_SHARE))
        totals: dict[int, float] = {}
        matched: dict[int, int] = {}
        seen = matched.get
        for postings, weight, unit, weak in terms:
            brings = not totals or (not weak and (len(postings) <= common or len(totals) < MIN_CANDIDATES)
                                    and len(totals) < MAX_CANDIDATES)
            new = postings.keys() - totals.keys() if brings else ()
            for docnum in postings.keys() & totals.keys():
                totals[docnum] += weight * postings[docnum]
                if unit:
                    matched[docnum] = seen(docnum, 0) + 1
            if new:  # C-level: no Python loop over a long posting list's new documents
                totals.update(zip(new, map(weight.__mul__, map(postings.__getitem__, new)), strict=True))
                if unit:
                    matched.update(dict.fromkeys(new, 1))
        units = sum(1 for t in terms if t[2])
        if COVERAGE and units > 1:
            scale = 2 * COVERAGE / units
            for docnum in totals:
                totals[docnum] *= 1 - COVERAGE + scale * seen(docnum, 0)
        return totals

    def _demote_other_products(self, parsed: analysis.Analysis, totals: dict[int, float]) -> None:
        """Articles whose title names a product, but none the query names (nor do their
        questions), are about something else (借呗 vs 花呗): they keep ``PRODUCT_MISMATCH`` of
        their score. Only the title counts against an article: a general one may name a product
        in one of its questions as an example ("钱扣了信用卡没收到" in the arrival-delay article)."""
        named = analysis.products().intersection(parsed.words)
        if not named or not totals:
            return
        titles = self.title_products()
        heads_naming = [self.postings("hw", product) for product in named]  # cached per container
        for docnum in totals.keys() & titles.keys():
            if not titles[docnum] & named and not any(docnum in head for head in heads_naming):
                totals[docnum] *= PRODUCT_MISMATCH

    def title_products(self) -> dict[int, frozenset[str]]:
        """``{docnum: products its title names}`` (``title_products.txt``, loaded on first use)."""
        if self._title_products is None:
            table = {}
            for line in (self.dir / TITLE_PRODUCTS_FILE).read_text(encoding="utf-8").splitlines():
                docnum, *named = line.split()
                table[int(docnum)] = frozenset(named)
            self._title_products = table
        return self._title_products

    def search(self, text: str, *, category: str | None = None,
               limit: int = 10) -> tuple[list[Hit], int, analysis.Analysis]:
        """The ``limit`` best articles (never fewer while more match), their total, the analysis.
        Articles under ``RELEVANCE_FLOOR`` of the best score are marked weak, not dropped."""
        parsed = self.analyzer.analyze(text)
        totals = self.score(parsed, text)
        if category is not None:
            allowed = self.category_docs(category)
            totals = {d: s for d, s in totals.items() if d in allowed}
        if not totals:
            return [], 0, parsed
        floor = max(totals.values()) * RELEVANCE_FLOOR
        top = heapq.nlargest(limit, ((s, d) for d, s in totals.items()))
        return [Hit(d, s, s < floor) for s, d in top], len(totals), parsed

    # -- documents
    def category_docs(self, category: str) -> frozenset[int]:
        docs = self._category_docs.get(category)
        if docs is None:
            docs = self._category_docs[category] = self.index.docs("category", category)
        return docs

    def stored(self, docnum: int) -> dict:
        doc = self._stored.get(docnum)
        if doc is None:
            doc = self._stored[docnum] = self.index.stored(docnum)
        return doc

    def spans(self, docnum: int, key: str, text: str) -> list:
        """Analysed tokens (with offsets) of one stored text, cached: snippets re-use them."""
        cache_key = (docnum, key)
        found = self._spans.get(cache_key)
        if found is None:
            if len(self._spans) > 4096:
                self._spans.clear()
            found = self._spans[cache_key] = self.analyzer.spans(text)
        return found

    def docnum_for(self, slug: str) -> int | None:
        return self.index.first_doc("slug", slug)

    def suggestions(self) -> dict[str, str]:
        if self._suggest is None:
            table = {}
            for line in (self.dir / SUGGEST_FILE).read_text(encoding="utf-8").splitlines():
                key, _, word = line.partition(" ")
                table[key] = word
            self._suggest = table
        return self._suggest
