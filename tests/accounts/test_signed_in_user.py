"""Who is signed in, and what they may do, is read afresh on every request: whatever changes
it shows on their very next request, however it was written, and nothing about the user is
kept in the cache (only the session is, with Redis)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.test import override_settings
from django.urls import include, path, reverse

from accounts.models import User
from accounts.roles import Role
from tests.queries import SIGN_IN_QUERIES, USER_QUERIES

pytestmark = pytest.mark.django_db
DASHBOARD = "/committee/dashboards/"
EMPTY_PAGE = "/test/empty/"
WHO_PAGE = "/test/who/"


def empty_page(request: object) -> object:
    """A signed-in page with no content of its own: the layout, its navigation checked
    against the user's permissions."""
    return render(request, "base.html", {})


def who_page(request: object) -> HttpResponse:
    """A signed-in answer that asks no permission."""
    return HttpResponse(str(request.user), content_type="text/plain")


urlpatterns = [
    path(EMPTY_PAGE.lstrip("/"), empty_page),
    path(WHO_PAGE.lstrip("/"), who_page),
    path("", include("skam.urls")),
]


def test_a_role_taken_away_shows_on_the_next_request(client_as, director):
    http = client_as(director)
    assert http.get(DASHBOARD).status_code == 200
    director.groups.clear()
    assert http.get(DASHBOARD).status_code == 403


def test_a_permission_taken_from_a_role_shows_on_the_next_request(client_as, director):
    http = client_as(director)
    assert http.get(DASHBOARD).status_code == 200
    Group.objects.get(name=Role.DIRECTOR).permissions.remove(
        Permission.objects.get(codename="view_dashboard")
    )
    assert http.get(DASHBOARD).status_code == 403


def test_a_permission_deleted_in_bulk_shows_on_the_next_request(client_as, director):
    """A bulk delete of the rows linking a role to a permission sends no ``m2m_changed``."""
    http = client_as(director)
    assert http.get(DASHBOARD).status_code == 200
    Group.permissions.through.objects.filter(
        group__name=Role.DIRECTOR, permission__codename="view_dashboard"
    ).delete()
    assert http.get(DASHBOARD).status_code == 403


def test_a_role_given_shows_on_the_next_request(client_as, outsider):
    http = client_as(outsider)
    assert http.get(DASHBOARD).status_code == 403
    outsider.groups.add(Group.objects.get(name=Role.DIRECTOR))
    assert http.get(DASHBOARD).status_code == 200


def test_a_deactivated_user_is_signed_out_on_the_next_request(client_as, director):
    http = client_as(director)
    assert http.get(DASHBOARD).status_code == 200
    director.is_active = False
    director.save()
    response = http.get(DASHBOARD)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_user_deactivated_by_an_update_is_signed_out_on_the_next_request(client_as, director):
    """``QuerySet.update`` sends no signal, and none is needed."""
    http = client_as(director)
    assert http.get(DASHBOARD).status_code == 200
    assert User.objects.filter(pk=director.pk).update(is_active=False) == 1
    response = http.get(DASHBOARD)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_changed_password_ends_the_other_sessions(client_as, director):
    http = client_as(director)
    assert http.get(DASHBOARD).status_code == 200
    director.set_password("a new secret phrase")
    director.save()
    assert http.get(DASHBOARD).status_code == 302


def test_a_renamed_user_is_shown_by_the_new_name(client_as, director):
    http = client_as(director)
    http.get("/")
    director.first_name, director.last_name = "Nina", "Renamed"
    director.save()
    assert 'data-testid="current-user">Nina Renamed' in http.get("/").text


def _everything_cached() -> bytes:
    """Every value in the default cache, as stored (pickled). With Redis, the keys under the
    cache's own prefix: the same database also holds the broker's keys (sets and lists, which
    are not the cache's and cannot be read with GET)."""
    if hasattr(cache, "_cache") and hasattr(cache._cache, "get_client"):  # Redis
        client = cache._cache.get_client()
        keys = client.scan_iter(match=f"{cache.key_prefix}:*", count=1000)
        return b"".join(client.get(key) or b"" for key in keys)
    return b"".join(value for value in cache._cache.values())  # local memory


def test_the_password_hash_is_never_put_in_the_cache(client_as, director):
    http = client_as(director)
    assert http.get(DASHBOARD).status_code == 200
    assert http.get("/").status_code == 200
    assert director.password.encode() not in _everything_cached()


@override_settings(ROOT_URLCONF=__name__)
def test_a_signed_in_empty_page_costs_the_sign_in_queries(
    client_as, director, django_assert_num_queries
):
    """What every signed-in page pays before its own work (``tests/queries.py``): the user and
    their permissions from the database; the session from the cache with Redis."""
    http = client_as(director)
    for _request in range(2):  # the first request costs no more than the next
        with django_assert_num_queries(SIGN_IN_QUERIES):
            assert http.get(EMPTY_PAGE).status_code == 200


@override_settings(ROOT_URLCONF=__name__)
def test_a_signed_in_answer_asking_no_permission_costs_the_user_queries(
    client_as, director, django_assert_num_queries
):
    http = client_as(director)
    with django_assert_num_queries(USER_QUERIES):
        assert http.get(WHO_PAGE).text == str(director)
