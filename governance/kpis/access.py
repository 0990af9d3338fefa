"""Who may see which dashboard: one function per dashboard, called by the page, the API and the
export before anything else, so that a page read back from the cache is behind the very check a
page built afresh is.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from accounts.models import Client, User
from accounts.refusals import NotAllowed, NotYours
from accounts.selectors import kams
from governance.kpis.counting import adopted_mandates
from governance.models import (
    KpiScope,
    KpiSnapshot,
    Mandate,
    MandateAccount,
)
from governance.permissions import VIEW_DASHBOARD, VIEW_OWN_KPIS

# --- who may see what -------------------------------------------------------------------------


def dashboard_kams() -> QuerySet[User]:
    """People a KAM dashboard can be about: KAMs, those who have left included, and anyone who
    held a mandate."""
    with_mandate = Mandate.objects.filter(kam=OuterRef("pk"))
    return User.objects.filter(
        Q(pk__in=kams(including_former=True).values("pk")) | Exists(with_mandate)
    )


def may_see_portfolio(user: User) -> bool:
    """Directors and the committee see the portfolio and every KAM's and account's figures."""
    return user.has_perm(VIEW_DASHBOARD)


def dashboard_portfolio_access(user: User) -> None:
    """Directors and the committee see the portfolio; anyone else is refused (403)."""
    if not may_see_portfolio(user):
        raise NotAllowed


def kpi_snapshots_visible_to(
    user: User, *, scope: str | None = None, kam_id: str | None = None
) -> QuerySet[KpiSnapshot]:
    """The stored KPI actuals ``user`` may read: all of them for directors and the committee; a
    KAM their own and their accounts'. A KAM asking for the portfolio (``scope``) or another
    KAM's (``kam_id``, as given in the address) is refused (403) rather than shown nothing."""
    if may_see_portfolio(user):
        return KpiSnapshot.objects.all()
    if not user.has_perm(VIEW_OWN_KPIS):
        raise NotAllowed
    if scope == KpiScope.PORTFOLIO or kam_id not in (None, "", str(user.pk)):
        raise NotAllowed(
            _("The portfolio and other KAMs' KPIs are for directors and the committee.")
        )
    return KpiSnapshot.objects.filter(kam=user, scope__in=[KpiScope.KAM, KpiScope.ACCOUNT])


def dashboard_kam_for(user: User, kam_id: int) -> User:
    """The KAM whose dashboard ``user`` asks for: directors and the committee see every KAM's,
    a KAM only their own (another's is 404); anyone else is refused (403)."""
    if may_see_portfolio(user):
        return get_object_or_404(dashboard_kams(), pk=kam_id)
    if not user.has_perm(VIEW_OWN_KPIS):
        raise NotAllowed
    if kam_id != user.pk:
        raise NotYours
    return user


def dashboard_clients(user: User) -> QuerySet[Client]:
    """The accounts whose dashboards ``user`` may open: all for directors and the committee;
    for a KAM, the accounts of their granted mandates (in force or since superseded: the KAM
    page of a past quarter links them); anyone else is refused (403)."""
    if may_see_portfolio(user):
        return Client.objects.all()
    if user.has_perm(VIEW_OWN_KPIS):
        own = MandateAccount.objects.filter(
            client=OuterRef("pk"), mandate__in=adopted_mandates().filter(kam=user)
        )
        return Client.objects.filter(Exists(own))
    raise NotAllowed


def dashboard_client_for(user: User, client_id: int) -> Client:
    """The account whose dashboard ``user`` asks for (another KAM's is 404)."""
    return get_object_or_404(dashboard_clients(user).select_related("owner_kam"), pk=client_id)
