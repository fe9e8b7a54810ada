"""What the search learns from its users' signals (``signals.py``) and from the articles'
own paraphrase groups: a small JSON model beside the index (``learned.json``).

Built by ``python -m chalicelib.search build --signals FILE`` (``learn``), read at run time
by ``LearnedModel``. Three parts, each with a reason a help centre can state:

1. **Recurring queries** (``queries``): a query typed again (same characters once normalised)
   goes to the articles that solved it before — net weight of clicks (1), helpful votes (2)
   and not-helpful votes / cases opened afterwards (−2), each (query, article, kind) damped by
   ``log2(1 + count)`` so a burst of repeats (or a script) cannot buy a top spot.
2. **Nearest past queries** (``past``; off by default, see ``NEIGHBOUR_WEIGHT``): a new query
   that is nearly an earlier user's sentence
   (idf-weighted Dice similarity ≥ ``NEIGHBOUR_MIN``) brings up the article that query led to.
   The threshold is high on purpose: on ATEC, where a paraphrase is often filed under several
   entries, a looser neighbour rule sent new questions to the *clicked* duplicate (RESULTS.md).
3. **Term associations** (``associations``): a translation table t(v | u) — how often an
   article's head word v stands where a query word u stood, counted over (query, article head)
   pairs and over each article's ``questions:`` against its title and other questions
   (paraphrases by construction), from the words the two sides do *not* share (更换 → 换,
   开通 → 开启). At query time each query word adds its associated words as weak terms (they
   re-score candidates, never bring one in). This is the part that generalises to questions
   nobody asked before.

Only positive evidence becomes a boost; an article whose signals are net negative for a query
gets nothing from it (the model never demotes, so a poisoned or mistaken signal can only fail
to help). Size: a few hundred bytes per signalled (query, article) pair (README).
"""
from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from chalicelib.search import analyzer as analysis
from chalicelib.search.signals import KIND_WEIGHT, Signal, query_key

MODEL_FILE = "learned.json"
VERSION = 1
# Scoring weights, relative to the article fields' BM25 (see index.FIELD_WEIGHT).
# Off: on ATEC (even half clicked, odd half asked) it cost R@5 −0.004 even at similarity ≥ 0.8,
# because the clicked entry is a paraphrase *duplicate* of the one asked for (RESULTS.md);
# a positive weight writes the past queries into the model (most of its size) and uses them.
NEIGHBOUR_WEIGHT = 0.0  # × best score × similarity² for the article of a near-identical past query
NEIGHBOUR_MIN = 0.8
NEIGHBOUR_POWER = 2.0
MAP_BOOST = 2.5  # a recurring query's article gains best score × this × net / (net + MAP_MIN_NET): from 1.25× best
MAP_MIN_NET = 2.0  # "recurring": at least 3 clicks (log2(1 + 3) = 2) or a helpful vote and a click
ASSOCIATION_WEIGHT = 2.0  # × t(v | u) for an associated word v (a weak term)
ASSOCIATION_MIN_PAIRS = 2  # a word pair must co-occur in this many pairs to count
ASSOCIATION_MIN_T = 0.2
ASSOCIATIONS_PER_WORD = 3


def _terms(parsed: analysis.Analysis) -> dict[str, list[str]]:
    """The terms a past query is compared on: real words and bigrams (no single characters, no
    filler words or bigrams touching them)."""
    return {"w": [w for w in parsed.words if not w.startswith(analysis.FILLER_MARK)],
            "g": [g for g in parsed.grams if len(g) == 2]}


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

    parsed_queries = {key: analyzer.analyze(texts[(key, docnum)]) for (key, docnum) in positive}
    # Past queries one by one (for the nearest-neighbour part): article, net weight, terms.
    past = []
    for (key, docnum), net in sorted(positive.items()) if NEIGHBOUR_WEIGHT else ():
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

    for texts_of_doc in heads:
        head_words.append(set().union(*(words_of(t) for t in texts_of_doc)) if texts_of_doc else set())
        if len(texts_of_doc) > 1:
            for i, text in enumerate(texts_of_doc):
                others = set().union(*(words_of(t) for j, t in enumerate(texts_of_doc) if j != i))
                pairs.append((words_of(text), others))
    for (key, docnum) in positive:
        pairs.append((set(_terms(parsed_queries[key])["w"]), head_words[docnum]))
    seen: Counter = Counter()
    together: Counter = Counter()
    # Only the words the two sides do not share: what one wording says instead of the other
    # (更换 → 换, 开通 → 开启); shared words say nothing about substitutions.
    for query_words, article_words in pairs:
        for u in query_words - article_words:
            seen[u] += 1
            for v in article_words - query_words:
                together[(u, v)] += 1
    associations: dict[str, list[list]] = defaultdict(list)
    for (u, v), c in together.items():
        t = c / seen[u]
        if c >= ASSOCIATION_MIN_PAIRS and t >= ASSOCIATION_MIN_T:
            associations[u].append([v, round(t, 3)])
    associations = {u: sorted(vs, key=lambda x: (-x[1], x[0]))[:ASSOCIATIONS_PER_WORD]
                    for u, vs in sorted(associations.items())}
    by_docnum = sorted(slugs, key=slugs.__getitem__)
    return {"version": VERSION, "documents": len(heads), "slugs": by_docnum, "signals": sum(counts.values()),
            "pairs": len(positive), "queries": dict(queries), "past": past, "associations": associations}


def write(model: dict, directory: Path) -> Path:
    path = Path(directory) / MODEL_FILE
    path.write_text(json.dumps(model, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return path


class LearnedModel:
    """The run-time side: the recurring-query map, the association table and (if switched on)
    the past queries, ready to add to an index's scores."""

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
    def load(cls, path: str | Path) -> LearnedModel | None:
        path = Path(path)
        if not path.is_file():
            return None
        return cls(json.loads(path.read_text(encoding="utf-8")))

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
