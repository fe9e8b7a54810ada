"""What the store-twin tests of every domain share (``tests/*/test_store_twins.py``)."""
from __future__ import annotations


def commit_together(store, *adds) -> None:
    """One unit of work of ``store`` (``store.begin()``): each of ``adds`` adds its elements, then one commit."""
    uow = store.begin()
    for add in adds:
        add(uow)
    uow.commit()
