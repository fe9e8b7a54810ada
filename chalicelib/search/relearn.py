"""The scheduled rebuild of the learned model (``learned.py``) from the last days' signals.

Run daily by the ``relearn_kb`` function (``chalicelib/routes/knowledge_base.py``): export the last
``LEARN_DAYS`` days of signals from the KB table (the same rows ``python -m chalicelib.search export-signals`` writes),
learn the model against the index the function ships with, and put it at ``KB_LEARNED_URI``
(``s3://bucket/key``, see ``infra/search.py``), where every search function picks it up within
``KB_LEARNED_REFRESH_SECONDS`` (``service._check_learned``) — no redeploy, no build machine.

Only ``learned.json`` is rebuilt here: the articles, their postings and the analyser's lexicon
change with a deploy (``make index``), the signals change every day. The model is learned with
the index's own query analyser, which is what analyses the queries it will be applied to.
"""
from __future__ import annotations

import io
import json

from chalicelib.config import settings
from chalicelib.kernel import clock
from chalicelib.kernel.logs import logger
from chalicelib.search import learned, signals, store

LEARN_DAYS = 30  # a month of what users searched and opened (older behaviour fades out)


def rebuild(days: int = LEARN_DAYS) -> dict | None:
    """Learn from the last ``days`` days and write the model to ``KB_LEARNED_URI``; ``None``
    (nothing done) when no URI is set (local runs: the model beside the index only)."""
    from chalicelib.search import learned_store, service

    uri = settings().kb_learned_uri
    if not uri:
        return None
    exported = io.StringIO()
    export_signals(days, exported)
    read = list(signals.read_signals(exported.getvalue().splitlines(), origin="export"))
    kb = service.kb_index()
    slugs, heads = {}, []
    for docnum in range(kb.doc_count):
        doc = kb.stored(docnum)
        slugs[doc["slug"]] = docnum
        heads.append([doc["title"], *(doc.get("questions") or [])])
    model = learned.learn(read, slugs, heads, kb.analyzer)
    body = json.dumps(model, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    learned_store.put(uri, body)
    summary = {"signals": model["signals"], "pairs": model["pairs"], "bytes": len(body), "days": days}
    logger.info("kb learned model rebuilt", extra={"uri": uri, **summary})
    return summary


def export_signals(days: int, out) -> int:
    """Write the last ``days`` days' signals (today included) as JSON lines to ``out`` (a text
    file); returns how many lines. Queries are checked for personal data again on the way out."""
    import datetime as dt

    today = clock.local_now(settings().time_zone).date()
    day_list = [(today - dt.timedelta(days=n)).isoformat() for n in range(days)]
    written = 0
    for item in store.signals(day_list):
        if not signals.valid(item["query"], item["slug"], item["kind"]):
            continue
        signal = signals.Signal(item["query"], item["slug"], signals.EXPORTED_KIND[item["kind"]],
                                item["day"], item["count"])
        out.write(signal.to_json() + "\n")
        written += 1
    return written
