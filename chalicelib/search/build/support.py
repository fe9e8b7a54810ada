"""The index's support files: the analyser's run-time data, did-you-mean, title products, meta."""
from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

from chalicelib.search import analyzer as analysis
from chalicelib.search.build.corpus import Corpus
from chalicelib.search.index import CATEGORIES, META_FILE, SUGGEST_FILE, TITLE_PRODUCTS_FILE


def _jieba_frequencies() -> dict[str, int]:
    """Word frequencies of jieba's stock dictionary (the one rjieba embeds), for the lexicon."""
    import importlib.util

    path = Path(importlib.util.find_spec("jieba").origin).parent / "dict.txt"
    freqs = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            parts = line.split(" ", 2)
            if len(parts) >= 2:
                freqs[parts[0]] = int(parts[1])
    return freqs



def write_support_files(directory: Path, corpus: Corpus, analyzer: analysis.Analyzer) -> None:
    stock = _jieba_frequencies()
    domain = analysis.domain_words()
    head, body = corpus.postings["hw"], corpus.postings["bw"]
    words = {w for w in head.keys() | body.keys() if analysis.is_cjk(w[0])}
    lexicon = [f"{w} {domain.get(w) or stock.get(w) or 1000}" for w in sorted(words)]
    (directory / analysis.LEXICON_FILE).write_text("\n".join(lexicon) + "\n", encoding="utf-8")
    analysis.write_pinyin_table(analyzer.pinyin_of, directory / analysis.PINYIN_FILE)
    # Did-you-mean: pinyin of a head word → the most used head word that sounds like it (the
    # first seen among equals: postings keep the order in which words first appear).
    best: dict[str, tuple[int, str]] = {}
    for word, (_, counts) in head.items():
        if len(word) < 2 or not analysis.is_cjk(word[0]):
            continue
        count = sum(counts)
        key = analyzer.pinyin_key(word)
        if key not in best or count > best[key][0]:
            best[key] = (count, word)
    (directory / SUGGEST_FILE).write_text("".join(f"{k} {w}\n" for k, (_, w) in sorted(best.items())),
                                          encoding="utf-8")
    # Products a title names (products.txt, or a variant synonyms.txt maps to one): "docnum 花呗 …".
    spellings = {p: p for p in analysis.products()}
    spellings.update({v: c for v, c in analysis.synonyms().items() if c in spellings})
    with open(directory / TITLE_PRODUCTS_FILE, "w", encoding="utf-8") as out:
        for docnum, fields in enumerate(corpus.stored):
            title = analysis.normalize(fields["title"])
            named = sorted({product for spelling, product in spellings.items() if spelling in title})
            if named:
                out.write(f"{docnum} {' '.join(named)}\n")
    counts = Counter(fields["category"] for fields in corpus.stored)
    meta = {"articles": len(corpus.stored), "categories": {c: counts.get(c, 0) for c in CATEGORIES},
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    (directory / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
