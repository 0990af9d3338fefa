"""The navigation: each role sees only the sections it may use."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    perm: str | None = None
    staff_only: bool = False

    def visible_to(self, user: object) -> bool:
        if self.staff_only and not getattr(user, "is_staff", False):
            return False
        return self.perm is None or user.has_perm(self.perm)


NAVIGATION = (
    NavItem(_("Home"), "home"),
    NavItem(_("Clients"), "accounts:client-list", perm="accounts.view_client"),
    NavItem(_("The ruler"), "criteria:overview", perm="criteria.view_evaluationrun"),
    NavItem(_("Committee"), "governance:proposal-list", perm="governance.view_proposal"),
    NavItem(_("My mandate"), "governance:my-mandate", perm="governance.view_own_mandate"),
    NavItem(_("Mandates"), "governance:mandate-list", perm="governance.view_mandate"),
    NavItem(_("Exceptions"), "governance:exception-list", perm="governance.view_exceptionrequest"),
    NavItem(_("Dashboards"), "governance:dashboard-portfolio", perm="governance.view_dashboard"),
    NavItem(_("Imports"), "accounts:import-list", perm="accounts.import_register"),
    NavItem(_("Change record"), "governance:record-list", perm="governance.view_recordentry"),
    NavItem(_("API"), "api-docs"),
    NavItem(_("Administration"), "admin:index", staff_only=True),
)


@lru_cache(maxsize=16)
def _addresses(urlconf: str, script_prefix: str) -> tuple[str, ...]:
    """Each section's address, found once per URLconf and prefix rather than on every page."""
    return tuple(reverse(item.url_name, urlconf=urlconf) for item in NAVIGATION)


def nav_for(request: HttpRequest) -> list[dict[str, object]]:
    """The sections the signed-in user may open, the current one marked."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    addresses = _addresses(get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())
    items = []
    for item, url in zip(NAVIGATION, addresses, strict=True):
        if item.visible_to(user):
            active = request.path == url if url == "/" else request.path.startswith(url)
            items.append({"label": item.label, "url": url, "active": active})
    return items


def navigation(request: HttpRequest) -> dict[str, object]:
    """The layout's per-request values: the navigation and ``here``, the address the language
    switch returns to."""
    return {"nav_items": nav_for(request), "here": request.get_full_path()}
