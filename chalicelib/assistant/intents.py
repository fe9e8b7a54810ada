"""The intents of ``intents.yaml`` as ``model.Intent`` objects, read once per container."""
from __future__ import annotations

import functools
from pathlib import Path

import yaml

from chalicelib.assistant.model import Intent

INTENTS_FILE = Path(__file__).resolve().parent / "intents.yaml"
KINDS = ("topic", "smalltalk", "handover", "out_of_scope")
_LIST_FIELDS = ("examples", "lookup", "actions", "articles")


class IntentsError(ValueError):
    """intents.yaml is malformed (a build-time error, named with the intent's id)."""


def source_text() -> str:
    return INTENTS_FILE.read_text(encoding="utf-8")


def parse(text: str) -> dict[str, Intent]:
    # libyaml's loader when PyYAML has it (~10× faster: 6 ms instead of 60 on the first turn)
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    found: dict[str, Intent] = {}
    for raw in data.get("intents") or []:
        ident = str(raw.get("id") or "")
        if not ident or ident in found:
            raise IntentsError(f"intent without id or listed twice: {ident!r}")
        if not raw.get("examples") or not raw.get("answer") or not raw.get("label"):
            raise IntentsError(f"intent {ident}: label, examples and answer are required")
        kind = raw.get("kind", "topic")
        if kind not in KINDS:
            raise IntentsError(f"intent {ident}: kind must be one of {KINDS}")
        for name in _LIST_FIELDS:
            if not isinstance(raw.get(name, []), list):
                raise IntentsError(f"intent {ident}: {name} must be a list")
        found[ident] = Intent(id=ident, label=str(raw["label"]), kind=kind,
                              examples=tuple(str(e) for e in raw["examples"]), answer=str(raw["answer"]).strip(),
                              lookup=tuple(raw.get("lookup", [])), templates=dict(raw.get("templates") or {}),
                              actions=tuple(raw.get("actions", [])), articles=tuple(raw.get("articles", [])))
    for required in ("handover", "out_of_scope"):
        if required not in found:
            raise IntentsError(f"intents.yaml must define the {required!r} intent")
    return found


@functools.cache
def all_intents() -> dict[str, Intent]:
    return parse(source_text())


def get(intent_id: str) -> Intent | None:
    return all_intents().get(intent_id)
