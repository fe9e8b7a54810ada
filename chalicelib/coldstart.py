"""What a cold container can skip before the first request, set up before ``app.py`` imports.

The rest of the cold-start work lives where it applies: lazy services and schemas
(``chalicelib/lazy.py``), Whoosh's reader without asyncio (``search/postings.py``, through
``private_hooks``), the garbage collector paused during import and frozen after it (``app.py``).
Every shortcut through another library's internals is in ``chalicelib/private_hooks.py``.
Measured with ``benchmarks/cold_start.py``.
"""
from __future__ import annotations

from chalicelib.config import settings


def skip_pydantic_plugin_discovery() -> None:
    """With ``PYDANTIC_DISABLE_PLUGINS=__all__`` (the Lambda function's setting), pydantic will load
    no plugin: answer its plugin lookup without importing ``importlib.metadata`` (~20 ms; see
    ``private_hooks``). Without it (tests, ``make serve``), pydantic's own loader runs as usual."""
    if settings().pydantic_plugins_disabled:
        from chalicelib.private_hooks import skip_pydantic_plugin_discovery as skip

        skip()
