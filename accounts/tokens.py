"""API tokens (knox): stored as a digest, never as the token; each expires (``REST_KNOX``); their
owner lists and revokes them, and all of a person's go at a password change or deactivation.
The token endpoint signs in through ``authenticate()``, so repeated failures lock it out like
the login page (axes)."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from knox import views as knox_views
from knox.models import AuthToken
from knox.settings import knox_settings
from rest_framework import exceptions, mixins, permissions, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.openapi import ERROR
from accounts.ordering import KnownOrderingFilter


def tokens_of(user: User) -> QuerySet[AuthToken]:
    """``user``'s tokens still in force, newest first."""
    return AuthToken.objects.filter(user=user, expiry__gt=timezone.now()).order_by("-created")


def tokens_revoke(*, user: User, digest: str | None = None) -> int:
    """Revoke one of ``user``'s tokens (by its digest) or, with none named, all of them.
    Returns how many went; someone else's token is never touched."""
    tokens = AuthToken.objects.filter(user=user)
    if digest is not None:
        tokens = tokens.filter(digest=digest)
    deleted, _by_model = tokens.delete()
    return deleted


class SignInSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


class NewTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text=_("Shown once: SKAM keeps only its digest."))
    expiry = serializers.DateTimeField()


_WRONG = "No such user name and password (or the account is inactive)."


class TokenObtainView(APIView):
    """A new token for a user name and password. Failures count towards the lock-out."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    def get_authenticate_header(self, request: Request) -> str:
        """A wrong user name or password is a 401, whose challenge names the scheme the token
        is then used with (``Authorization: Token <token>``)."""
        return "Token"

    @extend_schema(
        request=SignInSerializer,
        responses={
            200: NewTokenSerializer,
            401: OpenApiResponse(response=ERROR, description=_WRONG),
        },
    )
    def post(self, request: Request) -> Response:
        credentials = SignInSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        user = authenticate(request=request, **credentials.validated_data)
        if getattr(request, "axes_locked_out", False):
            raise exceptions.Throttled(
                detail=_("Too many failed sign-ins: this account is locked for a while here.")
            )
        if user is None:
            raise exceptions.AuthenticationFailed(_("Unable to log in with provided credentials."))
        if tokens_of(user).count() >= knox_settings.TOKEN_LIMIT_PER_USER:
            raise exceptions.PermissionDenied(
                _("You hold as many tokens as allowed: revoke one first.")
            )
        token, key = AuthToken.objects.create(user=user, expiry=knox_settings.TOKEN_TTL)
        user_logged_in.send(sender=User, request=request, user=user)
        return Response(NewTokenSerializer({"token": key, "expiry": token.expiry}).data)


class TokenSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="digest", read_only=True)
    starts_with = serializers.SerializerMethodField()
    current = serializers.SerializerMethodField()

    class Meta:
        model = AuthToken
        fields = ["id", "starts_with", "created", "expiry", "current"]

    def get_starts_with(self, token: AuthToken) -> str:
        """The first characters, to tell one's tokens apart: never enough to use one."""
        return token.token_key[:8]

    def get_current(self, token: AuthToken) -> bool:
        """Whether this request came with this token."""
        return getattr(self.context["request"].auth, "digest", None) == token.digest


class MyTokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """My tokens in force: list them, revoke one. Nobody sees or revokes another's here."""

    serializer_class = TokenSerializer
    lookup_field = "digest"
    lookup_value_regex = "[0-9a-f]{128}"
    filter_backends = [KnownOrderingFilter]
    ordering_fields = ["created", "expiry"]

    def get_queryset(self) -> QuerySet[AuthToken]:
        return tokens_of(self.request.user)

    def perform_destroy(self, instance: AuthToken) -> None:
        tokens_revoke(user=self.request.user, digest=instance.digest)


@extend_schema(request=None, responses={204: None})
class TokenLogoutView(knox_views.LogoutView):
    """Revoke the token this request came with."""


@extend_schema(request=None, responses={204: None})
class TokenLogoutAllView(knox_views.LogoutAllView):
    """Revoke every token of mine."""
