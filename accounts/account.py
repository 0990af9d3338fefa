"""The signed-in person's own account: their page, their password. A password is set only by
its owner: through the e-mailed link (a newcomer's first one too) or, signed in, by giving the
current one. Nobody else sets, reads or resets it for them (accounts/admin.py, the
``changepassword`` command)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.tokens import default_token_generator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.roles import Role
from accounts.tokens import tokens_of, tokens_revoke


def _same_address(one: str, other: str) -> bool:
    """E-mail addresses compared as Django's reset form does: case- and form-insensitively."""
    return (
        unicodedata.normalize("NFKC", one).casefold()
        == unicodedata.normalize("NFKC", other).casefold()
    )


class PasswordLinkForm(auth_forms.PasswordResetForm):
    """Django's reset form, which also reaches a newcomer: the administrator adds people with
    no usable password, and the link to this address is how they set their first one."""

    def get_users(self, email: str) -> Iterator[User]:
        # Who signs in through the company's provider has no password here to set.
        people = User.objects.filter(email__iexact=email, is_active=True, sso_subject="")
        return (person for person in people if _same_address(email, person.email))


# The link is built on SKAM's own address, not on the request's Host header, which a stranger
# chooses.
_LINK_CONTEXT = {"base_url": settings.SKAM_BASE_URL.rstrip("/")}
_LINK_SUBJECT = "registration/password_reset_subject.txt"
_LINK_LETTER = "registration/password_reset_email.txt"


class PasswordLinkView(auth_views.PasswordResetView):
    """The page behind "Forgot your password?": the link goes to the address on record."""

    form_class = PasswordLinkForm
    subject_template_name = _LINK_SUBJECT
    email_template_name = _LINK_LETTER
    extra_email_context = _LINK_CONTEXT


def password_link_send(*, person: User) -> None:
    """Send ``person`` the same letter as "Forgot your password?", to their own address: who
    starts it (the administrator, for a newcomer) never sees the link. Written in the person's
    language (``User.letter_language``), not in that of whoever starts it."""
    context = {
        **_LINK_CONTEXT,
        "email": person.email,
        "user": person,
        "uid": urlsafe_base64_encode(force_bytes(person.pk)),
        "token": default_token_generator.make_token(person),
    }
    with translation.override(person.letter_language):
        PasswordLinkForm().send_mail(_LINK_SUBJECT, _LINK_LETTER, context, None, person.email)


class PasswordChangeView(auth_views.PasswordChangeView):
    """My password, given the current one. My other sessions end with it (Django), and so do
    my API tokens."""

    def form_valid(self, form: auth_forms.PasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)
        tokens_revoke(user=form.user)
        return response


class PasswordSetView(auth_views.PasswordResetConfirmView):
    """The page the e-mailed link opens; a password set here revokes the API tokens too."""

    def form_valid(self, form: auth_forms.SetPasswordForm) -> HttpResponse:
        response = super().form_valid(form)
        tokens_revoke(user=form.user)
        return response


@login_required
def my_account(request: HttpRequest) -> HttpResponse:
    """Who I am to SKAM: my name, address and roles, my API tokens, and what I may change."""
    labels = dict(Role.choices)
    roles = [labels.get(name, name) for name in request.user.groups.values_list("name", flat=True)]
    context = {"roles": roles, "tokens": tokens_of(request.user)}
    return render(request, "accounts/my_account.html", context)


@login_required
@require_POST
def my_token_revoke(request: HttpRequest) -> HttpResponse:
    """Revoke one of my API tokens (``digest``), or all of them when none is named."""
    revoked = tokens_revoke(user=request.user, digest=request.POST.get("digest") or None)
    messages.success(
        request,
        ngettext("%(count)d API token revoked.", "%(count)d API tokens revoked.", revoked)
        % {"count": revoked},
    )
    return redirect("my-account")
