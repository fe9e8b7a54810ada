"""app.py stays a page you read on one screen; every route, schedule, queue handler and the authorizer lives in an
area's blueprint under ``chalicelib/routes/`` and is found where Lambda will look for it (issue #22 §1)."""
import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_app_py_holds_no_routes_and_fits_on_one_screen():
    from app import app

    lines = (ROOT / "app.py").read_text().splitlines()
    assert len(lines) <= 150, f"app.py has {len(lines)} lines: routes belong in chalicelib/routes/"
    outside = sorted(f"{method} {path} ({entry.view_function.__module__})"
                     for path, methods in app.routes.items() for method, entry in methods.items()
                     if not entry.view_function.__module__.startswith("chalicelib.routes."))
    assert outside == []
    assert len(app.routes) > 90   # the whole API is registered (blueprints are registered, not just imported)


def test_every_lambda_handler_resolves_to_its_blueprint_function():
    """Schedules, queue workers and the authorizer are separate Lambda functions: each is called as
    ``<handler_string>`` (module.attribute) without ``app.py`` — it must be the function Chalice registered."""
    from app import app

    handlers = [(source.name, source.handler_string) for source in app.event_sources]
    handlers += [(auth.name, auth.handler_string) for auth in app.builtin_auth_handlers]
    assert handlers
    for name, handler_string in handlers:
        module, _, attribute = handler_string.rpartition(".")
        assert module.startswith("chalicelib.routes."), (name, handler_string)
        assert attribute == name   # the Lambda function's name is the handler's: no name_prefix
        assert callable(getattr(importlib.import_module(module), attribute)), handler_string
