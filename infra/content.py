"""Help-centre articles as content (chalicelib/content, docs/content.md → "Table design"): one table keyed by
article — the head (``ART#<slug>``/``HEAD``), every version (``V#<n>``) and the audit records (``AUDIT#…``)."""
from infra import table


def tables(cfg):
    return [table(cfg.content_table, gsis=[
        # sparse: only article heads carry list keys — the editors' list is one Query, never a Scan
        # (the published set takes its slugs from here and reads the heads consistently: docs/content.md)
        ("by_list", "list_pk", "list_sk"),
    ])]
