"""Absences and deputies: a committee member records their own absence and names the deputy,
who decides in their place meanwhile. Nobody records an absence for someone else (not the
administrator, not the chair); the deputy is someone the tier's rule could name — a member
seated for the whole absence, not the absent one."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.refusals import NotAllowed
from governance.models import Absence, CommitteeMember


def seated_throughout(starts_on: datetime.date, ends_on: datetime.date) -> QuerySet[User]:
    """Active people with a seat from ``starts_on`` to ``ends_on``: who may be named deputy."""
    seats = CommitteeMember.objects.filter(active_from__lte=starts_on).filter(
        models.Q(active_to__isnull=True) | models.Q(active_to__gte=ends_on)
    )
    return User.objects.filter(pk__in=seats.values("user_id"), is_active=True).order_by(
        "last_name", "first_name", "pk"
    )


def may_record_absence(user: User, *, day: datetime.date | None = None) -> bool:
    """Only a member with a seat today records (their own) absence."""
    day = day or timezone.localdate()
    return CommitteeMember.objects.active_on(day).filter(user=user).exists()


def absence_record(
    *,
    member: User,
    starts_on: datetime.date,
    ends_on: datetime.date,
    deputy: User,
    note: str = "",
) -> Absence:
    """``member`` records their own absence, naming a deputy seated throughout it."""
    if not may_record_absence(member):
        raise NotAllowed(_("Only a member of the committee records their own absence."))
    errors: dict[str, str] = {}
    if ends_on < starts_on:
        errors["ends_on"] = _("The absence must end on or after its first day.")
    elif ends_on < timezone.localdate():
        errors["ends_on"] = _("This absence is over already.")
    if deputy.pk == member.pk:
        errors["deputy"] = _("The deputy must be someone else.")
    elif not errors and not seated_throughout(starts_on, ends_on).filter(pk=deputy.pk).exists():
        errors["deputy"] = _(
            "The deputy is a member of the committee with a seat for the whole absence."
        )
    if errors:
        raise ValidationError(errors)
    return Absence.objects.create(
        user=member, starts_on=starts_on, ends_on=ends_on, deputy=deputy, note=note
    )


def absence_end(*, absence: Absence, by: User) -> None:
    """The member who is away ends their absence today (or drops one not begun); nobody else
    does."""
    if absence.user_id != by.pk:
        raise NotAllowed(_("Only the member who is away ends their absence."))
    today = timezone.localdate()
    with transaction.atomic():
        locked = Absence.objects.select_for_update().get(pk=absence.pk)
        if locked.starts_on > today:
            locked.delete()
        elif locked.ends_on >= today:
            # Ends yesterday: from today the member decides again.
            yesterday = today - datetime.timedelta(days=1)
            if yesterday < locked.starts_on:
                locked.delete()
            else:
                Absence.objects.filter(pk=locked.pk).update(ends_on=yesterday)
