"""What a cold container can skip before the first request, set up before ``app.py`` imports.

The rest of the cold-start work lives where it applies: lazy services and schemas
(``chalicelib/lazy.py``), Whoosh's reader without asyncio (``search/index.py``), the garbage
collector paused during import and frozen after it (``app.py``). Measured with
``benchmarks/cold_start.py``.
"""
from __future__ import annotations

import sys
import types

from chalicelib.config import settings

_PLUGIN_LOADER = "pydantic.plugin._loader"


def skip_pydantic_plugin_discovery() -> None:
    """With ``PYDANTIC_DISABLE_PLUGINS=__all__``, answer pydantic's plugin lookup without importlib.metadata.

    The first time pydantic builds a validator it imports its plugin loader, which imports
    ``importlib.metadata`` (and with it the e-mail parser) to read installed distributions'
    entry points — ~21 ms of a cold start — even when the setting means it will load none
    (its ``get_plugins()`` then returns ``()`` without looking). With that setting, the loader
    module is a stand-in whose ``get_plugins()`` returns the same ``()``. Without it (tests,
    ``make serve``), pydantic's own loader runs as usual.
    """
    if not settings().pydantic_plugins_disabled or _PLUGIN_LOADER in sys.modules:
        return
    loader = types.ModuleType(_PLUGIN_LOADER, "pydantic plugins disabled: no entry-point discovery")
    loader.get_plugins = lambda: ()
    sys.modules[_PLUGIN_LOADER] = loader
