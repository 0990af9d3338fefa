"""Forms of the ruler."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from criteria.models import USP, Degree


class CoverageCellForm(forms.Form):
    """One cell of the coverage matrix: how far a USP meets a need."""

    need = forms.IntegerField()
    usp = forms.ModelChoiceField(queryset=USP.objects.filter(retired_on__isnull=True))
    degree = forms.DecimalField(
        min_value=Decimal(0),
        max_value=Decimal(1),
        decimal_places=3,
        error_messages={"max_value": _("A degree is a share from 0 to 1.")},
    )


DEGREE_CHOICES = [(str(value), label) for value, label in Degree.CHOICES]
