"""Who may see which dashboard: one rule for the pages, the API and the exports, checked before a
kept page is served as before one is built.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.models import Client, User
from accounts.selectors import kams
from governance.kpis.counting import adopted_mandates
from governance.models import (
    Mandate,
    MandateAccount,
)

VIEW_DASHBOARD = "governance.view_dashboard"
VIEW_OWN_KPIS = "governance.view_own_kpis"


# --- who may see what -------------------------------------------------------------------------


def dashboard_kams() -> QuerySet[User]:
    """People a KAM dashboard can be about: KAMs, those who have left included, and anyone who
    held a mandate."""
    with_mandate = Mandate.objects.filter(kam=OuterRef("pk"))
    return User.objects.filter(
        Q(pk__in=kams(including_former=True).values("pk")) | Exists(with_mandate)
    )


def dashboard_kam_for(user: User, kam_id: int) -> User:
    """The KAM whose dashboard ``user`` asks for: directors and the committee see every KAM's,
    a KAM only their own (another's is 404); anyone else is refused (403)."""
    dashboard_kam_check(user, kam_id)
    return get_object_or_404(dashboard_kams(), pk=kam_id) if user.has_perm(VIEW_DASHBOARD) else user


def dashboard_kam_check(user: User, kam_id: int) -> None:
    """What ``dashboard_kam_for`` decides (403, 404), for a page kept built. The page was built
    only for a KAM (or someone with a mandate), and a change of roles or mandates renews every
    kept page, so for a reader who sees all dashboards nothing is left to read; a KAM may see
    only their own."""
    if user.has_perm(VIEW_DASHBOARD):
        return
    if not user.has_perm(VIEW_OWN_KPIS):
        raise PermissionDenied
    if kam_id != user.pk:
        raise Http404


def dashboard_clients(user: User) -> QuerySet[Client]:
    """The accounts whose dashboards ``user`` may open: all for directors and the committee;
    for a KAM, the accounts of their granted mandates (in force or since superseded: the KAM
    page of a past quarter links them); anyone else is refused (403)."""
    if user.has_perm(VIEW_DASHBOARD):
        return Client.objects.all()
    if user.has_perm(VIEW_OWN_KPIS):
        own = MandateAccount.objects.filter(
            client=OuterRef("pk"), mandate__in=adopted_mandates().filter(kam=user)
        )
        return Client.objects.filter(Exists(own))
    raise PermissionDenied


def dashboard_client_for(user: User, client_id: int) -> Client:
    """The account whose dashboard ``user`` asks for (another KAM's is 404)."""
    return get_object_or_404(dashboard_clients(user).select_related("owner_kam"), pk=client_id)


def dashboard_client_check(user: User, client_id: int) -> None:
    """What ``dashboard_client_for`` decides (403, 404), for a page kept built: nothing to
    read for a reader who sees every account (the page exists only for a client), one query
    for a KAM."""
    if not user.has_perm(VIEW_DASHBOARD) and not (
        dashboard_clients(user).filter(pk=client_id).exists()
    ):
        raise Http404
