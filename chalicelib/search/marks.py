"""What a search shows of each hit: the query's words marked in the text (``mark_text``, ``highlight``), the
best ~90 characters of the body (``snippet``), and "did you mean" for pieces that sound like a known word."""
from __future__ import annotations

import html

from chalicelib.search.index import KbIndex

SNIPPET_CHARS = 90


def _query_marks(kb: KbIndex, parsed, text: str) -> tuple[frozenset, frozenset]:
    """What to highlight: the query's words (canonical forms included) and their sounds."""
    spans = kb.analyzer.spans(text)
    sounds = {key for _, _, _, key in spans if key}
    # A pinyin query ("kefu dianhua") also marks words that sound like any of its pieces, and the knowledge
    # base's own word for a typed piece ("huankuan" → 还款, whose characters read hai-kuan one by one).
    table = kb.suggestions()
    own = {table[key] for _, _, terms, key in spans if key and terms and terms[0][:1].isascii() and key in table}
    return frozenset(parsed.words) | own, frozenset(sounds)


def mark_text(kb: KbIndex, text: str, marks: tuple[frozenset, frozenset], *, spans=None) -> list[tuple[int, int]]:
    """Offsets (into ``text``) of every token that matches the query, repeats included."""
    words, sounds = marks
    found = []
    for start, end, terms, sound in (spans if spans is not None else kb.analyzer.spans(text)):
        if any(t in words for t in terms) or (sound and sound in sounds):
            found.append((start, end))
    return found


def highlight(text: str, spans: list[tuple[int, int]]) -> str:
    """HTML-escape ``text`` and wrap each span in ``<mark>`` (spans sorted, non-overlapping)."""
    out, pos = [], 0
    for start, end in sorted(spans):
        if start < pos:
            continue
        out.append(html.escape(text[pos:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


def snippet(kb: KbIndex, docnum: int, doc: dict, marks) -> str:
    """The ~90 characters of the body that match the query best, highlighted — always the article's own text:
    never one of its ``questions`` (search aids written as users type, typos included), and without a match
    the body's beginning."""
    body = (doc.get("plain") or "").replace("\n", " ")
    spans = mark_text(kb, body, marks, spans=kb.spans(docnum, "plain", body)) if body else []
    if not spans:
        cut = body[:SNIPPET_CHARS]
        return html.escape(cut + ("…" if len(body) > SNIPPET_CHARS else ""))
    # The window with the most marks; start a little before its first mark.
    best_start, best_count = spans[0][0], 0
    for i, (start, _) in enumerate(spans):
        count = sum(1 for s, e in spans[i:] if e <= start + SNIPPET_CHARS)
        if count > best_count:
            best_start, best_count = start, count
    begin = max(0, best_start - 15)
    for stop in ("。", "；", "！", "？", " "):
        sentence = body.rfind(stop, max(0, best_start - 40), best_start)
        if sentence != -1:
            begin = sentence + 1
            break
    end = min(len(body), begin + SNIPPET_CHARS)
    window = [(max(s, begin) - begin, min(e, end) - begin) for s, e in spans if s >= begin and e <= end]
    prefix = "…" if begin > 0 else ""
    suffix = "…" if end < len(body) else ""
    return prefix + highlight(body[begin:end], window) + suffix


def did_you_mean(kb: KbIndex, text: str) -> str | None:
    """Replace pieces that sound like a known word but are spelt differently (花被 → 花呗)."""
    table = kb.suggestions()
    analyzer = kb.analyzer
    out, changed, i = [], False, 0
    normalized = text
    while i < len(normalized):
        replaced = False
        for size in (4, 3, 2):
            piece = normalized[i:i + size]
            if len(piece) < size or not all('\u3400' <= c <= '\u9fff' for c in piece):
                continue
            word = table.get(analyzer.pinyin_key(piece))
            if word and word != piece:
                out.append(word)
                i += size
                changed = replaced = True
                break
            if word == piece:
                out.append(piece)
                i += size
                replaced = True
                break
        if not replaced:
            out.append(normalized[i])
            i += 1
    suggestion = "".join(out)
    # Pinyin typed in latin letters: kefu dianhua → 客服电话.
    latin = [s for s in analyzer.spans(suggestion) if s[3] and s[2][0].isascii()]
    for start, end, _, sound in reversed(latin):
        word = table.get(sound)
        if word:
            suggestion = suggestion[:start] + word + suggestion[end:]
            changed = True
    if changed:
        import re
        suggestion = re.sub(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])", "", suggestion)
    return suggestion if changed and suggestion != text else None

