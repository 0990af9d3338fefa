"""A member records only their own absence and names the deputy; nobody records or ends it for
them, on the page, in the admin or through a service; the deputy is a member seated for the
whole absence, never the absent one."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import User
from accounts.refusals import NotAllowed
from accounts.roles import Role
from governance.models import Absence, CommitteeMember
from governance.shell.absences import absence_end, absence_record
from tests.factories import UserFactory

TODAY = datetime.date(2026, 11, 18)
pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(f"{TODAY}T12:00+03:00")]


@pytest.fixture
def seats(chair: User, member: User) -> User:
    """The chair, a member (head of KAM) and a third member; returns the third."""
    third = UserFactory(username="third", role=Role.COMMITTEE_MEMBER)
    for user, role in (
        (chair, "executive_director"),
        (member, "head_of_kam"),
        (third, "sales_director"),
    ):
        CommitteeMember.objects.create(
            user=user, committee_role=role, is_chair=user == chair, active_from=TODAY
        )
    return third


def form(deputy: User, **extra: object) -> dict[str, object]:
    return {
        "starts_on": TODAY.isoformat(),
        "ends_on": TODAY.isoformat(),
        "deputy": deputy.pk,
        **extra,
    }


@pytest.mark.parametrize("actor", ["administrator", "director", "kam", "outsider"])
def test_nobody_without_a_seat_records_an_absence_on_the_page(
    client_as, cast: dict[str, User], seats: User, actor: str
) -> None:
    answer = client_as(cast[actor]).post(
        reverse("governance:absence-list"), form(seats, user=cast["member"].pk)
    )
    assert answer.status_code == 403
    assert not Absence.objects.exists()


def test_the_chair_cannot_record_a_members_absence(client_as, chair, member, seats) -> None:
    client_as(chair).post(reverse("governance:absence-list"), form(seats, user=member.pk))
    assert not Absence.objects.filter(user=member).exists()
    assert list(Absence.objects.values_list("user", flat=True)) == [chair.pk]


@pytest.mark.parametrize("deputy", ["director", "kam", "administrator", "member"])
def test_the_page_offers_as_deputy_only_another_seated_member(
    client_as, cast: dict[str, User], seats: User, deputy: str
) -> None:
    answer = client_as(cast["member"]).post(reverse("governance:absence-list"), form(cast[deputy]))
    assert answer.status_code == 200
    assert "Select a valid choice" in answer.text
    assert not Absence.objects.exists()


def test_the_service_refuses_a_deputy_without_a_seat_for_the_whole_absence(
    member: User, director: User, seats: User
) -> None:
    with pytest.raises(ValidationError) as refused:
        absence_record(member=member, starts_on=TODAY, ends_on=TODAY, deputy=director)
    assert "deputy" in refused.value.message_dict
    CommitteeMember.objects.filter(user=seats).update(active_to=TODAY + datetime.timedelta(days=2))
    with pytest.raises(ValidationError, match="whole absence"):
        absence_record(
            member=member,
            starts_on=TODAY,
            ends_on=TODAY + datetime.timedelta(days=5),
            deputy=seats,
        )
    with pytest.raises(ValidationError, match="someone else"):
        absence_record(member=member, starts_on=TODAY, ends_on=TODAY, deputy=member)
    with pytest.raises(NotAllowed):
        absence_record(member=director, starts_on=TODAY, ends_on=TODAY, deputy=seats)
    assert not Absence.objects.exists()


@pytest.mark.parametrize("actor", ["chair", "administrator"])
def test_nobody_ends_someone_elses_absence(
    client_as, cast: dict[str, User], seats: User, actor: str
) -> None:
    absence = absence_record(
        member=cast["member"],
        starts_on=TODAY,
        ends_on=TODAY + datetime.timedelta(days=3),
        deputy=seats,
    )
    answer = client_as(cast[actor]).post(reverse("governance:absence-end", args=[absence.pk]))
    assert answer.status_code == 403
    with pytest.raises(NotAllowed):
        absence_end(absence=absence, by=cast[actor])
    absence.refresh_from_db()
    assert absence.ends_on == TODAY + datetime.timedelta(days=3)


@pytest.mark.parametrize("actor", ["administrator", "superuser"])
def test_the_admin_shows_absences_read_only(
    client_as, cast: dict[str, User], seats: User, actor: str
) -> None:
    user = (
        cast["administrator"]
        if actor == "administrator"
        else UserFactory(username="root", is_staff=True, is_superuser=True)
    )
    http = client_as(user)
    absence = absence_record(member=cast["member"], starts_on=TODAY, ends_on=TODAY, deputy=seats)
    data = {
        "user": cast["chair"].pk,
        "starts_on": TODAY.isoformat(),
        "ends_on": TODAY.isoformat(),
        "deputy": user.pk,
        "_save": "Save",
    }
    assert http.post("/admin/governance/absence/add/", data).status_code == 403
    assert http.post(f"/admin/governance/absence/{absence.pk}/change/", data).status_code == 403
    delete = f"/admin/governance/absence/{absence.pk}/delete/"
    assert http.post(delete, {"post": "yes"}).status_code == 403
    assert list(Absence.objects.values_list("user", "deputy")) == [(cast["member"].pk, seats.pk)]
