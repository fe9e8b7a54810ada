"""The help centre's public pages (``chalicelib/helpcentre``): home, search results, an article, the contact page.
The header shows whether the reader is signed in to the help door (``chalicelib/web/helpdoor.py``)."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.edge import httpio, replies
from chalicelib.edge.lazy import lazy_import, lazy_schemas
from chalicelib.edge.openapi import api_contract

help_pages = lazy_import("chalicelib.helpcentre.pages")
help_schemas = lazy_schemas("chalicelib.helpcentre.schemas")
help_door = lazy_import("chalicelib.web.helpdoor")

bp = Blueprint(__name__)


@bp.route("/help", methods=["GET"])
@api_contract("Help centre home page (HTML); 503 page with the hotline if the index is unavailable", tag="search",
              responses={200: None, 503: None}, html=True)
def help_home():
    return replies.help_page(help_pages.home(viewer=help_door.viewer(bp.current_request)))


@bp.route("/help/search", methods=["GET"])
@api_contract("Help centre search results (HTML); an empty or over-long question is a 400 page", tag="search",
              query=help_schemas.HelpSearchQuery, responses={200: None, 400: None, 503: None}, html=True)
def help_search():
    request = bp.current_request
    return replies.help_page(help_pages.search(httpio.parse_query(request, help_schemas.HelpSearchQuery),
                                               viewer=help_door.viewer(request)))


@bp.route("/help/articles/{slug}", methods=["GET"])
@api_contract("One help article with feedback buttons (HTML); unknown slug is a 404 page; ?q= (the search that "
              "led here) is recorded as a click signal", tag="search",
              query=help_schemas.ArticlePageQuery, responses={200: None, 404: None, 503: None}, html=True)
def help_article(slug):
    request = bp.current_request
    return replies.help_page(help_pages.article(slug, httpio.parse_query(request, help_schemas.ArticlePageQuery),
                                                viewer=help_door.viewer(request)))


@bp.route("/help/contact", methods=["GET"])
@api_contract("Official channels, hours and the number checker (HTML)", tag="search",
              query=help_schemas.ContactPageQuery, responses={200: None, 400: None}, html=True)
def help_contact():
    request = bp.current_request
    return replies.help_page(help_pages.contact(httpio.parse_query(request, help_schemas.ContactPageQuery),
                                                viewer=help_door.viewer(request)))
