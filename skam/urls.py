"""Root URLs: pages under their apps, the REST API under /api/."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import IsAuthenticated

from accounts import account, sso, tokens
from governance.kpis.api import AccountDashboardView, KamDashboardView, PortfolioDashboardView
from governance.shell.api.mandates import MandateCheckView
from skam import views
from skam.api import router

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", sso.LoginView.as_view(), name="login"),
    path("logout/", sso.LogoutView.as_view(), name="logout"),
    # Single sign-on with the company's OpenID Connect provider; 404 while it is off.
    path("oidc/authenticate/", sso.SignInStartView.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", sso.SignInCallbackView.as_view(), name="oidc_authentication_callback"),
    # One's own account and password; nobody else's (accounts/account.py).
    path("account/", account.my_account, name="my-account"),
    path("account/tokens/revoke/", account.my_token_revoke, name="my-token-revoke"),
    path("account/password/", account.PasswordChangeView.as_view(), name="password_change"),
    path(
        "account/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("password/forgotten/", account.PasswordLinkView.as_view(), name="password_reset"),
    path("password/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/<uidb64>/<token>/",
        account.PasswordSetView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("i18n/setlang/", views.language_set, name="set_language"),
    path("clients/", include("accounts.urls")),
    path("ruler/", include("criteria.urls")),
    path("committee/", include("governance.urls")),
    # The admin's own "change password" is the same page as everyone's (it revokes API tokens).
    path(
        "admin/password_change/",
        RedirectView.as_view(pattern_name="password_change"),
        name="admin-password-change",
    ),
    path("admin/", admin.site.urls),
    path("api/mandate-check/", MandateCheckView.as_view(), name="api-mandate-check"),
    path(
        "api/dashboards/portfolio/",
        PortfolioDashboardView.as_view(),
        name="api-dashboard-portfolio",
    ),
    path("api/dashboards/kam/<int:pk>/", KamDashboardView.as_view(), name="api-dashboard-kam"),
    path(
        "api/dashboards/account/<int:pk>/",
        AccountDashboardView.as_view(),
        name="api-dashboard-account",
    ),
    path("api/", include(router.urls)),
    path("api/auth/token/", tokens.TokenObtainView.as_view(), name="api-token"),
    # Revoke the token the request came with, or all of mine.
    path("api/auth/logout/", tokens.TokenLogoutView.as_view(), name="api-logout"),
    path("api/auth/logout-all/", tokens.TokenLogoutAllView.as_view(), name="api-logout-all"),
    # Like the rest of the API, the schema and its docs are for signed-in users only.
    path(
        "api/schema/",
        SpectacularAPIView.as_view(permission_classes=[IsAuthenticated]),
        name="api-schema",
    ),
    path(
        "api/docs/",
        login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
]

handler403 = "skam.views.error_403"
handler404 = "skam.views.error_404"
handler500 = "skam.views.error_500"
