"""One Jinja2 environment per container, autoescaping everything.

Only two values ever reach a template already as HTML, and both are marked safe
where they are produced, never in the template: a search snippet (escaped by the
search service, with ``<mark>`` around matches) and an article body (sanitised
when the index is built).
"""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from chalicelib.config import PROJECT_DIR

if TYPE_CHECKING:  # for the annotation only: jinja2 is imported with the first page rendered
    import jinja2

TEMPLATES_DIR = PROJECT_DIR / "templates"


@functools.cache
def environment(templates_dir: str = str(TEMPLATES_DIR)) -> jinja2.Environment:
    import jinja2  # ~80 ms: imported with the first page rendered, not at cold start

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=True,              # every page is HTML; nothing is trusted by default
        undefined=jinja2.StrictUndefined,  # a typo in a template fails the tests, not silently blank
        trim_blocks=True, lstrip_blocks=True,
        auto_reload=False,            # templates do not change inside a running container
    )
    env.filters["tel"] = lambda number: "".join(ch for ch in str(number) if ch.isdigit() or ch == "+")
    # The call bar in help/base.html: any page extending it (other domains' too) gets the
    # official lines without having to pass them.
    env.globals["official_lines"] = official_lines
    # The help door's header (templates/help/_door_nav.html) names the signed-in user: never a UUID.
    env.globals["display_name"] = display_name
    # Every <script> carries this response's nonce: the page's CSP runs nothing else (chalicelib/edge/httpio.py).
    from chalicelib.edge.httpio import csp_nonce
    env.globals["csp_nonce"] = csp_nonce
    return env


def official_lines() -> dict:
    from chalicelib.search import contacts
    book = contacts.directory()
    return {"hotline": book.hotline("customer_service") or book.hotlines[0],
            "security": contacts.security_hotline()}


def display_name(actor) -> str:
    from chalicelib.web import helpdoor
    return helpdoor.display_name(actor)


def render(name: str, **context) -> str:
    return environment().get_template(name).render(**context)
