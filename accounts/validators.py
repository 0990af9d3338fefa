"""Checks on values typed by people, shared by the apps' forms and serializers."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def single_line(value: str) -> None:
    """A title or name is one line: a line break in it (``\\n``, ``\\r``, or any other that
    ``str.splitlines`` knows) would break the e-mail subject and the lists it is shown in."""
    if value and value.splitlines() != [value]:
        raise ValidationError(_("Keep this on one line: remove the line break."), code="line_break")
