"""The domain's refusals: one vocabulary for every app, answered the same way everywhere.

A service that will not do what it is asked raises one of these, with the reason in the reader's
language; pages show it (``add_refusal`` on a form, ``tell_refusal`` as a message) and the API's
one exception handler (``accounts.api.exception_handler``) answers it:

=========================  =======================================================  ====
refusal                    meaning                                                  API
=========================  =======================================================  ====
``NotAllowed``             not this person's to do (Django's ``PermissionDenied``)  403
``NotYours``               no such thing for this person (Django's ``Http404``)     404
``ChangedMeanwhile``       someone changed it meanwhile, or its state forbids it    409
``ValidationError``        the input breaks a rule (Django's own, with the fields)   400
``ValidationError``        well-formed, but how things stand refuses it (``STATE``)  409
=========================  =======================================================  ====

They live in ``accounts``, the bottom of the apps' order, so that ``criteria`` and
``governance`` share them without importing each other.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest

# The code of a rule's reason that is about how things stand, not about what was sent: the
# request would pass another day, on another object. Pages show it on its field as any other;
# the API answers a refusal made only of such reasons 409 (``code``: ``state``).
STATE = "state"


class NotAllowed(PermissionDenied):
    """Not this person's to do: pages answer 403, and so does the API."""


class NotYours(Http404):
    """No such thing for this person (outside their accounts, their mandate…): a 404, so that
    what exists for others is not revealed."""


class ChangedMeanwhile(Exception):
    """The thing is no longer in the state the request assumed: decided, closed, taken in hand
    or adopted meanwhile. The API answers 409."""


def add_refusal(form: forms.BaseForm, exc: ValidationError) -> None:
    """A service's refusal shown on the form: each message on its field when the form has it,
    the others above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.message_dict.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


def tell_refusal(request: HttpRequest, exc: Exception) -> None:
    """Tell the user why a service refused what they asked, in one message."""
    text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    messages.error(request, text)
