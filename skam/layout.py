"""Pages whose content is already HTML, put in the site's layout without rendering it again.

Rendering ``base.html`` (the context processors, the navigation, the language switch) costs
about a millisecond, which is most of what a page read back from the cache costs (the
dashboards, ``governance/dashboard_cache.py``). Such pages are ``page.html`` template responses
with a ``page_title`` and a ``body``. For them ``LayoutMiddleware`` renders the layout once per
process for each combination of what makes it differ (the language, the sections the user may
open and the current one, the user's name) with markers where each request's own values go:
the title, the content, the CSRF token and the address the language switch returns to. Each
request then only fills the markers in.

The layout is still rendered by its template, never written a second time here, and
``tests/test_layout.py`` checks that a page put together this way is the page the template
renders. A value added to ``base.html`` that differs between requests must become a marker
(``HOLES``) or part of the key (``_key``); that test fails until it is.

A request with messages waiting is rendered the usual way: they are shown once, then gone.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.template.response import SimpleTemplateResponse
from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import mark_safe

from skam.context_processors import nav_for

PAGE_TEMPLATE = "page.html"
# Letters, digits and hyphens: HTML escaping leaves the markers as they are.
_MARK = uuid.uuid4().hex
HOLES = ("title", "body", "csrf", "here")
_HOLE = re.compile("(" + "|".join(f"{name}-{_MARK}" for name in HOLES) + ")")
# Layouts kept: a few per role, language and page; the bound only stops a runaway.
KEPT_LAYOUTS = 512
_layouts: dict[tuple[object, ...], tuple[str, ...]] = {}


def _hole(name: str) -> str:
    return f"{name}-{_MARK}"


def _key(request: HttpRequest) -> tuple[object, ...]:
    user = request.user
    _items, nav_key = nav_for(request)
    name = str(user) if user.is_authenticated else ""
    return (translation.get_language(), nav_key, user.is_authenticated, name)


def _layout(request: HttpRequest) -> tuple[str, ...]:
    """``page.html`` as this request's user sees it, split at its markers: text, marker name,
    text, and so on."""
    key = _key(request)
    parts = _layouts.get(key)
    if parts is None:
        html = render_to_string(
            PAGE_TEMPLATE,
            {
                "page_title": _hole("title"),
                "body": mark_safe(_hole("body")),
                "csrf_token": _hole("csrf"),
                "here": _hole("here"),
            },
            request=request,
        )
        parts = tuple(
            part.partition("-")[0] if index % 2 else part
            for index, part in enumerate(_HOLE.split(html))
        )
        if len(_layouts) >= KEPT_LAYOUTS:
            _layouts.clear()
        _layouts[key] = parts
    return parts


def fill_layout(request: HttpRequest, *, title: str, body: str) -> str:
    """``page.html`` with this title and this content (HTML, rendered and escaped already)."""
    values = {
        "title": escape(title),
        "body": body,
        "csrf": escape(get_token(request)),
        "here": escape(request.get_full_path()),
    }
    parts = _layout(request)
    return "".join(values[part] if index % 2 else part for index, part in enumerate(parts))


class LayoutMiddleware:
    """Renders ``page.html`` template responses from the kept layout (see the module's text)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_template_response(
        self, request: HttpRequest, response: SimpleTemplateResponse
    ) -> SimpleTemplateResponse:
        if (
            response.template_name == PAGE_TEMPLATE
            and not response.is_rendered
            and not len(get_messages(request))
        ):
            context = response.context_data or {}
            response.content = fill_layout(
                request, title=str(context.get("page_title", "")), body=context.get("body", "")
            )
        return response
