"""Single sign-on, below the protocol: who the provider's claims make signed in, with which
roles, and whom they never reach (a deactivated person, a local account by its address, a
committee seat or the administrator's role); the pages that are there only while it is on;
logout at the provider; and the settings that switch it on. The protocol itself runs against
a real provider in tests/browser/test_sso.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from axes.models import AccessAttempt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import SuspiciousOperation
from django.test import Client as HttpClient

from accounts import sso
from accounts.models import User
from accounts.roles import SSO_ROLES, Role
from tests.accounts.sso import CLIENT_ID, sso_switched_on
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
ISSUER = "https://id.acme.example/realms/staff"
ENDPOINTS = {
    "authorization_endpoint": f"{ISSUER}/auth",
    "token_endpoint": f"{ISSUER}/token",
    "userinfo_endpoint": f"{ISSUER}/userinfo",
    "jwks_uri": f"{ISSUER}/certs",
    "end_session_endpoint": f"{ISSUER}/logout",
}


@pytest.fixture
def sso_on(settings: Any) -> Any:
    sso_switched_on(settings, issuer=ISSUER, endpoints=ENDPOINTS)
    return settings


def claims(sub: str = "f3c1-77", groups: list[str] | None = None, **more: Any) -> dict[str, Any]:
    return {
        "sub": sub,
        "email": "nina.orlova@acme.example",
        "email_verified": True,
        "given_name": "Nina",
        "family_name": "Orlova",
        "preferred_username": "nina",
        "groups": ["skam-kams"] if groups is None else groups,
        **more,
    }


def roles_of(person: User) -> set[str]:
    return set(person.groups.values_list("name", flat=True))


def refusal(**given: Any) -> str:
    with pytest.raises(sso.SignInRefused) as refused:
        sso.sso_person_for_claims(**given)
    return str(refused.value)


def test_a_first_sign_in_creates_the_person_with_the_role_of_their_group(sso_on: Any) -> None:
    person = sso.sso_person_for_claims(claims=claims(groups=["skam-kams", "canteen"]))

    assert (person.username, person.get_full_name()) == ("nina", "Nina Orlova")
    assert (person.sso_issuer, person.sso_subject) == (ISSUER, "f3c1-77")
    assert roles_of(person) == {Role.KAM}
    assert not (person.is_staff or person.is_superuser or person.has_usable_password())


def test_the_roles_follow_the_groups_at_every_sign_in(sso_on: Any) -> None:
    person = sso.sso_person_for_claims(claims=claims(groups=["skam-kams"]))
    assert sso.sso_person_for_claims(claims=claims(groups=["sales-heads"])) == person
    assert roles_of(person) == {Role.DIRECTOR}
    sso.sso_person_for_claims(claims=claims(groups=[]))
    assert roles_of(person) == set()
    sso.sso_person_for_claims(claims={k: v for k, v in claims().items() if k != "groups"})
    assert roles_of(person) == set(), "no claim at all gives no role"


def test_a_nested_claim_such_as_keycloaks_realm_roles_gives_roles(settings: Any) -> None:
    sso_switched_on(settings, issuer=ISSUER, endpoints=ENDPOINTS, role_claim="realm_access.roles")
    person = sso.sso_person_for_claims(
        claims=claims(groups=[], realm_access={"roles": ["skam-directors"]})
    )
    assert roles_of(person) == {Role.DIRECTOR}


def test_the_provider_never_touches_a_seat_nor_the_administrators_role(settings: Any) -> None:
    # Even a map that names them (the settings refuse it) gives nothing but KAM and director.
    sso_switched_on(
        settings,
        issuer=ISSUER,
        endpoints=ENDPOINTS,
        role_map={"board": ("committee_chair", "kam"), "it": ("administrator",)},
    )
    person = sso.sso_person_for_claims(claims=claims(groups=["board", "it"]))
    assert roles_of(person) == {Role.KAM}
    # Seated by the committee and appointed administrator in SKAM: the next sign-in keeps both.
    person.groups.add(*django_group(Role.COMMITTEE_MEMBER, Role.ADMINISTRATOR))
    sso.sso_person_for_claims(claims=claims(groups=[]))
    assert roles_of(person) == {Role.COMMITTEE_MEMBER, Role.ADMINISTRATOR}


def django_group(*names: str) -> list[Group]:
    return list(Group.objects.filter(name__in=names))


def test_without_a_role_claim_the_administrator_keeps_giving_roles(settings: Any) -> None:
    sso_switched_on(settings, issuer=ISSUER, endpoints=ENDPOINTS, role_claim="", role_map={})
    person = sso.sso_person_for_claims(claims=claims())
    person.groups.add(*django_group(Role.KAM))
    sso.sso_person_for_claims(claims=claims(groups=[]))
    assert roles_of(person) == {Role.KAM}


def test_a_deactivated_person_is_refused_and_left_as_they_were(sso_on: Any) -> None:
    person = sso.sso_person_for_claims(claims=claims(groups=["skam-kams"]))
    User.objects.filter(pk=person.pk).update(is_active=False)

    assert "deactivated" in refusal(claims=claims(groups=[], given_name="Changed"))
    person.refresh_from_db()
    assert (roles_of(person), person.first_name) == ({Role.KAM}, "Nina")


def test_an_address_of_a_local_account_is_refused_not_taken_over(sso_on: Any) -> None:
    local = UserFactory(username="norlova", email="Nina.Orlova@acme.example", role=Role.KAM)

    assert "signs in with its own password" in refusal(claims=claims())
    local.refresh_from_db()
    assert (local.sso_subject, local.has_usable_password()) == ("", True)
    assert not User.objects.filter(sso_subject="f3c1-77").exists()


def test_linking_by_address_takes_a_verified_address_of_a_kam_or_director(settings: Any) -> None:
    sso_switched_on(settings, issuer=ISSUER, endpoints=ENDPOINTS, link_by_email=True)
    local = UserFactory(username="norlova", email="nina.orlova@acme.example", role=Role.DIRECTOR)
    assert "own password" in refusal(claims=claims(email_verified=False))

    assert sso.sso_person_for_claims(claims=claims(groups=["skam-kams"])) == local
    local.refresh_from_db()
    assert local.sso_subject == "f3c1-77"
    assert not local.has_usable_password(), "from now on through the provider only"
    assert roles_of(local) == {Role.KAM}


@pytest.mark.parametrize(
    "above",
    [
        {"role": Role.COMMITTEE_MEMBER},
        {"role": Role.COMMITTEE_CHAIR},
        {"role": Role.ADMINISTRATOR},
        {"is_staff": True},
        {"is_superuser": True},
    ],
    ids=["member", "chair", "administrator", "staff", "superuser"],
)
def test_linking_by_address_never_reaches_anyone_above_a_kam(
    settings: Any, above: dict[str, Any]
) -> None:
    sso_switched_on(settings, issuer=ISSUER, endpoints=ENDPOINTS, link_by_email=True)
    local = UserFactory(username="top", email="nina.orlova@acme.example", **above)

    assert "own password" in refusal(claims=claims())
    local.refresh_from_db()
    assert (local.sso_subject, local.has_usable_password()) == ("", True)


def test_a_taken_user_name_is_not_a_match(sso_on: Any) -> None:
    local = UserFactory(username="nina", email="someone.else@acme.example")
    person = sso.sso_person_for_claims(claims=claims())
    assert person != local
    assert person.username.startswith("nina-")


def test_with_creation_off_an_unknown_person_is_refused(settings: Any) -> None:
    sso_switched_on(settings, issuer=ISSUER, endpoints=ENDPOINTS, create_users=False)
    assert "no account for you" in refusal(claims=claims())
    assert not User.objects.filter(sso_subject="f3c1-77").exists()


def test_a_returning_person_costs_a_few_queries(
    sso_on: Any, django_assert_max_num_queries: Any
) -> None:
    sso.sso_person_for_claims(claims=claims(groups=["skam-kams"]))
    with django_assert_max_num_queries(4):  # the person, their roles, and the savepoint
        sso.sso_person_for_claims(claims=claims(groups=["skam-kams", "canteen"]))
    with django_assert_max_num_queries(9):  # and a role given, another taken away
        sso.sso_person_for_claims(claims=claims(groups=["sales-heads"]))


def test_the_login_page_offers_the_provider_only_while_it_is_on(settings: Any) -> None:
    http = HttpClient()
    assert "Sign in with" not in http.get("/login/").content.decode()
    assert http.get("/oidc/authenticate/").status_code == 404
    assert http.get("/oidc/callback/?code=x&state=y").status_code == 404

    sso_switched_on(settings, issuer=ISSUER, endpoints=ENDPOINTS)
    page = http.get("/login/").content.decode()
    assert "Sign in with Acme" in page
    assert 'id="id_password"' in page, "local passwords still sign in"


def test_signing_in_goes_to_the_provider_with_state_nonce_and_pkce(sso_on: Any) -> None:
    answer = HttpClient().get("/oidc/authenticate/?next=/committee/")
    assert answer.status_code == 302
    where = urlsplit(answer["Location"])
    query = parse_qs(where.query)
    assert f"{where.scheme}://{where.netloc}{where.path}" == ENDPOINTS["authorization_endpoint"]
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == ["http://testserver/oidc/callback/"]
    assert {"state", "nonce", "code_challenge"} <= query.keys()


def test_a_provider_that_cannot_be_reached_is_told_on_the_login_page(settings: Any) -> None:
    sso_switched_on(settings, issuer="http://127.0.0.1:9")  # discovery: nobody listens
    answer = HttpClient().get("/oidc/authenticate/", follow=True)
    assert answer.redirect_chain[-1][0] == "/login/"
    assert "cannot be reached" in answer.content.decode()


def test_a_provider_down_at_the_callback_is_told_and_locks_nobody_out(settings: Any) -> None:
    down = "http://127.0.0.1:9"  # nothing listens there
    sso_switched_on(
        settings,
        issuer=down,
        endpoints={name: f"{down}/{name}" for name in ENDPOINTS},
    )
    http = HttpClient()
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        start = http.get("/oidc/authenticate/")
        state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
        answer = http.get(f"/oidc/callback/?code=a-code&state={state}", follow=True)
        assert answer.redirect_chain[-1][0] == "/login/"
        assert "did not answer as expected" in answer.content.decode()
    assert not AccessAttempt.objects.exists()


def test_a_callback_with_an_unknown_state_is_a_clear_4xx(sso_on: Any) -> None:
    http = HttpClient()
    http.get("/oidc/authenticate/")
    assert http.get("/oidc/callback/?code=abc&state=forged").status_code == 400


def test_logging_out_ends_the_providers_session_too(sso_on: Any) -> None:
    person = sso.sso_person_for_claims(claims=claims())
    http = HttpClient()
    http.force_login(person, backend="accounts.sso.ProviderBackend")
    session = http.session
    session["oidc_id_token"] = "the-id-token"
    session.save()

    answer = http.post("/logout/")
    where = urlsplit(answer["Location"])
    assert f"{where.scheme}://{where.netloc}{where.path}" == ENDPOINTS["end_session_endpoint"]
    assert parse_qs(where.query) == {
        "id_token_hint": ["the-id-token"],
        "client_id": [CLIENT_ID],
        "post_logout_redirect_uri": ["http://testserver/login/"],
    }
    assert "_auth_user_id" not in http.session


def test_a_password_sign_in_logs_out_at_home_only(sso_on: Any, kam: User) -> None:
    http = HttpClient()
    http.post("/login/", {"username": kam.username, "password": PASSWORD})
    assert http.post("/logout/")["Location"] == "/login/"


def test_who_signs_in_through_the_provider_gets_no_password_link(sso_on: Any) -> None:
    person = sso.sso_person_for_claims(claims=claims())
    HttpClient().post("/password/forgotten/", {"email": person.email})
    assert mail.outbox == []


def test_the_settings_and_the_code_agree_on_the_roles_the_provider_may_give() -> None:
    assert set(django_settings.SSO_MAPPABLE_ROLES) == set(SSO_ROLES)
    assert django_settings.SKAM_SSO is False, "off with no OIDC_ISSUER, as in the test run"


BASE_DIR = Path(__file__).resolve().parents[2]


def settings_loaded(tmp_path: Path, code: str, **variables: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OIDC_")}
    env.update(DJANGO_SETTINGS_MODULE="skam.settings", SKAM_VAR_DIR=str(tmp_path), **variables)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_environment_switches_it_on_and_refuses_a_map_to_a_seat(tmp_path: Path) -> None:
    on = {
        "OIDC_ISSUER": "https://id.acme.example/realms/staff",
        "OIDC_CLIENT_ID": "skam",
        "OIDC_CLIENT_SECRET": "s3cret",
        "OIDC_ROLE_CLAIM": "groups",
        "OIDC_ROLE_MAP": "skam-kams=kam, sales-heads=director",
    }
    shown = (
        "from django.conf import settings as s; "
        "print(s.SSO_ROLE_MAP, s.AUTHENTICATION_BACKENDS[-1], "
        "s.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action'][-1])"
    )
    loaded = settings_loaded(tmp_path, shown, **on)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split() == [
        "{'skam-kams':",
        "('kam',),",
        "'sales-heads':",
        "('director',)}",
        "accounts.sso.ProviderBackend",
        "https://id.acme.example",
    ]

    refused = settings_loaded(tmp_path, "", **{**on, "OIDC_ROLE_MAP": "board=committee_chair"})
    assert refused.returncode != 0
    assert "committee seats follow the committee's decisions" in refused.stderr


@pytest.fixture(scope="module")
def signing_keys() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, public.decode()


def id_token(key: rsa.RSAPrivateKey, **claims: Any) -> str:
    payload = {"iss": ISSUER, "aud": CLIENT_ID, "sub": "f3c1-77", "nonce": "n-1", **claims}
    return jwt.encode(payload, key, algorithm="RS256")


@pytest.mark.parametrize(
    "forged",
    [{"iss": "https://elsewhere.example"}, {"aud": "another-app"}, {"nonce": "replayed"}],
    ids=["another issuer", "another client", "another nonce"],
)
def test_an_id_token_not_the_issuers_for_skam_is_refused(
    sso_on: Any, signing_keys: tuple[rsa.RSAPrivateKey, str], forged: dict[str, str]
) -> None:
    key, public = signing_keys
    backend = sso.ProviderBackend()
    backend.OIDC_RP_IDP_SIGN_KEY = public
    assert backend.verify_token(id_token(key), nonce="n-1")["sub"] == "f3c1-77"

    with pytest.raises(SuspiciousOperation):
        backend.verify_token(id_token(key, **forged), nonce="n-1")
    someone_else = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(SuspiciousOperation):
        backend.verify_token(id_token(someone_else), nonce="n-1")
