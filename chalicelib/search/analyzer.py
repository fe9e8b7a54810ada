"""How Chinese text becomes search terms — the same code for articles (at build) and queries.

Three kinds of term, each in its own index field (see ``index.py``):

- ``w`` words: segmentation by jieba (the Rust port, ``rjieba``) with the domain dictionary
  (``dictionary.txt``), plus the dictionary sub-words of long words (客服热线 → 客服, 热线)
  and the canonical form of colloquial words (``synonyms.txt``: 还钱 → 还款). Filler words
  (``stopwords.txt``: 怎么, 吗, 呢 …) are dropped — they never decide a match.
- ``g`` character bigrams of what is left, so words the dictionary misses still match.
- ``p`` pinyin bigrams (toneless syllable pairs, ``ke_fu``) of the same characters; a query
  typed in pinyin (``kefu dianhua``) is split into syllables and paired the same way, so
  pinyin and homophone typos (还款失拜, 花被) land on the right terms.

Cold start: jieba's stock dictionary takes ~150 ms (rjieba) to ~420 ms (jieba) to load and
pypinyin ~400 ms to import. The runtime needs neither: the build writes the lexicon it saw
(``lexicon.txt``: every word of the articles with its jieba frequency) and a character→pinyin
table (``pinyin.txt``) next to the index, and a query analyser is an empty rjieba instance fed
those words (a few ms). Offsets always refer to the caller's original string (normalisation
keeps one character per character), so highlights are right however often a word repeats.
"""
from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent
LEXICON_FILE = "lexicon.txt"
PINYIN_FILE = "pinyin.txt"

_WORDLIKE = re.compile(r"^[0-9a-z]+$")
_DEFAULT_FREQ = 3000       # frequency for domain words listed without one
_SUBWORD_MIN_LEN = 3        # words this long also yield their dictionary sub-words
FILLER_TERMS = True         # index filler words as weak terms (see analyze)
FILLER_MARK = "~"
UNIGRAMS = True             # single characters are terms too (rare characters are telling: 逾, 冻)
# Characters and bigrams run over filler words too, as a plain character index would: a filler
# list can never drop a character the user typed (下 of 下款, 还 of 还是 …), and 为什么/怎么
# stay apart at the character level. Those touching a filler are listed apart (``filler_grams``)
# and scored as weak terms; ``grams`` keeps only real ones. Words and pinyin skip fillers.
FILLER_GRAMS = True


@functools.cache
def fuzzy_syllable(syllable: str) -> str:
    """Fold the sounds many speakers (and pinyin typists) confuse: zh/ch/sh → z/c/s, n → l,
    -ing/-eng → -in/-en. Only the pinyin-bigram terms use it; typed pinyin is split first."""
    for retroflex in ("zh", "ch", "sh"):
        if syllable.startswith(retroflex):
            syllable = syllable[0] + syllable[2:]
            break
    if syllable.startswith("n") and len(syllable) > 1:
        syllable = "l" + syllable[1:]
    if syllable.endswith(("ing", "eng")):
        syllable = syllable[:-1]
    return syllable


def is_cjk(char: str) -> bool:
    """Whether one character is a CJK ideograph (basic block, extension A, compatibility).

    Plain comparisons rather than a regex character class: twice as fast per call, and the
    class's compilation cost ~5 ms of every cold start."""
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf" or "\uf900" <= char <= "\ufaff"


def _fold(char: str) -> str:
    """One character's normalised form: always exactly one character."""
    if char < " " or char == "\x7f" or unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co"):
        return " "
    folded = unicodedata.normalize("NFKC", char).lower()
    return folded if len(folded) == 1 else char.lower()[:1] or " "


class _FoldTable(dict):
    """code point → folded character, filled on first sight (``str.translate`` then runs in C:
    ~10× faster than a Python loop over 10,000 article bodies); bounded so odd queries cannot
    grow it without limit."""

    def __missing__(self, code: int) -> str:
        folded = _fold(chr(code))
        if len(self) < 65536:
            self[code] = folded
        return folded


_FOLD_TABLE = _FoldTable()


def normalize(text: str) -> str:
    """Full-width → half-width, lower case, control characters → space; same length as ``text``."""
    return text.translate(_FOLD_TABLE)


# --------------------------------------------------------------- data files
def _lines(name: str):
    for raw in (DATA_DIR / name).read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            yield line


@functools.cache
def stopwords() -> frozenset[str]:
    return frozenset(word for line in _lines("stopwords.txt") for word in line.split())


@functools.cache
def products() -> frozenset[str]:
    """Distinct products (``products.txt``): an article about another one is not an answer."""
    return frozenset(normalize(line) for line in _lines("products.txt"))


@functools.cache
def domain_words() -> dict[str, int]:
    words = {}
    for line in _lines("dictionary.txt"):
        parts = line.split()
        words[normalize(parts[0])] = int(parts[1]) if len(parts) > 1 else _DEFAULT_FREQ
    return words


@functools.cache
def synonyms() -> dict[str, str]:
    """variant → canonical (both normalised)."""
    table = {}
    for line in _lines("synonyms.txt"):
        canonical, _, variants = line.partition(":")
        canonical = normalize(canonical.strip())
        for variant in variants.split(","):
            variant = normalize(variant.strip())
            if variant and variant != canonical:
                table[variant] = canonical
    return table


def _rjieba_class():
    """rjieba's ``Jieba`` class without ``import rjieba``, whose ``__init__`` loads the stock
    dictionary (~150 ms) that a query analyser never uses."""
    spec = importlib.util.find_spec("rjieba")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("rjieba is not installed (requirements.txt)", name="rjieba")
    package_dir = Path(spec.origin).parent
    library = next(package_dir.glob("rjieba*.so"), None) or next(package_dir.glob("rjieba*.pyd"))
    loader = importlib.machinery.ExtensionFileLoader("rjieba.rjieba", str(library))
    extension = importlib.util.spec_from_file_location("rjieba.rjieba", str(library), loader=loader)
    if extension is None:
        raise ImportError(f"cannot load rjieba's extension {library}", name="rjieba.rjieba")
    module = importlib.util.module_from_spec(extension)
    loader.exec_module(module)
    return module.Jieba


# --------------------------------------------------------------- analysis
@dataclass
class Analysis:
    words: list[str] = field(default_factory=list)
    grams: list[str] = field(default_factory=list)
    pinyin: list[str] = field(default_factory=list)
    # characters and bigrams touching a filler word (怎, 呗怎): character terms the index scores as
    # weak (unless the same gram also comes from real words)
    filler_grams: list[str] = field(default_factory=list)
    # (start, end, canonical words, pinyin key) of every kept token, offsets into the input
    spans: list[tuple[int, int, tuple[str, ...], str]] = field(default_factory=list)


class Analyzer:
    """Text → terms. Build one with ``for_build()`` (stock dictionary) or ``for_index(dir)``."""

    def __init__(self, jieba, pinyin_of: dict[str, str]):
        self._jieba = jieba
        self.pinyin_of = pinyin_of
        self.syllables = frozenset(pinyin_of.values())
        self._max_syllable = max((len(s) for s in self.syllables), default=6)
        self._stop = stopwords()
        self._synonyms = synonyms()
        for word, freq in domain_words().items():
            jieba.add_word(word, freq, None)
        # Filler words and colloquial variants must come out of segmentation whole.
        for word in self._stop:
            jieba.add_word(word, 20000, None)
        for variant in self._synonyms:
            jieba.add_word(variant, 20000, None)

    # -- construction
    @classmethod
    def for_build(cls) -> Analyzer:
        return cls(_rjieba_class()(), build_pinyin_table())

    @classmethod
    def for_words(cls) -> Analyzer:
        """The domain dictionary, synonyms and filler words of the knowledge base on an empty jieba (the
        unknown rest segmented by its HMM), no pinyin table: ``analyze(..., words_only=True)`` for other
        domains' terms. ~10 ms to build (the stock dictionary costs 0.4 s, seconds on a busy first request)."""
        return cls(_rjieba_class().empty(), {})

    @classmethod
    def for_index(cls, index_dir: str | Path) -> Analyzer:
        index_dir = Path(index_dir)
        jieba = _rjieba_class().empty()
        for line in (index_dir / LEXICON_FILE).read_text(encoding="utf-8").splitlines():
            word, _, freq = line.partition(" ")
            if word:
                jieba.add_word(word, int(freq or _DEFAULT_FREQ), None)
        return cls(jieba, load_pinyin_table(index_dir / PINYIN_FILE))

    def has_word(self, word: str) -> bool:
        return self._jieba.has_word(word)

    # -- the pieces
    def tokens(self, text: str) -> list[tuple[str, int, int]]:
        """Non-overlapping segmentation of the normalised text, offsets into ``text``."""
        return [(word, start, end) for word, start, end in self._jieba.tokenize(normalize(text), "default", True)]

    def pinyin_key(self, chars: str) -> str:
        return "".join(self.pinyin_of.get(c, c) for c in chars)

    def split_syllables(self, latin: str) -> list[str] | None:
        """``kefudianhua`` → ke fu dian hua (fewest syllables); None if it is not pinyin."""
        n = len(latin)
        best: list[list[str] | None] = [None] * (n + 1)
        best[0] = []
        for i in range(n):
            here = best[i]
            if here is None:
                continue
            for j in range(min(n, i + self._max_syllable), i, -1):
                piece, there = latin[i:j], best[j]
                if piece in self.syllables and (there is None or len(here) + 1 < len(there)):
                    best[j] = here + [piece]
        return best[n]

    def analyze(self, text: str, *, spans: bool = False, lean: bool = False, words_only: bool = False) -> Analysis:
        """``lean`` (article bodies): no single characters and no pinyin — a body is long, those
        terms would triple its postings (and the build time) for little gain; titles and
        questions carry them. ``words_only``: the same words, no character or pinyin terms at
        all (bodies of large corpora; skips the per-character work)."""
        result = Analysis()
        unigrams = UNIGRAMS and not lean
        run_chars: list[str] = []      # CJK characters of the current run (between punctuation)
        run_filler: list[bool] = []    # per character of the run: from a filler word
        run_syllables: list[str] = []  # syllables of the current run (CJK or typed pinyin)

        def close_pinyin():
            if run_syllables and not lean:
                result.pinyin.extend(f"{fuzzy_syllable(a)}_{fuzzy_syllable(b)}"
                                     for a, b in itertools.pairwise(run_syllables))
            run_syllables.clear()

        def close_run():
            if not run_chars and not run_syllables:  # most calls (punctuation, spaces): nothing to close
                return
            if not any(run_filler):
                if unigrams or len(run_chars) == 1:
                    result.grams.extend(run_chars)
                result.grams.extend(a + b for a, b in itertools.pairwise(run_chars))
            else:  # characters and bigrams touching a filler word go apart: the index scores them weak
                if unigrams or len(run_chars) == 1:
                    for c, f in zip(run_chars, run_filler, strict=True):
                        (result.filler_grams if f else result.grams).append(c)
                for (a, b), (fa, fb) in zip(itertools.pairwise(run_chars), itertools.pairwise(run_filler), strict=True):
                    (result.filler_grams if fa or fb else result.grams).append(a + b)
            run_chars.clear()
            run_filler.clear()
            close_pinyin()

        for word, start, end in self.tokens(text):
            if not word.strip():
                close_run()
                continue
            if word in self._stop:
                # Kept only as a marked, weak term ("~为什么"): it may reorder articles that
                # match on real words (why- vs how-questions) but never makes one match.
                if FILLER_TERMS and is_cjk(word[0]):
                    result.words.append(FILLER_MARK + self._synonyms.get(word, word))
                if FILLER_GRAMS and is_cjk(word[0]) and not words_only:
                    chars = [c for c in word if is_cjk(c)]  # characters and bigrams see every character
                    run_chars.extend(chars)
                    run_filler.extend([True] * len(chars))
                    close_pinyin()
                else:
                    close_run()
                continue
            if is_cjk(word[0]):
                canonical = self._synonyms.get(word)
                terms = [word] if canonical is None else [word, canonical]
                if len(word) >= _SUBWORD_MIN_LEN:
                    terms.extend(self._subwords(word))
                result.words.extend(terms)
                if not words_only:
                    chars = [c for c in word if is_cjk(c)]
                    run_chars.extend(chars)
                    run_filler.extend([False] * len(chars))
                    run_syllables.extend(self.pinyin_of.get(c, c) for c in word if is_cjk(c))
                if spans:
                    result.spans.append((start, end, tuple(terms), self.pinyin_key(word)))
            elif _WORDLIKE.match(word):
                if run_chars:
                    close_run()
                canonical = self._synonyms.get(word)
                result.words.extend([word] if canonical is None else [word, canonical])
                syllables = None if word.isdigit() or (words_only and not spans) else self.split_syllables(word)
                if syllables:
                    run_syllables.extend(syllables)
                else:
                    close_run()
                if spans:
                    result.spans.append((start, end, (word,), "".join(syllables or ())))
            else:
                close_run()
        close_run()
        return result

    def spans(self, text: str) -> list[tuple[int, int, tuple[str, ...], str]]:
        """``(start, end, terms, sound)`` of every token of ``text`` (what highlighting needs):
        the spans of ``analyze(text, spans=True)``, without building the character and pinyin
        terms nobody reads here — half the work on an article body."""
        return self.analyze(text, spans=True, words_only=True).spans

    def _subwords(self, word: str):
        seen = set()
        for size in (2, 3):
            for i in range(len(word) - size + 1):
                piece = word[i:i + size]
                if piece != word and piece not in seen and self._jieba.has_word(piece) and piece not in self._stop:
                    seen.add(piece)
                    yield piece
                    if piece in self._synonyms:
                        yield self._synonyms[piece]


# --------------------------------------------------------------- pinyin table
def build_pinyin_table() -> dict[str, str]:
    """Toneless most common reading of every CJK ideograph pypinyin knows (build time only)."""
    from pypinyin.pinyin_dict import pinyin_dict

    table = {}
    for code, readings in pinyin_dict.items():
        char = chr(code)
        if not is_cjk(char):
            continue
        first = readings.split(",")[0]
        plain = unicodedata.normalize("NFKD", first).encode("ascii", "ignore").decode().lower()
        if "ü" in first or "ǖ" in first or "ǘ" in first or "ǚ" in first or "ǜ" in first:
            plain = unicodedata.normalize("NFKD", first.replace("ü", "v").replace("ǖ", "v").replace("ǘ", "v")
                                          .replace("ǚ", "v").replace("ǜ", "v")).encode("ascii", "ignore").decode()
        if plain.isalpha():
            table[char] = plain
    return table


def write_pinyin_table(table: dict[str, str], path: Path) -> None:
    by_reading: dict[str, list[str]] = {}
    for char, reading in table.items():
        by_reading.setdefault(reading, []).append(char)
    path.write_text("".join(f"{r} {''.join(sorted(cs))}\n" for r, cs in sorted(by_reading.items())),
                    encoding="utf-8")


def load_pinyin_table(path: Path) -> dict[str, str]:
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        reading, _, chars = line.partition(" ")
        table.update(dict.fromkeys(chars, reading))
    return table
