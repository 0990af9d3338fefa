"""Single sign-on with the company's OpenID Connect provider, on mozilla-django-oidc.

Off unless ``OIDC_ISSUER`` is set (``skam/settings.py``, the README). What it decides:

- **Who you are** is the provider's subject (``sub``), stored on the person with the issuer:
  never the e-mail address alone, which a provider may hand to someone else. A first sign-in
  creates the person (``OIDC_CREATE_USERS``); one whose e-mail address belongs to a local
  account is refused, or linked to it when ``OIDC_LINK_BY_EMAIL`` is on, the provider verified
  the address, and the account is nobody's above the KAMs and directors (a superuser, staff,
  the administrator, a committee seat: they keep their password and are never linked).
- **Once linked, through the provider only**: such a person holds no SKAM password and is
  offered no link to set one, so leaving the company at the provider leaves SKAM too.
- **Roles**: with ``OIDC_ROLE_CLAIM`` and ``OIDC_ROLE_MAP`` the provider's groups give the roles
  in ``SSO_ROLES`` (KAM, director) at every sign-in, and a group taken away there takes the
  role away here; the other roles are never touched (a committee seat follows the committee's
  decisions, the administrator is appointed in SKAM) and nobody becomes staff or superuser.
- **A deactivated person** is refused, whatever the provider says.
- **Logout** ends the provider's session too when it has an end-session endpoint.

The record names these changes' path "single sign-on" (``governance.record.context``).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.models import Group
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from accounts.models import User
from accounts.roles import COMMITTEE_ROLES, SSO_ROLES, Role

logger = logging.getLogger(__name__)

DISCOVERY_PATH = "/.well-known/openid-configuration"
ENDPOINTS = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")

# The provider's discovery document, per issuer, once read: it names the endpoints, which
# change only with the provider's own configuration (a restart of SKAM reads it again).
_discovered: dict[str, dict[str, str]] = {}


class SignInRefused(Exception):
    """The provider vouched for someone SKAM will not sign in; the message says why."""


class ProviderUnreachable(Exception):
    """The provider could not be asked, or answered what no provider should."""


def sso_enabled() -> bool:
    return bool(getattr(settings, "SKAM_SSO", False))


def provider_endpoints() -> dict[str, str]:
    """The provider's endpoints: the explicit ``OIDC_*_ENDPOINT`` ones, or its discovery
    document's, whose issuer must be ``OIDC_ISSUER`` exactly."""
    explicit = settings.SSO_ENDPOINTS
    if explicit["authorization_endpoint"]:
        return explicit
    endpoints = dict(_discovery())
    if explicit["end_session_endpoint"]:
        endpoints["end_session_endpoint"] = explicit["end_session_endpoint"]
    return endpoints


def _discovery() -> dict[str, str]:
    """The endpoints named by the discovery document of ``OIDC_ISSUER``, read once."""
    issuer = settings.OIDC_ISSUER
    if issuer not in _discovered:
        try:
            answer = requests.get(
                issuer.rstrip("/") + DISCOVERY_PATH,
                timeout=settings.OIDC_TIMEOUT,
                allow_redirects=False,
            )
            answer.raise_for_status()
            document = answer.json()
        except (requests.RequestException, ValueError) as error:
            raise ProviderUnreachable(f"discovery at {issuer}: {error}") from error
        if not isinstance(document, dict) or document.get("issuer") != issuer:
            raise ProviderUnreachable(f"the discovery document at {issuer} names another issuer")
        if not all(isinstance(document.get(name), str) for name in ENDPOINTS):
            raise ProviderUnreachable(f"the discovery document at {issuer} lacks an endpoint")
        _discovered[issuer] = {
            name: document.get(name) or "" for name in (*ENDPOINTS, "end_session_endpoint")
        }
    return _discovered[issuer]


def _claim(claims: dict[str, Any], path: str) -> Any:
    """A claim by its name, or by a dotted path into nested claims (``realm_access.roles``)."""
    value: Any = claims
    for name in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    return value


def sso_roles_from_claims(claims: dict[str, Any]) -> set[str] | None:
    """The roles the provider's groups give (``OIDC_ROLE_MAP``), or None when the provider
    does not give roles. A claim that is absent or not a list gives none."""
    claim = settings.SSO_ROLE_CLAIM
    if not claim:
        return None
    groups = _claim(claims, claim)
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list):
        groups = []
    return {
        role
        for group in groups
        if isinstance(group, str)
        for role in settings.SSO_ROLE_MAP.get(group, ())
        if role in SSO_ROLES
    }


def _provider_roles() -> set[str]:
    """The roles the provider keeps: those its map gives, and only ever KAM and director."""
    return {role for roles in settings.SSO_ROLE_MAP.values() for role in roles} & SSO_ROLES


def sso_roles_follow(*, person: User, claims: dict[str, Any]) -> None:
    """Give ``person`` exactly the provider's roles among those it keeps: added when a group
    gives one, taken away when none does any more. Other roles stay as they are."""
    wanted = sso_roles_from_claims(claims)
    if wanted is None:
        return
    kept = _provider_roles()
    held = set(person.groups.filter(name__in=kept).values_list("name", flat=True))
    if wanted - held:
        person.groups.add(*Group.objects.filter(name__in=wanted - held))
    if held - wanted:
        person.groups.remove(*Group.objects.filter(name__in=held - wanted))


def _above_kams_and_directors(person: User) -> bool:
    """Whom an e-mail address must never hand to the provider: superusers, staff, the
    administrator and committee members keep their own password."""
    if person.is_superuser or person.is_staff:
        return True
    names = set(person.groups.values_list("name", flat=True))
    return bool(names & (COMMITTEE_ROLES | {Role.ADMINISTRATOR}))


def _username_for(claims: dict[str, Any], subject: str) -> str:
    """A free user name: the provider's ``preferred_username`` or the address's local part
    when valid and free, else one made from the subject. Never a match with anyone."""
    digest = hashlib.sha256(f"{settings.OIDC_ISSUER}|{subject}".encode()).hexdigest()[:10]
    email = claims.get("email") if isinstance(claims.get("email"), str) else ""
    for candidate in (claims.get("preferred_username"), email.partition("@")[0]):
        if not isinstance(candidate, str) or not candidate:
            continue
        candidate = candidate[:150]
        try:
            User.username_validator(candidate)
        except ValidationError:
            continue
        if not User.objects.filter(username__iexact=candidate).exists():
            return candidate
        return f"{candidate[:138]}-{digest}"
    return f"sso-{digest}"


def _text_claim(claims: dict[str, Any], name: str, limit: int) -> str:
    value = claims.get(name)
    return value[:limit] if isinstance(value, str) else ""


def _details_follow(person: User, claims: dict[str, Any]) -> None:
    """Names and address as the provider says, saved only when they changed."""
    fresh = {
        "first_name": _text_claim(claims, "given_name", 150) or person.first_name,
        "last_name": _text_claim(claims, "family_name", 150) or person.last_name,
        "email": _text_claim(claims, "email", 254) or person.email,
    }
    changed = [field for field, value in fresh.items() if getattr(person, field) != value]
    for field in changed:
        setattr(person, field, fresh[field])
    if changed:
        person.save(update_fields=changed)


def _linkable_by_email(claims: dict[str, Any]) -> list[User]:
    email = claims.get("email")
    if not isinstance(email, str) or not email:
        return []
    return list(User.objects.filter(email__iexact=email))


def sso_person_for_claims(*, claims: dict[str, Any]) -> User:
    """The person the provider's ``claims`` name, matched by subject, else linked by e-mail or
    created as configured, with their roles as the provider gives them. Refuses (with the
    reason) a deactivated person, an address taken by a local account, and anyone when no
    account may be created."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise ProviderUnreachable("the claims name no subject")
    issuer = settings.OIDC_ISSUER
    with transaction.atomic():
        person = (
            User.objects.select_for_update().filter(sso_issuer=issuer, sso_subject=subject).first()
        )
        if person is None:
            person = _first_sign_in(claims=claims, issuer=issuer, subject=subject)
        if not person.is_active:
            raise SignInRefused(_("Your SKAM account is deactivated. Ask the administrator."))
        _details_follow(person, claims)
        sso_roles_follow(person=person, claims=claims)
    return person


def _first_sign_in(*, claims: dict[str, Any], issuer: str, subject: str) -> User:
    """Link the local account the verified address names, or create one, or refuse."""
    same_address = _linkable_by_email(claims)
    if same_address:
        (person, *others) = same_address
        if (
            others
            or not settings.SSO_LINK_BY_EMAIL
            or claims.get("email_verified") is not True
            or person.signs_in_through_provider()
            or _above_kams_and_directors(person)
        ):
            raise SignInRefused(
                _(
                    "SKAM has an account with your e-mail address that signs in with its own "
                    "password. Sign in with that password, or ask the administrator."
                )
            )
        if not person.is_active:
            raise SignInRefused(_("Your SKAM account is deactivated. Ask the administrator."))
        person.sso_issuer, person.sso_subject = issuer, subject
        person.set_unusable_password()
        person.save(update_fields=["sso_issuer", "sso_subject", "password"])
        logger.info("single sign-on linked %s to subject %s by e-mail", person.username, subject)
        return person
    if not settings.SSO_CREATE_USERS:
        raise SignInRefused(_("SKAM has no account for you yet. Ask the administrator to add you."))
    person = User(
        username=_username_for(claims, subject),
        email=_text_claim(claims, "email", 254),
        sso_issuer=issuer,
        sso_subject=subject,
    )
    person.set_unusable_password()
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError as error:
        # The same person's other tab got there first, or the user name was taken meanwhile.
        raise ProviderUnreachable("created meanwhile; try again") from error
    logger.info("single sign-on created %s for subject %s", person.username, subject)
    return person


def axes_leaves_provider_sign_ins(request: HttpRequest, credentials: dict | None) -> bool:
    """django-axes' ``AXES_WHITELIST_CALLABLE``: a sign-in through the provider (a callback's
    nonce, no password) is neither counted nor locked out. No password of SKAM's is guessed
    there (the provider guards its own), and with no user name every refusal would count
    against the address alone, so that a few deactivated people retrying behind one proxy
    would lock everyone out of the provider's sign-in. Password sign-ins are counted as ever."""
    given = credentials or {}
    return "nonce" in given and "password" not in given and "username" not in given


class ProviderBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's code flow with SKAM's matching (``sso_person_for_claims``): the
    ID token's issuer and audience checked, the endpoints read when first needed, and every
    refusal told on the login page instead of a bare failure."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # mozilla-django-oidc reads the endpoints here; SKAM reads them only on a sign-in
        # through the provider, so that a password sign-in never waits for it.
        self.UserModel = User

    # mozilla-django-oidc's names, read from the settings (and the endpoints from the
    # provider) when a sign-in needs them.
    OIDC_RP_IDP_SIGN_KEY = None

    @property
    def OIDC_RP_CLIENT_ID(self) -> str:
        return settings.OIDC_RP_CLIENT_ID

    @property
    def OIDC_RP_CLIENT_SECRET(self) -> str:
        return settings.OIDC_RP_CLIENT_SECRET

    @property
    def OIDC_RP_SIGN_ALGO(self) -> str:
        return settings.OIDC_RP_SIGN_ALGO

    @property
    def OIDC_OP_TOKEN_ENDPOINT(self) -> str:
        return provider_endpoints()["token_endpoint"]

    @property
    def OIDC_OP_USER_ENDPOINT(self) -> str:
        return provider_endpoints()["userinfo_endpoint"]

    @property
    def OIDC_OP_JWKS_ENDPOINT(self) -> str:
        return provider_endpoints()["jwks_uri"]

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> User | None:
        if request is None or not sso_enabled():
            return None
        if not (request.GET.get("code") and request.GET.get("state")):
            return None
        try:
            return super().authenticate(request, **kwargs)
        except SignInRefused as refusal:
            messages.error(request, str(refusal))
        except (ProviderUnreachable, requests.RequestException, SuspiciousOperation) as error:
            logger.warning("single sign-on failed: %s", error)
            messages.error(
                request,
                _(
                    "The company sign-in did not answer as expected. Try again, or sign in "
                    "with your password."
                ),
            )
        return None

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if payload.get("iss") != settings.OIDC_ISSUER or self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("the ID token is not the issuer's, or not for SKAM")
        return payload

    def get_or_create_user(
        self, access_token: str, id_token: str, payload: dict[str, Any]
    ) -> User | None:
        userinfo = self.get_userinfo(access_token, id_token, payload)
        if not isinstance(userinfo, dict) or userinfo.get("sub") != payload.get("sub"):
            raise ProviderUnreachable("userinfo names another subject than the ID token")
        # The ID token's claims, completed by userinfo's (groups may come in either).
        return sso_person_for_claims(claims={**payload, **userinfo})

    def get_user(self, user_id: int) -> User | None:
        person = super().get_user(user_id)
        return person if person is not None and person.is_active else None


class _WhenEnabled(View):
    """The provider's pages exist only while single sign-on is on."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not sso_enabled():
            raise Http404
        return super().dispatch(request, *args, **kwargs)


class SignInStartView(_WhenEnabled, OIDCAuthenticationRequestView):
    """ "Sign in with <company>": off to the provider, with state, nonce and PKCE."""

    def __init__(self, **kwargs: Any) -> None:
        View.__init__(self, **kwargs)  # the endpoint is read at the request, not at start

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider_endpoints()["authorization_endpoint"]
        except ProviderUnreachable as error:
            logger.warning("single sign-on failed: %s", error)
            messages.error(
                request,
                _(
                    "The company sign-in cannot be reached. Try again, or sign in with your "
                    "password."
                ),
            )
            return HttpResponseRedirect(resolve_url("login"))
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)


class SignInCallbackView(_WhenEnabled, OIDCAuthenticationCallbackView):
    """Where the provider sends the browser back; refusals are told on the login page."""

    @property
    def failure_url(self) -> str:
        return resolve_url("login")


def provider_logout_url(request: HttpRequest) -> str | None:
    """Where to end the provider's session after ours, when the person signed in through it
    and the provider has an end-session endpoint; back to SKAM's login page afterwards."""
    id_token = request.session.get("oidc_id_token")
    if not (sso_enabled() and id_token):
        return None
    try:
        endpoint = provider_endpoints().get("end_session_endpoint")
    except ProviderUnreachable:
        return None
    if not endpoint:
        return None
    query = {
        "id_token_hint": id_token,
        "client_id": settings.OIDC_RP_CLIENT_ID,
        "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
    }
    return f"{endpoint}?{urlencode(query)}"


class LoginView(auth_views.LoginView):
    """Django's login page with a password, and "Sign in with <company>" while SSO is on."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["sso_provider"] = settings.SSO_PROVIDER_NAME if sso_enabled() else ""
        return context


class LogoutView(auth_views.LogoutView):
    """Django's logout, then the provider's for whoever signed in through it."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        at_provider = provider_logout_url(request)  # before the session is emptied
        response = super().post(request, *args, **kwargs)
        return HttpResponseRedirect(at_provider) if at_provider else response
