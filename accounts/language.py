"""The language a person chose, wherever they sign in.

Django keeps the interface's language in a cookie (``set_language``), which a fresh browser does
not have: a person who chose Russian would sign in there to English. Their choice is also kept
on them (``User.language``, saved by ``skam.views.language_set``), and this puts it back:

* at sign-in in a browser (password or the company's SSO: both start a session), the cookie is
  set to their language; a person who chose none yet keeps the one they chose on the login page,
  which becomes theirs;
* a browser signed in with no language cookie (it ended with the browser's session) is answered
  in their language rather than the browser's Accept-Language;
* the token API keeps no cookie: each request is answered in its Accept-Language, and in the
  token holder's language when it sends none (``TokenAuthentication``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework.request import Request

from accounts.models import User


def _known(code: str | None) -> str | None:
    return code if code in dict(settings.LANGUAGES) else None


def _set_cookie(response: HttpResponse, language: str) -> None:
    """As Django's ``set_language`` sets it."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


def _activate(request: HttpRequest, language: str) -> None:
    translation.activate(language)
    request.LANGUAGE_CODE = language


class UserLanguageMiddleware:
    """After the session and the user are known (below ``AuthenticationMiddleware``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        signed_in_as = self._signed_in_as(request)
        cookie = _known(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
        if signed_in_as and cookie is None:
            language = _known(getattr(request.user, "language", None))
            if language:
                _activate(request, language)
        response = self.get_response(request)
        # Read again: a view may put a new session object on the request (the SSO callback).
        now_signed_in_as = self._signed_in_as(request)
        if now_signed_in_as and now_signed_in_as != signed_in_as:
            self._signed_in(request, response, cookie)
        return response

    @staticmethod
    def _signed_in_as(request: HttpRequest) -> str | None:
        """Who the browser's session is signed in as (a token signs no session in)."""
        session = getattr(request, "session", None)
        return session.get(SESSION_KEY) if session is not None else None

    def _signed_in(self, request: HttpRequest, response: HttpResponse, cookie: str | None) -> None:
        user = request.user
        language = _known(getattr(user, "language", None))
        if language is None and cookie is not None:
            # Chosen on the login page by a person who had chosen none: theirs from now on.
            User.objects.filter(pk=user.pk).update(language=cookie)
            user.language = language = cookie
        if language is not None:
            _set_cookie(response, language)


class TokenAuthentication(KnoxTokenAuthentication):
    """Knox's tokens; a request that names no language is answered in the holder's."""

    def authenticate(self, request: Request) -> tuple[User, object] | None:
        found = super().authenticate(request)
        if found is not None and not request.META.get("HTTP_ACCEPT_LANGUAGE"):
            language = _known(found[0].language)
            if language:
                _activate(request._request, language)
        return found


class TokenScheme(KnoxTokenScheme):
    """The schema names the scheme as for Knox's own class."""

    target_class = "accounts.language.TokenAuthentication"
