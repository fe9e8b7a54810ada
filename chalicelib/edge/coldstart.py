"""What a cold container can skip before the first request: ``app.py`` imports this module first thing —
importing it runs ``before_imports()``, so no code has to run between ``app.py``'s imports — and calls
``after_imports()`` last, once every area's blueprint is registered.

- The garbage collector is paused while ``app.py`` imports (the modules, the blueprints of ``chalicelib/routes/``,
  the routes and models it builds live as long as the container; the collector would walk them again and again) and
  ``gc.freeze()`` then moves them out of its generations, so no later collection walks them
  either — not a warm request's full collection, not interpreter shutdown. Public ``gc`` API;
  measured (a ``gc.callbacks`` probe, CPU time, paired runs, issue #10 §4): 71 collections
  costing ~16 ms CPU during import + first search without it, 19 costing ~3 ms with it.
- pydantic's plugin discovery is skipped when plugins are disabled (~20 ms CPU; a shortcut
  through pydantic's internals, so it lives in ``chalicelib/private_hooks.py``).

The rest of the cold-start work lives where it applies: lazy services and schemas
(``chalicelib/edge/lazy.py``), Whoosh's reader imported without asyncio (``search/postings.py``,
through ``private_hooks``). Measured with ``benchmarks/cold_start.py``.
"""
from __future__ import annotations

import gc

_gc_was_enabled = True


def before_imports() -> None:
    global _gc_was_enabled
    _gc_was_enabled = gc.isenabled()
    gc.disable()
    skip_pydantic_plugin_discovery()


def after_imports() -> None:
    gc.freeze()
    if _gc_was_enabled:
        gc.enable()


def skip_pydantic_plugin_discovery() -> None:
    """With ``PYDANTIC_DISABLE_PLUGINS=__all__`` (the Lambda function's setting), pydantic will load
    no plugin: answer its plugin lookup without importing ``importlib.metadata`` (see
    ``private_hooks``). Without it (tests, ``make serve``), pydantic's own loader runs as usual."""
    from chalicelib.config import settings  # imported here: after the collector is paused

    if settings().pydantic_plugins_disabled:
        from chalicelib.private_hooks import skip_pydantic_plugin_discovery as skip

        skip()


before_imports()   # on import: app.py imports this module before any other of its imports
