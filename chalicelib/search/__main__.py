"""The search's offline commands.

``python -m chalicelib.search build --source DIR --out DIR [--signals FILE]`` — build the KB index
(with the model learned from a signals file, see ``learned.py``);
``python -m chalicelib.search export-signals --days N --out FILE`` — the last N days' search
signals from the KB table (``KB_TABLE``), as the JSON lines ``--signals`` reads.
"""
from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.search")
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="index every *.md of --source into --out")
    build_cmd.add_argument("--source", required=True, help="folder of Markdown articles (and contacts.yaml)")
    build_cmd.add_argument("--out", required=True, help="index folder to (re)create")
    build_cmd.add_argument("--timings", action="store_true",
                           help="also print the seconds of each build phase (a JSON line)")
    build_cmd.add_argument("--signals", help="JSON lines of search signals to learn from (export-signals writes them)")
    export_cmd = commands.add_parser("export-signals", help="write the last N days' search signals as JSON lines")
    export_cmd.add_argument("--days", type=int, default=30, help="how many days back, today included (default 30)")
    export_cmd.add_argument("--out", required=True, help="file to write ('-' for standard output)")
    args = parser.parse_args(argv)
    if args.command == "export-signals":
        return export_signals(args.days, args.out)
    from chalicelib.search.build import ArticleError, build
    from chalicelib.search.signals import SignalError

    try:
        stats = build(args.source, args.out, signals=args.signals)
    except (ArticleError, SignalError, OSError) as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    print(f"indexed {stats['articles']} articles into {stats['out']} in {stats['seconds']} s; learned model: "
          f"{stats['learned']['signals']} signals, {stats['learned']['pairs']} query→article pairs, "
          f"{stats['learned']['bytes']} bytes")
    if args.timings:
        print("timings " + json.dumps(stats["phases"]))
        # CPU seconds inside read+analyse, summed over processes
        print("worker-timings " + json.dumps(stats["worker_seconds"]))
    return 0


def export_signals(days: int, out: str) -> int:
    if not 1 <= days <= 366:
        print("export failed: --days must be 1–366", file=sys.stderr)
        return 1
    from chalicelib.search import relearn

    if out == "-":
        written = relearn.export_signals(days, sys.stdout)
    else:
        with open(out, "w", encoding="utf-8") as handle:
            written = relearn.export_signals(days, handle)
    print(f"exported {written} signal lines of the last {days} days", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
