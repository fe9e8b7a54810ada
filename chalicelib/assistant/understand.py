"""From a message to a decision: answer one intent, ask one clarifying question, or fall back to search.

- A message that names a person (人工, 真人, rengong …) is a handover, whatever else it says: "转人工"
  must never be misunderstood — unless it asks for a phone number (人工电话怎么打): then the classifier decides
  between the hotline and 转人工, with a clarifying question offering both when they are close.
- Otherwise the classifier ranks the intents (``classifier.Model.rank``). The top one is answered when it
  is not close to the second (``CLOSE``); when the second is close (and both are topics, not small talk), one
  clarifying question offers both as buttons; below ``SEARCH_BELOW`` (or when the
  top intent is out of scope) the knowledge-base search answers and 转人工 is offered.

The thresholds were tuned on the tuning half of ``benchmarks/assistant/devset.tsv`` (docs/assistant.md).
The model is trained at build time and read lazily from beside the search index; when the file is
missing or was trained from another ``intents.yaml`` it is trained here, once per container.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

from chalicelib.assistant import classifier, intents
from chalicelib.kernel.logs import logger

CLOSE = 0.5          # the second intent is "close" at this share of the first's probability or more
SEARCH_BELOW = 0.25
SMALLTALK_AT = 0.12  # a greeting or a thanks is short (few features): answered when it is the top intent at this
_HANDOVER = re.compile(r"人工|真人|真的人|活人|ren ?g+ong|zhuan ?ren")
# …unless the message asks for a phone number (人工电话怎么打, 人工客服热线是多少): asking for a number is not asking
# for a person here and now — the classifier decides between the hotline and 转人工, and asks when they are close
_PHONE = re.compile(r"电话|号码|号是|热线|拨打|拨号|打给|打过去|打不通|怎么打|dian ?hua|hao ?ma|rexian")
CLARIFIABLE = ("topic", "handover")     # intent kinds a clarifying question may offer (转人工 next to a topic)

_model: classifier.Model | None = None
_model_dir: str | None = None
_lock = threading.Lock()


@dataclass(frozen=True)
class Understanding:
    decision: str                           # "answer" | "clarify" | "search" | "unclear"
    intent: str | None = None               # the answered intent (or the top one)
    options: tuple[str, ...] = ()           # the clarifying question's intents
    confidence: float = 0.0


def analyzer():
    from chalicelib.search import service as search

    return search.kb_index().analyzer


def model() -> classifier.Model:
    """The trained model: beside the index if it matches intents.yaml, else trained now (once)."""
    global _model, _model_dir
    from chalicelib.config import settings

    wanted = settings().kb_index_dir
    if _model is None or _model_dir != wanted:
        with _lock:
            if _model is None or _model_dir != wanted:
                source = classifier.source_hash(intents.source_text())
                loaded = classifier.Model.load(Path(wanted) / classifier.MODEL_FILE)
                if loaded is None or loaded.source != source:
                    logger.warning("assistant model missing or stale: training it now", extra={"dir": wanted})
                    loaded = train(analyzer(), intents.all_intents(), source=source)
                _model, _model_dir = loaded, wanted
    return _model


def reset() -> None:
    global _model, _model_dir
    with _lock:
        _model, _model_dir = None, None


def train(an, known: dict, *, source: str = "") -> classifier.Model:
    return classifier.Model.train(((i.id, classifier.features(an, e)) for i in known.values() for e in i.examples),
                                  source=source)


def meaningful(text: str) -> bool:
    """Whether the message has anything to understand (letters, digits or CJK; not only emoji/punctuation)."""
    return any(ch.isalnum() for ch in text)


def understand(text: str, *, mdl: classifier.Model | None = None, an=None) -> Understanding:
    if not meaningful(text):
        return Understanding("unclear")
    if _HANDOVER.search(text.lower()) and not _PHONE.search(text.lower()):
        return Understanding("answer", "handover", confidence=1.0)
    ranked = (mdl or model()).rank(classifier.features(an or analyzer(), text))
    return decide(ranked)


def decide(ranked: list[classifier.Scored]) -> Understanding:
    known = intents.all_intents()
    top = ranked[0]
    second = ranked[1] if len(ranked) > 1 else classifier.Scored("", 0.0)
    kind = known[top.intent].kind if top.intent in known else "out_of_scope"
    if kind == "smalltalk" and top.probability >= SMALLTALK_AT:
        return Understanding("answer", top.intent, confidence=top.probability)
    if kind == "out_of_scope" or top.probability < SEARCH_BELOW:
        return Understanding("search", top.intent, confidence=top.probability)
    if second.probability >= CLOSE * top.probability and kind in CLARIFIABLE and second.intent in known \
            and known[second.intent].kind in CLARIFIABLE:
        return Understanding("clarify", top.intent, options=(top.intent, second.intent), confidence=top.probability)
    return Understanding("answer", top.intent, confidence=top.probability)
