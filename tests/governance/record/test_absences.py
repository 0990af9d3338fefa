"""Nothing is deleted: an absence ended or cancelled stays, and the record shows who was
deputy when."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from governance.models import Absence, CommitteeMember, CommitteeRole, RecordEntry
from governance.recipients import approver_roles_of

pytestmark = [pytest.mark.time_machine("2026-11-18T12:00+03:00"), pytest.mark.django_db]


@pytest.fixture
def seated(member: User) -> User:
    CommitteeMember.objects.create(
        user=member,
        committee_role=CommitteeRole.HEAD_OF_KAM,
        active_from=datetime.date(2025, 1, 1),
    )
    return member


def deletions_of(absence: Absence) -> int:
    return RecordEntry.objects.filter(
        table_name="governance_absence", row_pk=str(absence.pk), operation="D"
    ).count()


@pytest.mark.parametrize("starts_in_days", [0, 3], ids=["begun today", "not begun"])
def test_an_absence_dropped_on_the_page_is_cancelled_not_deleted(
    client_as, seated: User, director: User, starts_in_days: int
) -> None:
    today = timezone.localdate()
    absence = Absence.objects.create(
        user=seated,
        starts_on=today + datetime.timedelta(days=starts_in_days),
        ends_on=today + datetime.timedelta(days=5),
        deputy=director,
    )
    client_as(seated).post(reverse("governance:absence-end", args=[absence.pk]))

    kept = Absence.with_cancelled.get(pk=absence.pk)
    assert kept.cancelled_at is not None
    assert not Absence.objects.filter(pk=absence.pk).exists()
    assert "head_of_kam" not in approver_roles_of(director)
    assert deletions_of(absence) == 0


def test_an_absence_deleted_in_bulk_is_cancelled_too(seated: User, director: User) -> None:
    today = timezone.localdate()
    absence = Absence.objects.create(user=seated, starts_on=today, ends_on=today, deputy=director)
    Absence.objects.all().delete()
    assert Absence.with_cancelled.filter(pk=absence.pk, cancelled_at__isnull=False).exists()
    assert deletions_of(absence) == 0
