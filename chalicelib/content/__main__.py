"""``python -m chalicelib.content import --source kb`` / ``export --out DIR`` (docs/content.md, "Import and export").

Runs against the stage's content table as configured (``STAGE``, ``CONTENT_TABLE``, the AWS environment; locally
``make serve`` imports through ``devtools/seed_content.py``)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.content", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    load = commands.add_parser("import", help="load kb/*.md as published version 1 (articles present are left alone)")
    load.add_argument("--source", default="kb", type=Path)
    dump = commands.add_parser("export", help="write the published articles as <slug>.md files")
    dump.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)

    from chalicelib.content import service
    from chalicelib.kernel.refusals import Invalid

    if args.command == "import":
        try:
            imported, present = service.import_seed(args.source, service.current())
        except Invalid as exc:
            print(f"import refused, nothing written: {exc.message}", file=sys.stderr)
            return 1
        print(f"imported {len(imported)} article(s), {len(present)} already there")
        return 0
    written = service.export_published(args.out)
    print(f"exported {len(written)} published article(s) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
