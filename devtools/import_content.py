"""``make import-content``: the step after a deploy — load the seed content into the stage's tables once.

The help-centre articles (``kb/*.md``), the contacts (``kb/contacts.yaml``) and the quick replies
(``chalicelib/escalation/macros.yaml``) become published version 1 of the content and editions tables, but only
where those are still empty: running it again, or after editors have worked, changes nothing. ``make serve``
does the same through its seed (``devtools/seed_content.py``, ``seed_editions.py``). Run it from the repository
against the deployed stage (``AWS_PROFILE=… STAGE=prod``, with the stage's table names in the environment as the
functions have them), then publish once so the live index is built from the imported set.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from chalicelib.config import settings
from chalicelib.kernel.context import Context


def import_all(source: Path) -> dict[str, object]:
    """What was imported: the articles written (those already there are left alone), and per editions kind
    whether it was empty and so imported."""
    from chalicelib.content import service as content
    from chalicelib.editions import service as editions

    ctx = Context.current()
    imported, _already = content.import_seed(source, content.current())
    done: dict[str, object] = {"articles": imported}
    for kind in ("contacts", "macros"):
        done[kind] = editions.import_seed(kind, ctx)
    return done


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=settings().kb_source_dir, help="the seed folder (default: kb/)")
    args = parser.parse_args(argv)
    print(import_all(Path(args.source)))


if __name__ == "__main__":
    main()
