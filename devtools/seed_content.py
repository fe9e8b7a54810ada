"""Demo content for ``make serve``: the seed articles of ``kb/`` imported as published version 1 (once; a restart
of the stack leaves editors' work alone). The demo ``editor`` (kb-editor) writes, ``lead`` approves."""
from __future__ import annotations

from chalicelib.config import settings


def seed(users) -> None:
    from pathlib import Path

    from chalicelib.content import service
    service.import_seed(Path(settings().kb_source_dir), service.current())
