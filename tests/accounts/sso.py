"""Single sign-on switched on for a test, as ``skam/settings.py`` does it from OIDC_* variables
(``test_sso.py`` checks the two agree on what the variables give)."""

from __future__ import annotations

from typing import Any

from csp.constants import SELF

from accounts import sso

CLIENT_ID = "skam-tests"
CLIENT_SECRET = "a-secret-shared-with-the-test-provider"
ROLE_MAP = {"skam-kams": ("kam",), "skam-directors": ("director",), "sales-heads": ("director",)}
NO_ENDPOINTS = dict.fromkeys(
    ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"), ""
)


def sso_switched_on(
    settings: Any,
    *,
    issuer: str,
    endpoints: dict[str, str] | None = None,
    role_claim: str = "groups",
    role_map: dict[str, tuple[str, ...]] | None = None,
    **flags: Any,
) -> None:
    """What OIDC_ISSUER, OIDC_CLIENT_ID/SECRET, OIDC_ROLE_CLAIM and OIDC_ROLE_MAP set, on the
    pytest-django ``settings`` fixture (undone after the test)."""
    settings.SKAM_SSO = True
    settings.OIDC_ISSUER = issuer
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    settings.OIDC_RP_SCOPES = "openid email profile groups"
    settings.SSO_ENDPOINTS = {**NO_ENDPOINTS, "end_session_endpoint": "", **(endpoints or {})}
    settings.SSO_PROVIDER_NAME = "Acme"
    settings.SSO_ROLE_CLAIM = role_claim
    settings.SSO_ROLE_MAP = ROLE_MAP if role_map is None else role_map
    settings.SSO_CREATE_USERS = flags.get("create_users", True)
    settings.SSO_LINK_BY_EMAIL = flags.get("link_by_email", False)
    settings.OIDC_TIMEOUT = 10
    settings.OIDC_STORE_ID_TOKEN = True
    settings.OIDC_USE_PKCE = True
    settings.LOGIN_REDIRECT_URL_FAILURE = "login"
    settings.AUTHENTICATION_BACKENDS = [
        *settings.AUTHENTICATION_BACKENDS,
        "accounts.sso.ProviderBackend",
    ]
    policy = settings.CONTENT_SECURITY_POLICY
    origin = "/".join(issuer.split("/")[:3])
    settings.CONTENT_SECURITY_POLICY = {
        **policy,
        "DIRECTIVES": {**policy["DIRECTIVES"], "form-action": [SELF, origin]},
    }
    sso._discovered.clear()
