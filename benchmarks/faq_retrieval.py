"""FAQ retrieval on real customer-service questions (ATEC 2018, see ../shared/datasets/README.md).

Indexes every entry of ``entries.jsonl`` through the project's own analyser and index build
(first question as the title, the others as ``questions``), runs every query of
``queries.jsonl`` and prints R@1, R@5, MRR@10, query latency p50/p99 and build time, beside
two plain character BM25 baselines computed in the same run: bigrams only, and single characters
plus bigrams — the latter reproduces the dataset README's "character bigrams" reference
(R@1 0.109 / R@5 0.284), so the ratios printed at the end are against that stronger one.

    .venv/bin/python benchmarks/faq_retrieval.py [--data DIR] [--limit N]

The dataset is read where it lives (``<project>/../shared/datasets/atec_faq``); it is never
copied into the repository.
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chalicelib.search import analyzer as analysis  # noqa: E402
from chalicelib.search.build import Article, build  # noqa: E402
from chalicelib.search.index import KbIndex  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "datasets" / "atec_faq"


def load(data: Path):
    entries = [json.loads(line) for line in (data / "entries.jsonl").open(encoding="utf-8") if line.strip()]
    queries = [json.loads(line) for line in (data / "queries.jsonl").open(encoding="utf-8") if line.strip()]
    return entries, queries


def metrics(ranked: list[list[str]], expected: list[str]) -> dict:
    r1 = r5 = mrr = 0.0
    for ids, want in zip(ranked, expected):
        if ids[:1] == [want]:
            r1 += 1
        if want in ids[:5]:
            r5 += 1
        if want in ids[:10]:
            mrr += 1 / (ids.index(want) + 1)
    n = len(expected)
    return {"R@1": r1 / n, "R@5": r5 / n, "MRR@10": mrr / n}


class CharBM25:
    """A baseline: plain BM25 (k1 1.2, b 0.75) over the questions' character bigrams, and their
    single characters too when ``unigrams``."""

    def __init__(self, entries, *, unigrams: bool):
        self.unigrams = unigrams
        self.ids = [e["id"] for e in entries]
        self.postings: dict[str, dict[int, int]] = defaultdict(dict)
        self.lengths = []
        for i, entry in enumerate(entries):
            grams = self.grams(" ".join(entry["questions"]))
            self.lengths.append(len(grams) or 1)
            for gram, tf in Counter(grams).items():
                self.postings[gram][i] = tf
        self.avg = sum(self.lengths) / len(self.lengths)

    def grams(self, text: str) -> list[str]:
        text = analysis.normalize(text)
        grams = [text[i:i + 2] for i in range(len(text) - 1) if not text[i:i + 2].isspace()]
        return [c for c in text if not c.isspace()] + grams if self.unigrams else grams

    def search(self, query: str, k: int = 10) -> list[str]:
        n = len(self.ids)
        scores: dict[int, float] = defaultdict(float)
        for gram in set(self.grams(query)):
            docs = self.postings.get(gram)
            if not docs:
                continue
            idf = math.log(1 + (n - len(docs) + 0.5) / (len(docs) + 0.5))
            for i, tf in docs.items():
                scores[i] += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * self.lengths[i] / self.avg))
        return [self.ids[i] for i, _ in sorted(scores.items(), key=lambda kv: -kv[1])[:k]]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=0, help="only the first N queries (quick runs)")
    args = parser.parse_args(argv)
    entries, queries = load(args.data)
    if args.limit:
        queries = queries[:args.limit]
    expected = [q["expected"] for q in queries]

    articles = [Article(slug=e["id"], title=e["questions"][0], category="about", questions=e["questions"][1:],
                        tags=[], updated="", body="") for e in entries]
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        build(tmp, Path(tmp) / "index", articles=articles)
        build_s = time.perf_counter() - started
        started = time.perf_counter()
        kb = KbIndex(Path(tmp) / "index")
        open_s = time.perf_counter() - started
        slugs = {}
        ranked, latencies = [], []
        for query in queries:
            t0 = time.perf_counter()
            hits, _, _ = kb.search(query["query"], limit=10)
            latencies.append((time.perf_counter() - t0) * 1000)
            ids = []
            for hit in hits:
                slug = slugs.get(hit.docnum)
                if slug is None:
                    slug = slugs[hit.docnum] = kb.stored(hit.docnum)["slug"]
                ids.append(slug)
            ranked.append(ids)
        ours = metrics(ranked, expected)
        # A second pass: what a warm container sees (every posting list already read once).
        warm = []
        for query in queries:
            t0 = time.perf_counter()
            kb.search(query["query"], limit=10)
            warm.append((time.perf_counter() - t0) * 1000)

    print(f"entries {len(entries)}, queries {len(queries)}")
    print(f"{'system':<34}{'R@1':>7}{'R@5':>7}{'MRR@10':>8}{'p50 ms':>8}{'p99 ms':>8}{'build s':>9}")
    for name, unigrams in (("bigram BM25 baseline", False), ("char+bigram BM25 baseline", True)):
        started = time.perf_counter()
        baseline = CharBM25(entries, unigrams=unigrams)
        base_build = time.perf_counter() - started
        base_ranked, base_lat = [], []
        for query in queries:
            t0 = time.perf_counter()
            base_ranked.append(baseline.search(query["query"]))
            base_lat.append((time.perf_counter() - t0) * 1000)
        base = metrics(base_ranked, expected)  # the last one (characters + bigrams) is the reference
        print(f"{name:<34}{base['R@1']:>7.3f}{base['R@5']:>7.3f}{base['MRR@10']:>8.3f}"
              f"{statistics.median(base_lat):>8.2f}{percentile(base_lat, .99):>8.2f}{base_build:>9.2f}")
    print(f"{'RepayDesk search (first pass)':<34}{ours['R@1']:>7.3f}{ours['R@5']:>7.3f}{ours['MRR@10']:>8.3f}"
          f"{statistics.median(latencies):>8.2f}{percentile(latencies, .99):>8.2f}{build_s:>9.2f}")
    print(f"{'RepayDesk search (warm)':<34}{'':>7}{'':>7}{'':>8}"
          f"{statistics.median(warm):>8.2f}{percentile(warm, .99):>8.2f}{'':>9}")
    print(f"index open {open_s * 1000:.0f} ms; against the char+bigram baseline: R@5 ratio {ours['R@5'] / base['R@5']:.2f}x, "
          f"R@1 ratio {ours['R@1'] / base['R@1']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
