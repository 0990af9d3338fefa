"""The administrator keeps people in Django admin, and cannot become anyone through it: no
superuser or staff flag, no user permissions, no password of an existing user, no committee
seat or role, no change to their own roles, to a committee member or to a superuser."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client as HttpClient

from accounts.models import User
from accounts.roles import Role
from governance.models import CommitteeMember
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def change_url(user: User) -> str:
    return f"/admin/accounts/user/{user.pk}/change/"


def form_of(user: User, **changes: object) -> dict[str, object]:
    """What the change form posts for ``user``, with ``changes``."""
    data: dict[str, object] = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on" if user.is_active else "",
        "groups": [group.pk for group in user.groups.all()],
        "_save": "Save",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def group(role: Role) -> Group:
    return Group.objects.get(name=role)


def test_the_administrator_changes_a_name_but_no_flag_that_makes_anyone_more(
    client_as, administrator: User, kam: User
) -> None:
    http: HttpClient = client_as(administrator)
    page = http.get(change_url(kam)).content.decode()
    for field in ("is_superuser", "is_staff", "user_permissions", "password"):
        assert f'name="{field}"' not in page

    anything = Permission.objects.get(codename="change_user")
    answer = http.post(
        change_url(kam),
        form_of(
            kam,
            first_name="Anna-Maria",
            is_superuser="on",
            is_staff="on",
            user_permissions=[anything.pk],
        ),
    )

    assert answer.status_code == 302
    kam.refresh_from_db()
    assert kam.first_name == "Anna-Maria"
    assert (kam.is_superuser, kam.is_staff) == (False, False)
    assert not kam.user_permissions.exists()


@pytest.mark.parametrize("whose", ["kam", "chair", "administrator"])
def test_nobody_sets_an_existing_users_password_in_admin(
    client_as, administrator: User, kam: User, chair: User, whose: str
) -> None:
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    target = {"kam": kam, "chair": chair, "administrator": administrator}[whose]
    before = User.objects.get(pk=target.pk).password
    for actor in (administrator, superuser):
        http: HttpClient = client_as(actor)
        url = f"/admin/accounts/user/{target.pk}/password/"
        assert http.get(url).status_code == 403
        posted = http.post(url, {"password1": "Taken-0ver!", "password2": "Taken-0ver!"})
        assert posted.status_code == 403
    assert User.objects.get(pk=target.pk).password == before


def test_the_administrator_gives_roles_below_the_committee_only(
    client_as, administrator: User, kam: User
) -> None:
    http: HttpClient = client_as(administrator)
    page = http.get(change_url(kam)).content.decode()
    assert f'value="{group(Role.DIRECTOR).pk}"' in page
    assert f'value="{group(Role.COMMITTEE_MEMBER).pk}"' not in page

    seat = http.post(change_url(kam), form_of(kam, groups=[group(Role.COMMITTEE_MEMBER).pk]))
    assert seat.status_code == 200  # the form again, with the reason
    assert "not one of the available choices" in seat.content.decode()
    assert not kam.groups.filter(name=Role.COMMITTEE_MEMBER).exists()

    director = http.post(change_url(kam), form_of(kam, groups=[group(Role.DIRECTOR).pk]))
    assert director.status_code == 302
    assert list(kam.groups.values_list("name", flat=True)) == [Role.DIRECTOR]


def test_the_administrator_does_not_change_their_own_roles_or_flag(
    client_as, administrator: User
) -> None:
    http: HttpClient = client_as(administrator)
    answer = http.post(
        change_url(administrator),
        form_of(administrator, first_name="Admin", groups=[group(Role.DIRECTOR).pk], is_active=""),
    )
    assert answer.status_code == 302
    administrator.refresh_from_db()
    assert administrator.first_name == "Admin"
    assert administrator.is_active
    assert list(administrator.groups.values_list("name", flat=True)) == [Role.ADMINISTRATOR]


def test_a_committee_member_and_a_superuser_are_only_read_by_the_administrator(
    client_as, administrator: User, chair: User
) -> None:
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    http: HttpClient = client_as(administrator)
    for target in (chair, superuser):
        assert http.get(change_url(target)).status_code == 200  # read
        answer = http.post(change_url(target), form_of(target, first_name="Changed", is_active=""))
        assert answer.status_code == 403
        target.refresh_from_db()
        assert target.first_name != "Changed"
        assert target.is_active


def test_people_are_deactivated_never_deleted_in_admin(
    client_as, administrator: User, kam: User
) -> None:
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    for actor in (administrator, superuser):
        answer = client_as(actor).post(f"/admin/accounts/user/{kam.pk}/delete/", {"post": "yes"})
        assert answer.status_code == 403
    assert User.objects.filter(pk=kam.pk).exists()


def test_the_administrator_cannot_seat_anyone_on_the_committee_in_admin(
    client_as, administrator: User, chair: User
) -> None:
    http: HttpClient = client_as(administrator)
    add = "/admin/governance/committeemember/add/"
    assert http.get(add).status_code == 403
    answer = http.post(
        add,
        {
            "user": administrator.pk,
            "committee_role": "sales_director",
            "active_from": "2026-01-01",
            "_save": "Save",
        },
    )
    assert answer.status_code == 403
    assert not CommitteeMember.objects.filter(user=administrator).exists()


def test_the_administrator_adds_someone_who_then_signs_in(client_as, administrator: User) -> None:
    http: HttpClient = client_as(administrator)
    answer = http.post(
        "/admin/accounts/user/add/",
        {
            "username": "newkam",
            "usable_password": "true",
            "password1": "A-first-Pa55word",
            "password2": "A-first-Pa55word",
            "_save": "Save",
        },
    )
    assert answer.status_code == 302
    newcomer = User.objects.get(username="newkam")
    assert (newcomer.is_superuser, newcomer.is_staff) == (False, False)
    assert HttpClient().login(username="newkam", password="A-first-Pa55word")
