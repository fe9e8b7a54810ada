"""Knowledge base: one table for zero-result query counters and article feedback (see chalicelib/search/store.py)."""
from infra import table


def tables(cfg):
    return [table(cfg.kb_table)]
