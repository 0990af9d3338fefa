"""Exceptional situations: the playbook says what to do, who owns it and how fast; a KAM
declares an incident on one of their accounts, its owner takes it in hand and closes it with a
resolution. Every step is recorded on the incident."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.refusals import STATE, ChangedMeanwhile, NotAllowed
from governance.models import Incident, IncidentState, IncidentUpdate, SituationType
from governance.permissions import ADD_INCIDENT, CHANGE_INCIDENT, VIEW_INCIDENT
from governance.shell.mandates import mandate_account
from governance.shell.notifications import notify_incident_declared


class IncidentMoved(ChangedMeanwhile):
    """The incident was taken or closed by someone else meanwhile."""


def _incidents() -> QuerySet[Incident]:
    return Incident.objects.select_related("situation", "client", "declared_by", "owner")


def _involving(user: User) -> QuerySet[Incident]:
    """The incidents ``user`` declared or owns."""
    return _incidents().filter(Q(declared_by=user) | Q(owner=user))


def incidents_visible_to(user: User) -> QuerySet[Incident]:
    """The committee and directors see every incident; others the ones they declared or own;
    someone not signed in none."""
    if not user.is_authenticated:
        return Incident.objects.none()
    return _incidents() if user.has_perm(VIEW_INCIDENT) else _involving(user)


def incidents_of(kam: User) -> list[Incident]:
    """The incidents a KAM declared or owns, newest first, for My mandate (one query)."""
    return list(_involving(kam).order_by("-declared_at", "-pk")[:20])


def may_see_incidents(user: User) -> bool:
    """The committee, directors and KAMs; and whoever owns a situation or an incident."""
    return (
        user.has_perm(VIEW_INCIDENT)
        or user.has_perm(ADD_INCIDENT)
        or SituationType.objects.filter(owner=user).exists()
        or Incident.objects.filter(owner=user).exists()
    )


def may_handle(user: User, incident: Incident) -> bool:
    """The owner handles the incident; the committee may step in; never whoever declared it
    (nobody takes or closes their own request)."""
    if incident.declared_by_id == user.pk:
        return False
    return incident.owner_id == user.pk or user.has_perm(CHANGE_INCIDENT)


def _refuse_own(incident: Incident, by: User) -> None:
    if incident.declared_by_id == by.pk:
        raise NotAllowed(
            _("Nobody takes or closes an incident they declared: its owner or the committee does.")
        )


def incident_declare(
    *, kam: User, client_id: int, situation: SituationType, description: str
) -> Incident:
    """Declare an incident on one of the KAM's accounts; it goes to the situation's owner with
    the playbook's response time. ``NotInMandate`` for a client outside the KAM's mandate."""
    mandate_account(kam=kam, client_id=client_id)
    if not situation.is_active:
        raise ValidationError(
            {"situation": ValidationError(_("This situation is no longer in the playbook."), STATE)}
        )
    if not description.strip():
        raise ValidationError({"description": _("Say what happened.")})
    with transaction.atomic():
        incident = Incident.objects.create(
            situation=situation,
            client_id=client_id,
            declared_by=kam,
            owner=situation.owner,
            description=description.strip(),
            respond_by=timezone.now() + datetime.timedelta(hours=situation.response_hours),
        )
        notify_incident_declared(incident=incident)
    return incident


def incident_note(*, incident: Incident, by: User, text: str) -> IncidentUpdate:
    """Record a step; the owner, the committee and the declaring KAM may write."""
    if not (may_handle(by, incident) or incident.declared_by_id == by.pk):
        raise PermissionDenied
    if not text.strip():
        raise ValidationError({"text": _("Write what was done.")})
    if incident.state == IncidentState.CLOSED:
        raise IncidentMoved(_("This incident is closed."))
    return IncidentUpdate.objects.create(incident=incident, author=by, text=text.strip())


def incident_take(*, incident: Incident, by: User, text: str = "") -> Incident:
    """The owner (or the committee) takes the incident in hand, once; not who declared it."""
    _refuse_own(incident, by)
    if not may_handle(by, incident):
        raise PermissionDenied
    with transaction.atomic():
        taken = Incident.objects.filter(pk=incident.pk, state=IncidentState.OPEN).update(
            state=IncidentState.IN_HAND, taken_at=timezone.now()
        )
        if not taken:
            raise IncidentMoved(_("This incident was taken in hand or closed already."))
        IncidentUpdate.objects.create(
            incident=incident,
            author=by,
            text=text.strip(),  # blank: "Taken in hand."
        )
    incident.refresh_from_db()
    return incident


def incident_close(*, incident: Incident, by: User, resolution: str) -> Incident:
    """Close the incident with what was done about it, once; not who declared it."""
    _refuse_own(incident, by)
    if not may_handle(by, incident):
        raise PermissionDenied
    if not resolution.strip():
        raise ValidationError({"resolution": _("Say how the situation was resolved.")})
    now = timezone.now()
    with transaction.atomic():
        closed = (
            Incident.objects.filter(pk=incident.pk)
            .exclude(state=IncidentState.CLOSED)
            .update(
                state=IncidentState.CLOSED,
                closed_at=now,
                resolution=resolution.strip(),
                taken_at=incident.taken_at or now,
            )
        )
        if not closed:
            raise IncidentMoved(_("This incident is closed already."))
        IncidentUpdate.objects.create(incident=incident, author=by, text=resolution.strip())
    incident.refresh_from_db()
    return incident
