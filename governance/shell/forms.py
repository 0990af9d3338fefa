"""Forms of the management shell: the deal check, spending, incidents, absences and budgets."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Client
from governance.models import SituationType, SpendCategory


class MandateCheckForm(forms.Form):
    client = forms.TypedChoiceField(label=_("Client"), coerce=int, choices=[])
    discount_percent = forms.DecimalField(
        label=_("Discount, %"), required=False, min_value=0, max_value=100, decimal_places=2
    )
    deal_value = forms.DecimalField(
        label=_("Deal value"), required=False, min_value=0, decimal_places=2
    )
    payment_term_days = forms.IntegerField(
        label=_("Payment term, days"), required=False, min_value=0
    )
    credit = forms.DecimalField(label=_("Credit"), required=False, min_value=0, decimal_places=2)
    budget_spend = forms.DecimalField(
        label=_("Budget spending"),
        required=False,
        min_value=0,
        max_digits=16,
        decimal_places=2,
        help_text=_("One spending from the client's budget past your threshold."),
    )

    def __init__(self, *args: object, clients: list[Client], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].choices = [(c.pk, c.name) for c in clients]

    def asked(self) -> dict[str, object]:
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name != "client" and value is not None
        }


class SpendForm(forms.Form):
    budget = forms.ModelChoiceField(label=_("Budget"), queryset=None)
    amount = forms.DecimalField(label=_("Amount"), min_value=Decimal("0.01"), decimal_places=2)
    category = forms.ChoiceField(label=_("Category"), choices=SpendCategory.choices)
    spent_on = forms.DateField(label=_("Spent on"), widget=forms.DateInput(attrs={"type": "date"}))
    description = forms.CharField(label=_("What for"), max_length=300)
    exception = forms.ModelChoiceField(
        label=_("Approved exception"),
        queryset=None,
        required=False,
        help_text=_("Needed when the amount is over your mandate's spending threshold."),
    )

    def __init__(self, *args: object, budgets: object, exceptions: object, **kwargs: object):
        super().__init__(*args, **kwargs)
        self.fields["budget"].queryset = budgets
        self.fields["exception"].queryset = exceptions


class IncidentForm(forms.Form):
    situation = forms.ModelChoiceField(label=_("Situation"), queryset=None)
    client = forms.TypedChoiceField(label=_("Client"), coerce=int, choices=[])
    description = forms.CharField(
        label=_("What happened"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args: object, clients: list[Client], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["situation"].queryset = SituationType.objects.filter(is_active=True)
        self.fields["client"].choices = [(c.pk, c.name) for c in clients]


class AbsenceForm(forms.Form):
    """The signed-in member's own absence: who is away is never a choice."""

    starts_on = forms.DateField(
        label=_("Away from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(label=_("Away until"), widget=forms.DateInput(attrs={"type": "date"}))
    deputy = forms.ModelChoiceField(label=_("Deputy"), queryset=None)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args: object, people: object, **kwargs: object):
        super().__init__(*args, **kwargs)
        self.fields["deputy"].queryset = people

    def clean(self) -> dict[str, object]:
        data = super().clean()
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("The absence must end on or after its first day."))
        return data


class BudgetForm(forms.Form):
    client = forms.ModelChoiceField(label=_("Key client"), queryset=None)
    period = forms.DateField(
        label=_("Quarter"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Any day of the quarter."),
    )
    allocated = forms.DecimalField(
        label=_("Allocated"), min_value=Decimal(0), max_digits=16, decimal_places=2
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.filter(is_key=True).order_by("name")
