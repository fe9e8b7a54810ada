"""What the search learns from its users' signals (``signals.py``) and from the articles'
own paraphrase groups: a small JSON model beside the index (``learned.json``).

Built by ``python -m chalicelib.search build --signals FILE`` (``learn``), read at run time
by ``LearnedModel``. Three parts, each with a reason a help centre can state:

1. **Recurring queries** (``queries``): a query typed again (same characters once normalised)
   goes to the articles that solved it before — net weight of clicks (1), helpful votes (2)
   and not-helpful votes / cases opened afterwards (−2), each (query, article, kind) damped by
   ``log2(1 + count)`` so a burst of repeats (or a script) cannot buy a top spot.
2. **Users' words for an article** (``expansion``): the queries that led to an article, as
   a further field of it — BM25 over their words and characters, like the title's. A new
   wording that shares words with an earlier user's wording of the same question reaches the
   article even when the article never uses them (the query-log "anchor text" of web search).
3. **Term associations** (``associations``): a translation table t(v | u) — how often an
   article's head word v goes with a query word u, counted over (query, article) pairs and over
   each article's ``questions:`` (paraphrases by construction: every question is paired with
   the title and the other questions). At query time each query word adds its associated
   words as weak terms (they re-score candidates, never bring one in).

Only positive evidence becomes a boost; an article whose signals are net negative for a query
gets nothing from it (the model never demotes, so a poisoned or mistaken signal can only fail
to help). Size: a few hundred bytes per signalled (query, article) pair (README).
"""
from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from pathlib import Path
from typing import Iterable

from chalicelib.search import analyzer as analysis
from chalicelib.search.signals import KIND_WEIGHT, Signal, query_key

MODEL_FILE = "learned.json"
VERSION = 1
# Scoring weights, relative to the article fields' BM25 (see index.FIELD_WEIGHT).
EXPANSION_WEIGHT = {"w": 2.0, "g": 1.2}  # the users'-words field: words, characters+bigrams
EXPANSION_K1, EXPANSION_B = 1.2, 0.75
EXPANSION_ON = False
NEIGHBOUR_WEIGHT = 0.5
NEIGHBOUR_MIN = 0.3
NEIGHBOUR_POWER = 2.0
MAP_BOOST = 1.0  # a recurring query's article gains this share of the best score (× confidence)
MAP_MIN_NET = 2.0  # "recurring": at least 3 clicks (log2(1 + 3) = 2) or a helpful vote and a click
ASSOCIATION_WEIGHT = 0.5
ASSOCIATION_MIN_PAIRS = 2  # a word pair must co-occur in this many pairs to count
ASSOCIATION_MIN_T = 0.2
ASSOCIATIONS_PER_WORD = 3
MAX_TERMS_PER_DOC = 400  # cap on an article's users'-words field (distinct terms)


def _terms(parsed: analysis.Analysis) -> dict[str, list[str]]:
    """The terms the users'-words field keeps: real words and bigrams (no single characters, no
    filler words or bigrams touching them)."""
    return {"w": [w for w in parsed.words if not w.startswith(analysis.FILLER_MARK)],
            "g": [g for g in parsed.grams if len(g) == 2 and g not in parsed.filler_grams]}


def learn(signals: Iterable[Signal], slugs: dict[str, int], heads: list[list[str]],
          analyzer: analysis.Analyzer) -> dict:
    """The model (a JSON-able dict) from signals, the index's ``{slug: docnum}`` and every
    article's head texts (title, questions, tags) in docnum order."""
    per_pair: dict[tuple[str, int], float] = defaultdict(float)
    texts: dict[tuple[str, int], str] = {}
    counts: Counter = Counter()
    for signal in signals:
        docnum = slugs.get(signal.slug)
        if docnum is None:
            continue  # an article since removed
        counts[(query_key(signal.query), docnum, signal.kind)] += signal.count
        texts.setdefault((query_key(signal.query), docnum), signal.query)
    for (key, docnum, kind), count in counts.items():
        per_pair[(key, docnum)] += KIND_WEIGHT[kind] * math.log2(1 + count)
    positive = {pair: net for pair, net in per_pair.items() if net > 0 and pair[0]}

    queries: dict[str, list[list]] = defaultdict(list)
    for (key, docnum), net in sorted(positive.items()):
        if net >= MAP_MIN_NET:
            queries[key].append([docnum, round(net, 3)])

    # Users' words per article: each positive (query, article) pair's terms, weighted by its net.
    fields = {kind: defaultdict(Counter) for kind in EXPANSION_WEIGHT}
    parsed_queries: dict[str, analysis.Analysis] = {}
    for (key, docnum), net in positive.items():
        parsed = parsed_queries.get(key)
        if parsed is None:
            parsed = parsed_queries[key] = analyzer.analyze(texts[(key, docnum)])
        for kind, terms in _terms(parsed).items():
            for term, tf in Counter(terms).items():
                fields[kind][docnum][term] += tf * min(net, 3.0)
    expansion = {}
    for kind, per_doc in fields.items():
        postings: dict[str, list[list]] = defaultdict(list)
        lengths = {}
        for docnum, terms in per_doc.items():
            kept = dict(terms.most_common(MAX_TERMS_PER_DOC))
            lengths[docnum] = round(sum(kept.values()), 3)
            for term, tf in kept.items():
                postings[term].append([docnum, round(tf, 3)])
        expansion[kind] = {"lengths": {str(d): n for d, n in sorted(lengths.items())},
                           "postings": dict(sorted(postings.items()))}

    # Past queries one by one (for the nearest-neighbour part): article, net weight, terms.
    past = []
    for (key, docnum), net in sorted(positive.items()):
        terms = _terms(parsed_queries[key])
        past.append([docnum, round(net, 3), sorted(set(terms["w"])), sorted(set(terms["g"]))])

    # Term associations: (query words, head words) pairs from signals and from paraphrase groups.
    pairs: list[tuple[set[str], set[str]]] = []
    head_words: list[set[str]] = []
    parsed_heads: dict[str, set[str]] = {}

    def words_of(text: str) -> set[str]:
        found = parsed_heads.get(text)
        if found is None:
            found = parsed_heads[text] = set(_terms(analyzer.analyze(text))["w"])
        return found

    for docnum, texts_of_doc in enumerate(heads):
        head_words.append(set().union(*(words_of(t) for t in texts_of_doc)) if texts_of_doc else set())
        if len(texts_of_doc) > 1:
            for i, text in enumerate(texts_of_doc):
                others = set().union(*(words_of(t) for j, t in enumerate(texts_of_doc) if j != i))
                pairs.append((words_of(text), others))
    for (key, docnum) in positive:
        pairs.append((set(_terms(parsed_queries[key])["w"]), head_words[docnum]))
    seen: Counter = Counter()
    together: Counter = Counter()
    for query_words, article_words in pairs:
        for u in query_words:
            seen[u] += 1
            for v in article_words:
                if v != u and v not in query_words:
                    together[(u, v)] += 1
    associations: dict[str, list[list]] = defaultdict(list)
    for (u, v), c in together.items():
        t = c / seen[u]
        if c >= ASSOCIATION_MIN_PAIRS and t >= ASSOCIATION_MIN_T:
            associations[u].append([v, round(t, 3)])
    associations = {u: sorted(vs, key=lambda x: (-x[1], x[0]))[:ASSOCIATIONS_PER_WORD]
                    for u, vs in sorted(associations.items())}
    by_docnum = sorted(slugs, key=slugs.__getitem__)
    return {"version": VERSION, "documents": len(heads), "slugs": by_docnum, "signals": sum(counts.values()), "pairs": len(positive),
            "queries": dict(queries), "expansion": expansion, "past": past, "associations": associations}


def write(model: dict, directory: Path) -> Path:
    path = Path(directory) / MODEL_FILE
    path.write_text(json.dumps(model, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return path


class LearnedModel:
    """The run-time side: BM25 postings of the users'-words field, the recurring-query map and
    the association table, ready to add to an index's scores."""

    def __init__(self, model: dict, docnum_for=None):
        """``docnum_for(slug)``: the current index's docnum of an article — given when the model
        was built beside another build of the index (from S3): its article numbers are then
        mapped by slug, and articles the index no longer has are left out."""
        if model.get("version") != VERSION:
            raise ValueError(f"learned model version {model.get('version')!r}, expected {VERSION}")
        if docnum_for is None:
            def renumber(docnum):
                return int(docnum)
        else:
            slugs = model.get("slugs") or []
            mapping: dict[int, int | None] = {}

            def renumber(docnum):
                docnum = int(docnum)
                if docnum not in mapping:
                    mapping[docnum] = docnum_for(slugs[docnum]) if 0 <= docnum < len(slugs) else None
                return mapping[docnum]
        self.queries = {}
        for key, docs in model["queries"].items():
            kept = [(renumber(d), float(w)) for d, w in docs]
            self.queries[key] = [(d, w) for d, w in kept if d is not None]
        self.associations = {u: [(v, float(t)) for v, t in vs] for u, vs in model["associations"].items()}
        self.signals = int(model.get("signals", 0))
        self.pairs = int(model.get("pairs", 0))
        self.documents = int(model.get("documents", 0))
        self._fields = {}
        for kind, field in model["expansion"].items():
            lengths = {renumber(d): float(n) for d, n in field["lengths"].items()}
            lengths.pop(None, None)
            postings = field["postings"]
            if docnum_for is not None:
                postings = {term: [[renumber(d), tf] for d, tf in docs if renumber(d) is not None]
                            for term, docs in postings.items()}
            self._fields[kind] = (lengths, postings)
        self._cache: dict[tuple[str, str], dict[int, float]] = {}
        self.past: list[tuple[int, float, list[tuple[str, str]]]] = []  # (docnum, net, (kind, term)s)
        self._past_postings: dict[tuple[str, str], list[int]] = defaultdict(list)
        self._past_weights: dict[int, float] = {}
        for docnum, net, words, grams in model.get("past", ()):
            docnum = renumber(docnum)
            if docnum is None:
                continue
            terms = [("w", t) for t in words] + [("g", t) for t in grams]
            for term in terms:
                self._past_postings[term].append(len(self.past))
            self.past.append((docnum, float(net), terms))

    @classmethod
    def load(cls, path: str | Path) -> "LearnedModel | None":
        path = Path(path)
        if not path.is_file():
            return None
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def postings(self, kind: str, term: str, df: int) -> dict[int, float]:
        """``{docnum: weighted BM25}`` of one term in the users'-words field; ``df``: how many
        articles the index has with the term (idf is the index's: a word common in the articles
        stays common here, however few articles have users' words yet). Cached per term."""
        key = (kind, term)
        found = self._cache.get(key)
        if found is None:
            found = {}
            lengths, table = self._fields.get(kind, ({}, {}))
            docs = table.get(term)
            if docs and lengths:
                n = max(self.documents, len(lengths))
                df = min(n, max(df, len(docs)))
                average = sum(lengths.values()) / len(lengths) or 1.0
                idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                weight = EXPANSION_WEIGHT[kind]
                for docnum, tf in docs:
                    norm = EXPANSION_K1 * (1 - EXPANSION_B + EXPANSION_B * lengths[docnum] / average)
                    found[docnum] = weight * idf * tf * (EXPANSION_K1 + 1) / (tf + norm)
            self._cache[key] = found
        return found

    def expansion_scores(self, parsed: analysis.Analysis, doc_frequency) -> dict[int, float]:
        """``doc_frequency(kind, term)``: the index's number of articles with the term."""
        scores: dict[int, float] = defaultdict(float)
        for kind, terms in _terms(parsed).items():
            for term in set(terms):
                if term not in self._fields.get(kind, ({}, {}))[1]:
                    continue
                for docnum, value in self.postings(kind, term, doc_frequency(kind, term)).items():
                    scores[docnum] += value
        return scores

    def neighbour_scores(self, parsed: analysis.Analysis, doc_frequency) -> dict[int, float]:
        """``{docnum: similarity}``: for each article, the best idf-weighted Dice similarity
        (0–1) between this query and a past query that led to it. A new wording that is nearly
        an earlier user's sentence scores near 1; one sharing only the topic's common words, low."""
        terms = _terms(parsed)
        mine = {(kind, t) for kind in ("w", "g") for t in terms[kind]}
        if not mine or not self.past:
            return {}
        idf = {term: self._idf(term, doc_frequency) for term in mine}
        own = sum(idf.values()) or 1.0
        shared: dict[int, float] = defaultdict(float)
        for term, weight in idf.items():
            for i in self._past_postings.get(term, ()):
                shared[i] += weight
        best: dict[int, float] = {}
        for i, overlap in shared.items():
            docnum = self.past[i][0]
            theirs = self._past_weights.get(i)
            if theirs is None:
                theirs = self._past_weights[i] = sum(self._idf(t, doc_frequency) for t in self.past[i][2]) or 1.0
            sim = 2 * overlap / (own + theirs)
            if sim > best.get(docnum, 0.0):
                best[docnum] = sim
        return best

    def _idf(self, term: tuple[str, str], doc_frequency) -> float:
        n = max(self.documents, 1)
        df = min(n, doc_frequency(*term))
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def recurring(self, text: str) -> list[tuple[int, float]]:
        return self.queries.get(query_key(text), [])

    def associated(self, parsed: analysis.Analysis) -> list[tuple[str, float]]:
        """(head word, t) for the query's words: what their users' articles say instead."""
        words = set(_terms(parsed)["w"])
        out: dict[str, float] = {}
        for u in words:
            for v, t in self.associations.get(u, ()):
                if v not in words:
                    out[v] = max(out.get(v, 0.0), t)
        return sorted(out.items())

    def apply(self, parsed: analysis.Analysis, text: str, totals: dict[int, float], term_scores) -> None:
        """Add what was learned to an index's ``totals`` (``{docnum: score}``, in place);
        ``term_scores(kind, term)`` gives the index's own ``{docnum: weighted BM25}`` (its
        length is the term's document frequency there)."""
        for word, t in self.associated(parsed):
            postings = term_scores("w", word)
            for docnum in postings.keys() & totals.keys():
                totals[docnum] += ASSOCIATION_WEIGHT * t * postings[docnum]
        frequency = lambda kind, term: len(term_scores(kind, term))  # noqa: E731
        if EXPANSION_ON:
            for docnum, value in self.expansion_scores(parsed, frequency).items():
                totals[docnum] = totals.get(docnum, 0.0) + value
        if NEIGHBOUR_WEIGHT and self.past:
            best = max(totals.values(), default=0.0) or 1.0
            for docnum, sim in self.neighbour_scores(parsed, frequency).items():
                if sim >= NEIGHBOUR_MIN:
                    totals[docnum] = totals.get(docnum, 0.0) + NEIGHBOUR_WEIGHT * best * sim ** NEIGHBOUR_POWER
        recurring = self.recurring(text)
        if recurring:
            best = max(totals.values(), default=0.0) or 1.0
            for docnum, net in recurring:
                totals[docnum] = totals.get(docnum, 0.0) + MAP_BOOST * best * net / (net + MAP_MIN_NET)
