"""The navigation: each role sees only the sections it may use."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
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
    NavItem(_("API"), "api-docs"),
    NavItem(_("Administration"), "admin:index", staff_only=True),
)


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for item in NAVIGATION:
        if item.visible_to(user):
            url = reverse(item.url_name)
            active = request.path == url if url == "/" else request.path.startswith(url)
            items.append({"label": item.label, "url": url, "active": active})
    return {"nav_items": items}
