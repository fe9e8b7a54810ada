"""The index's support files: the analyser's run-time data, did-you-mean, title products, meta."""
from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

from chalicelib.search import analyzer as analysis
from chalicelib.search.build.corpus import Corpus
from chalicelib.search.index import CATEGORIES, META_FILE, SUGGEST_FILE, TITLE_PRODUCTS_FILE

# jieba's dict.txt as ``make package`` puts it in the Lambda zip (the live index's build function needs only
# this file of jieba, not the 42 MB package); in a checkout, the installed jieba's own.
SHIPPED_DICT = Path(__file__).with_name("jieba_dict.txt")


def jieba_dictionary() -> Path:
    import importlib.util

    if SHIPPED_DICT.is_file():
        return SHIPPED_DICT
    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("jieba is not installed (requirements-dev.txt: the index build needs it)",
                                  name="jieba")
    return Path(spec.origin).parent / "dict.txt"


def _jieba_frequencies() -> dict[str, int]:
    """Word frequencies of jieba's stock dictionary (the one rjieba embeds), for the lexicon."""
    path = jieba_dictionary()
    freqs = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            parts = line.split(" ", 2)
            if len(parts) >= 2:
                freqs[parts[0]] = int(parts[1])
    return freqs



def _plain_reading(reading: str) -> str:
    """``huán`` → ``huan``, ``lǜ`` → ``lv`` (as ``analyzer.build_pinyin_table`` spells readings)."""
    import unicodedata
    for accented in "üǖǘǚǜ":
        reading = reading.replace(accented, "v")
    return unicodedata.normalize("NFKD", reading).encode("ascii", "ignore").decode().lower()


def _other_readings(analyzer: analysis.Analyzer, max_keys: int = 16):
    """``word → pinyin keys`` of the word's *other* readings (还款: huankuan besides the table's haikuan) —
    a heteronym's less common reading is often the one meant, and what a pinyin typist types; build time only."""
    import itertools

    from pypinyin.pinyin_dict import pinyin_dict

    def readings(char: str) -> list[str]:
        primary = analyzer.pinyin_of.get(char, char)
        found = [primary]
        for reading in (pinyin_dict.get(ord(char)) or "").split(","):
            plain = _plain_reading(reading)
            if plain.isalpha() and plain not in found:
                found.append(plain)
        return found[:3]

    def keys(word: str) -> set[str]:
        combos = itertools.islice(itertools.product(*(readings(c) for c in word)), max_keys)
        return {"".join(combo) for combo in combos} - {analyzer.pinyin_key(word)}
    return keys


def _own_text(fields: dict) -> str:
    """What an article says itself: title, tags and body — not its ``questions``, which are search aids
    written the way users type (typos included: 信用卡换款, 还款失拜)."""
    return analysis.normalize(" ".join([fields["title"], *fields.get("tags", ()), fields.get("plain") or ""]))


def suggestions(corpus: Corpus, analyzer: analysis.Analyzer) -> dict[str, str]:
    """The did-you-mean table: pinyin key → the knowledge base's own word that sounds so.

    The vocabulary is every CJK word of two or more characters that the articles' own text contains (titles,
    tags, bodies; a word the analyser only derived — a synonym's canonical form, a question's typo — is not in
    it unless the text has it too). Each word is keyed by its characters' usual readings (what a typed homophone
    produces: 还款 → haikuan) and by their other readings (what typed pinyin may say: huankuan); among words
    that sound alike the one read so by its characters' usual readings wins, then the most used one (the first
    seen among equals)."""
    other_keys = _other_readings(analyzer)
    own: dict[int, str] = {}

    def text_of(docnum: int) -> str:
        if docnum not in own:
            own[docnum] = _own_text(corpus.stored[docnum])
        return own[docnum]

    counts: dict[str, int] = {}
    for field in ("hw", "bw"):
        for word, (docs, frequencies) in corpus.postings[field].items():
            if len(word) < 2 or not all(analysis.is_cjk(c) for c in word):
                continue
            if word not in counts and not any(word in text_of(d) for d in docs):
                continue  # only in questions, or only derived by the analyser
            counts[word] = counts.get(word, 0) + sum(frequencies)
    best: dict[str, tuple[tuple[int, int], str]] = {}
    for word, count in counts.items():
        for key, usual in [(analyzer.pinyin_key(word), 1), *((k, 0) for k in sorted(other_keys(word)))]:
            rank = (usual, count)
            if key not in best or rank > best[key][0]:
                best[key] = (rank, word)
    return {key: word for key, (_, word) in best.items()}


def write_support_files(directory: Path, corpus: Corpus, analyzer: analysis.Analyzer) -> None:
    stock = _jieba_frequencies()
    domain = analysis.domain_words()
    head, body = corpus.postings["hw"], corpus.postings["bw"]
    words = {w for w in head.keys() | body.keys() if analysis.is_cjk(w[0])}
    lexicon = [f"{w} {domain.get(w) or stock.get(w) or 1000}" for w in sorted(words)]
    (directory / analysis.LEXICON_FILE).write_text("\n".join(lexicon) + "\n", encoding="utf-8")
    analysis.write_pinyin_table(analyzer.pinyin_of, directory / analysis.PINYIN_FILE)
    suggested = sorted(suggestions(corpus, analyzer).items())
    (directory / SUGGEST_FILE).write_text("".join(f"{k} {w}\n" for k, w in suggested), encoding="utf-8")
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
