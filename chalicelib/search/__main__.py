"""``python -m chalicelib.search build --source DIR --out DIR`` — build the KB index."""
from __future__ import annotations

import argparse
import json
import sys

from chalicelib.search.build import ArticleError, build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.search")
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="index every *.md of --source into --out")
    build_cmd.add_argument("--source", required=True, help="folder of Markdown articles (and contacts.yaml)")
    build_cmd.add_argument("--out", required=True, help="index folder to (re)create")
    build_cmd.add_argument("--timings", action="store_true",
                           help="also print the seconds of each build phase (a JSON line)")
    args = parser.parse_args(argv)
    try:
        stats = build(args.source, args.out)
    except ArticleError as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    print(f"indexed {stats['articles']} articles into {stats['out']} in {stats['seconds']} s")
    if args.timings:
        print("timings " + json.dumps(stats["phases"]))
        print("worker-timings " + json.dumps(stats["worker_seconds"]))  # CPU s inside read+analyse, summed over processes
    return 0


if __name__ == "__main__":
    sys.exit(main())
