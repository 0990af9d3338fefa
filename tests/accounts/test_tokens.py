"""API tokens: asked for with a password, kept only as a digest, expiring by themselves, listed
and revoked by their owner (and only them), revoked at logout, password change and
deactivation. Without credentials the API answers 401 naming the scheme; writes are throttled."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.test import Client as HttpClient
from django.utils import timezone
from knox.models import AuthToken

from accounts.models import User
from tests.accounts.signin import signed_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
NEW = "Another-l0ng-secret"


def token_for(user: User) -> str:
    credentials = {"username": user.username, "password": PASSWORD}
    answer = HttpClient().post("/api/auth/token/", credentials)
    assert answer.status_code == 200, answer.content
    return answer.json()["token"]


def api(key: str) -> HttpClient:
    return HttpClient(headers={"Authorization": f"Token {key}"})


def works(key: str) -> bool:
    return api(key).get("/api/clients/").status_code == 200


@pytest.mark.parametrize("path", ["/api/clients/", "/api/schema/", "/api/auth/tokens/"])
def test_without_credentials_the_api_answers_401_naming_the_scheme(path: str) -> None:
    answer = HttpClient().get(path)
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"] == "Token"


def test_a_signed_in_user_without_the_right_still_gets_403(client_as, outsider) -> None:
    assert client_as(outsider).get("/api/clients/").status_code == 403


def test_a_token_is_kept_only_as_its_digest(kam) -> None:
    key = token_for(kam)
    stored = AuthToken.objects.get(user=kam)
    assert key not in {stored.digest, stored.token_key}
    assert len(stored.token_key) < len(key)


def test_a_token_expires_by_itself(kam, settings) -> None:
    key = token_for(kam)
    assert works(key)
    ttl = settings.REST_KNOX["TOKEN_TTL"]
    with time_machine.travel(timezone.now() + ttl + datetime.timedelta(minutes=1)):
        answer = api(key).get("/api/clients/")
    assert answer.status_code == 401


def test_logout_revokes_the_token_it_came_with_and_logout_all_every_one(kam) -> None:
    first, second, third = token_for(kam), token_for(kam), token_for(kam)
    assert api(first).post("/api/auth/logout/").status_code == 204
    assert not works(first)
    assert works(second) and works(third)
    assert api(second).post("/api/auth/logout-all/").status_code == 204
    assert not works(second) and not works(third)


def test_i_list_and_revoke_my_tokens_and_nobody_elses(kam, kam2) -> None:
    mine, other = token_for(kam), token_for(kam2)
    listed = api(mine).get("/api/auth/tokens/").json()["results"]
    assert len(listed) == 1
    (row,) = listed
    assert row["current"] is True
    assert mine.startswith(row["starts_with"]) and len(row["starts_with"]) == 8

    theirs = AuthToken.objects.get(user=kam2).digest
    assert api(mine).delete(f"/api/auth/tokens/{theirs}/").status_code == 404
    assert works(other)
    assert api(mine).delete(f"/api/auth/tokens/{row['id']}/").status_code == 204
    assert not works(mine)


def test_my_account_page_lists_my_tokens_and_revokes_them(client_as, kam, kam2) -> None:
    key, other = token_for(kam), token_for(kam2)
    http = client_as(kam)
    page = http.get("/account/").content.decode()
    assert key[:8] in page
    assert other[:8] not in page

    theirs = AuthToken.objects.get(user=kam2).digest
    http.post("/account/tokens/revoke/", {"digest": theirs})
    assert works(other)
    http.post("/account/tokens/revoke/", {"digest": AuthToken.objects.get(user=kam).digest})
    assert not works(key)


def test_a_password_change_revokes_my_tokens(kam) -> None:
    key = token_for(kam)
    http = signed_in(kam.username, PASSWORD)
    http.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
    )
    assert not works(key)


def test_the_admins_change_password_link_is_the_same_page(client_as, administrator) -> None:
    answer = client_as(administrator).get("/admin/password_change/")
    assert answer.status_code == 302
    assert answer["Location"] == "/account/password/"


def test_a_password_set_through_the_link_revokes_my_tokens(kam) -> None:
    key = token_for(kam)
    stranger = HttpClient()
    stranger.post("/password/forgotten/", {"email": kam.email})
    link = next(line for line in mail.outbox[0].body.splitlines() if "/password/" in line)
    form = stranger.get(link.removeprefix("http://127.0.0.1:8000"), follow=True)
    stranger.post(form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})
    assert signed_in(kam.username, NEW)
    assert not works(key)


def test_deactivation_revokes_the_tokens(client_as, administrator, kam) -> None:
    key = token_for(kam)
    http = client_as(administrator)
    answer = http.post(
        f"/admin/accounts/user/{kam.pk}/change/",
        {
            "username": kam.username,
            "first_name": kam.first_name,
            "last_name": kam.last_name,
            "groups": list(kam.groups.values_list("pk", flat=True)),
            "_save": "Save",
        },
    )
    assert answer.status_code == 302
    assert not AuthToken.objects.filter(user=kam).exists()
    assert not works(key)


def test_a_token_of_someone_deactivated_any_way_is_refused(kam) -> None:
    key = token_for(kam)
    User.objects.filter(pk=kam.pk).update(is_active=False)
    assert api(key).get("/api/clients/").status_code == 401


def test_writes_are_throttled_reads_are_not(client_as, kam, account_of_kam, settings) -> None:
    settings.SKAM_API_WRITE_RATE = "3/minute"
    http = client_as(kam)
    try:
        for _ in range(5):
            assert http.get("/api/needs/").status_code == 200
        made = [
            http.post(
                "/api/needs/",
                {"client": account_of_kam.pk, "name": f"Need {n}", "weight": 2},
                content_type="application/json",
            ).status_code
            for n in range(4)
        ]
        assert made == [201, 201, 201, 429]
        assert http.get("/api/needs/").status_code == 200
    finally:
        cache.delete(f"throttle_writes_{kam.pk}")
