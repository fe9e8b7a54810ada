"""``python -m chalicelib.assistant build --index DIR``: train the intent classifier on the examples of
``intents.yaml`` with the analyser of the built search index in DIR, and write ``assistant_model.json`` beside
it (part of ``make index``; the runtime reads it lazily, see ``understand.model``)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.assistant")
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="train the intent model into the index folder")
    build_cmd.add_argument("--index", required=True, help="a built search index folder (make index)")
    args = parser.parse_args(argv)
    from chalicelib.assistant import classifier, intents, understand
    from chalicelib.search.analyzer import Analyzer

    started = time.perf_counter()
    try:
        known = intents.parse(intents.source_text())
        model = understand.train(Analyzer.for_index(args.index), known,
                                 source=classifier.source_hash(intents.source_text()))
        size = model.save(Path(args.index) / classifier.MODEL_FILE)
    except (intents.IntentsError, OSError) as exc:
        print(f"assistant build failed: {exc}", file=sys.stderr)
        return 1
    examples = sum(len(i.examples) for i in known.values())
    print(f"assistant model: {len(known)} intents, {examples} examples, {model.vocabulary_size} features, "
          f"{size} bytes in {time.perf_counter() - started:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
