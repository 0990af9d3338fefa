from django.contrib.auth import views as auth_views
from django.urls import include, path

from tests.oidc_provider import control

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("openid/", include("oidc_provider.urls", namespace="oidc_provider")),
    # The tests' own hands on the provider: its people, their groups, and SKAM as its client.
    path("control/person/", control.person),
    path("control/client/", control.client),
]
