"""Reads that decide what a user may see. Every view and endpoint filters through these."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import F, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.lookups import OnTeamOf
from accounts.models import AccountTeamMember, Client, ClientFigure, ClientNeed, ImportBatch, User
from accounts.roles import Role


def clients_visible_to(user: User) -> QuerySet[Client]:
    """The clients ``user`` may see: all of them for the committee, directors and administrators;
    for a KAM, the accounts they own or work on as a team member; nothing for anyone else."""
    if not user.is_authenticated or not user.has_perm("accounts.view_client"):
        return Client.objects.none()
    if user.has_perm("accounts.view_all_clients"):
        return Client.objects.all()
    owned, on_team = _kams_accounts(user)
    return Client.objects.filter(owned | on_team)


def _kams_accounts(user: User) -> tuple[Q, Q]:
    """A KAM's accounts, as two conditions: those they own, and those they work on as a team
    member (which may include some they own)."""
    team = AccountTeamMember.objects.filter(user=user).order_by().values("client_id")
    return Q(owner_kam=user), Q(OnTeamOf(F("pk"), team, person=user.pk))


def visibility_parts(user: User) -> list[Q] | None:
    """``clients_visible_to(user)`` as sets that do not meet, for a list read part by part
    (``accounts.pagination.CheapCountPaginator``): for a KAM, the accounts they own, then
    those they work on in another's team, or with no owner. None for whoever sees every
    client, or none."""
    if not user.is_authenticated or user.has_perm("accounts.view_all_clients"):
        return None
    if not user.has_perm("accounts.view_client"):
        return None
    owned, on_team = _kams_accounts(user)
    return [owned, on_team & ~owned]


def client_get_for_user(user: User, pk: int, *, perm: str = "accounts.view_client") -> Client:
    """The client ``pk`` if ``user`` may see it and holds ``perm``.

    403 when the role lacks ``perm``; 404 when the client is outside the user's accounts, so
    that it is indistinguishable from one that does not exist."""
    if not user.has_perm(perm):
        raise PermissionDenied
    return get_object_or_404(clients_visible_to(user), pk=pk)


def needs_visible_to(user: User) -> QuerySet[ClientNeed]:
    if not user.has_perm("accounts.view_clientneed"):
        return ClientNeed.objects.none()
    return ClientNeed.objects.filter(client__in=clients_visible_to(user))


def figures_visible_to(user: User) -> QuerySet[ClientFigure]:
    if not user.has_perm("accounts.view_clientfigure"):
        return ClientFigure.objects.none()
    return ClientFigure.objects.filter(client__in=clients_visible_to(user))


def kams(*, including_former: bool = False) -> QuerySet[User]:
    """Who counts as a KAM, the one definition: in the KAM role and active. With
    ``including_former``, also those who have left (a hand-entered actual for a past quarter may
    name one)."""
    people = User.objects.filter(groups__name=Role.KAM)
    if not including_former:
        people = people.filter(is_active=True)
    return people.order_by("last_name", "first_name", "pk")


def imports_visible_to(user: User) -> QuerySet[ImportBatch]:
    """The imports ``user`` may see: every one with the permission to view imports, otherwise
    only the files they uploaded themselves."""
    if not user.is_authenticated or not user.has_perm("accounts.import_register"):
        return ImportBatch.objects.none()
    if user.has_perm("accounts.view_importbatch"):
        return ImportBatch.objects.all()
    return ImportBatch.objects.filter(uploaded_by=user)
