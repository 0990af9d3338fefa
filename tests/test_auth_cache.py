"""Signing in from the cache (accounts/auth.py): whatever changes who someone is or what they
may do shows on their very next request."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from accounts.roles import Role

pytestmark = pytest.mark.django_db
DASHBOARD = "/committee/dashboards/"


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
