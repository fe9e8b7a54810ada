"""Contacts and quick replies edited in the workspace (chalicelib/editions): one small table, a partition per kind
(head, versions, audit records); every read is a GetItem or a Query on one partition."""
from infra import table


def tables(cfg):
    return [table(cfg.editions_table)]
