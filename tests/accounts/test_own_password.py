"""A password is its owner's: they change it signed in, giving the current one, or set it
through the link sent to their own address; every other session of theirs ends with it."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client as HttpClient

from accounts.models import User
from tests.accounts.signin import signed_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
NEW = "Another-l0ng-secret"


def test_my_account_shows_who_i_am_and_where_to_change_my_password(client_as, kam: User):
    page = client_as(kam).get("/account/").content.decode()
    assert kam.email in page
    assert "Key-account manager" in page
    assert 'href="/account/password/"' in page


def test_i_change_my_password_and_my_other_sessions_end(kam: User) -> None:
    here, elsewhere = signed_in(kam.username, PASSWORD), signed_in(kam.username, PASSWORD)
    wrong = here.post(
        "/account/password/",
        {"old_password": "not it", "new_password1": NEW, "new_password2": NEW},
    )
    assert wrong.status_code == 200
    assert "Your old password was entered incorrectly" in wrong.content.decode()

    answer = here.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
    )
    assert answer.status_code == 302
    assert here.get("/").status_code == 200  # this session goes on
    assert elsewhere.get("/").status_code == 302  # the other one is signed out
    assert signed_in(kam.username, NEW)


def test_the_link_goes_to_the_owner_only_and_works_once(kam: User, director: User) -> None:
    stranger = HttpClient()
    assert stranger.post("/password/forgotten/", {"email": kam.email}).status_code == 302
    assert stranger.post("/password/forgotten/", {"email": "nobody@example.com"}).status_code == 302
    (letter,) = mail.outbox  # nothing for an unknown address, and the answer is the same
    assert letter.to == [kam.email]
    assert kam.username in letter.body

    path = next(line for line in letter.body.splitlines() if "/password/" in line)
    path = path.removeprefix("http://127.0.0.1:8000")
    form = stranger.get(path, follow=True)
    url = form.redirect_chain[-1][0]
    assert stranger.post(url, {"new_password1": NEW, "new_password2": NEW}).status_code == 302
    assert signed_in(kam.username, NEW)

    again = HttpClient().get(path, follow=True).content.decode()
    assert "no longer valid" in again


def test_a_deactivated_person_gets_no_link(kam: User) -> None:
    kam.is_active = False
    kam.save()
    HttpClient().post("/password/forgotten/", {"email": kam.email})
    assert mail.outbox == []


def test_the_link_is_built_on_skams_address_not_the_requests_host(kam: User, settings) -> None:
    settings.ALLOWED_HOSTS = ["*"]
    HttpClient().post("/password/forgotten/", {"email": kam.email}, HTTP_HOST="evil.example")
    (letter,) = mail.outbox
    assert "evil.example" not in letter.body
    assert "http://127.0.0.1:8000/password/" in letter.body
