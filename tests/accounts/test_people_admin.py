"""The administrator keeps people in Django admin, and cannot become anyone through it: no
superuser or staff flag, no user permissions, nobody's password (a newcomer is added with none),
no committee seat or role, no address of someone who has a password, no change to their own
roles, to a committee member or to a superuser, no change to what a role may do. A superuser
is held to the same in the admin; ``changepassword`` sets nobody's password either."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client as HttpClient

from accounts.models import User
from accounts.roles import Role
from governance.models import CommitteeMember
from tests.accounts.signin import signed_in
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


@pytest.mark.parametrize("actor", ["administrator", "superuser"])
def test_the_administrator_gives_roles_below_the_committee_only(
    client_as, administrator: User, kam: User, actor: str
) -> None:
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    http: HttpClient = client_as({"administrator": administrator, "superuser": superuser}[actor])
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


@pytest.mark.parametrize("actor", ["administrator", "superuser"])
def test_a_committee_member_and_a_superuser_are_only_read_in_admin(
    client_as, administrator: User, chair: User, actor: str
) -> None:
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    other_superuser = UserFactory(username="root2", is_staff=True, is_superuser=True)
    http: HttpClient = client_as({"administrator": administrator, "superuser": superuser}[actor])
    for target in (chair, other_superuser):
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


def test_the_administrator_adds_someone_who_sets_their_own_password(
    client_as, administrator: User
) -> None:
    """Changed with the rule it encodes: the administrator used to type the newcomer's first
    password, and so knew it. Now the add form has no password at all (a posted one is
    ignored); the newcomer sets theirs through the link sent to their own address."""
    http: HttpClient = client_as(administrator)
    page = http.get("/admin/accounts/user/add/").content.decode()
    assert 'name="password1"' not in page
    assert 'name="usable_password"' not in page
    answer = http.post(
        "/admin/accounts/user/add/",
        {
            "username": "newkam",
            "email": "newkam@example.com",
            "usable_password": "true",
            "password1": "A-first-Pa55word",
            "password2": "A-first-Pa55word",
            "_save": "Save",
        },
    )
    assert answer.status_code == 302
    newcomer = User.objects.get(username="newkam")
    assert (newcomer.is_superuser, newcomer.is_staff) == (False, False)
    assert not newcomer.has_usable_password()
    assert signed_in("newkam", "A-first-Pa55word") is None

    # "Forgot your password, or never had one?" reaches a newcomer too.
    stranger = HttpClient()
    stranger.post("/password/forgotten/", {"email": "newkam@example.com"})
    (letter,) = mail.outbox
    assert letter.to == ["newkam@example.com"]
    link = next(line for line in letter.body.splitlines() if "/password/" in line)
    assert link.startswith("http://127.0.0.1:8000/password/")  # SKAM_BASE_URL, not the Host
    form = stranger.get(link.removeprefix("http://127.0.0.1:8000"), follow=True)
    chosen = {"new_password1": "Mine-and-0nly-mine", "new_password2": "Mine-and-0nly-mine"}
    done = stranger.post(form.redirect_chain[-1][0], chosen)
    assert done.status_code == 302
    assert signed_in("newkam", "Mine-and-0nly-mine")


def test_the_address_a_link_goes_to_is_fixed_once_its_owner_has_a_password(
    client_as, administrator: User, kam: User
) -> None:
    """Otherwise the administrator would put their own address on a KAM, ask for the link and
    choose the KAM's password."""
    http: HttpClient = client_as(administrator)
    before = kam.email
    assert 'name="email"' not in http.get(change_url(kam)).content.decode()
    answer = http.post(change_url(kam), form_of(kam, email="admin@evil.example"))
    assert answer.status_code == 302
    kam.refresh_from_db()
    assert kam.email == before

    newcomer = UserFactory(username="fresh", password=None)  # None: no usable password
    assert 'name="email"' in http.get(change_url(newcomer)).content.decode()


def test_the_administrator_sends_a_newcomer_the_link_without_seeing_it(
    client_as, administrator: User
) -> None:
    newcomer = UserFactory(username="fresh", password=None)  # None: no usable password
    answer = client_as(administrator).post(
        "/admin/accounts/user/",
        {"action": "send_password_link", "_selected_action": [newcomer.pk]},
        follow=True,
    )
    (letter,) = mail.outbox
    assert letter.to == ["fresh@example.com"]
    token_path = next(line for line in letter.body.splitlines() if "/password/" in line)
    assert token_path not in answer.content.decode()


def test_the_link_is_written_in_the_newcomer_s_language_not_the_administrator_s(
    client_as, administrator: User
) -> None:
    newcomer = UserFactory(username="svetlana", password=None, language="ru")
    client_as(administrator).post(
        "/admin/accounts/user/",
        {"action": "send_password_link", "_selected_action": [newcomer.pk]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    (letter,) = mail.outbox
    assert letter.subject == "SKAM: установите пароль"


@pytest.mark.parametrize("actor", ["administrator", "superuser"])
def test_nobody_changes_what_a_role_may_do_in_admin(
    client_as, administrator: User, actor: str
) -> None:
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    http: HttpClient = client_as({"administrator": administrator, "superuser": superuser}[actor])
    kam_role = group(Role.KAM)
    before = set(kam_role.permissions.values_list("pk", flat=True))
    anything = Permission.objects.get(codename="change_user")
    url = f"/admin/auth/group/{kam_role.pk}/change/"
    answer = http.post(url, {"name": Role.KAM, "permissions": [anything.pk]})
    assert answer.status_code == 403
    assert http.post("/admin/auth/group/add/", {"name": "root-like"}).status_code == 403
    assert set(kam_role.permissions.values_list("pk", flat=True)) == before
    assert not Group.objects.filter(name="root-like").exists()


@pytest.mark.parametrize("whose", ["kam", "chair"])
def test_changepassword_sets_nobodys_password(kam: User, chair: User, whose: str) -> None:
    target = {"kam": kam, "chair": chair}[whose]
    before = User.objects.get(pk=target.pk).password
    with pytest.raises(CommandError, match="does not set anyone's password"):
        call_command("changepassword", target.username)
    assert User.objects.get(pk=target.pk).password == before
