"""Forms of the committee."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Client
from criteria.models import RulerVersion
from governance.models import Policy, ProposalType, SpendCategory, VoteChoice


class ProposalForm(forms.Form):
    type = forms.ChoiceField(label=_("Proposal"), choices=ProposalType.choices)
    client = forms.ModelChoiceField(
        label=_("Client"), queryset=Client.objects.order_by("name"), required=False
    )
    ruler = forms.ModelChoiceField(
        label=_("Ruler version to adopt"),
        queryset=RulerVersion.objects.filter(status="draft"),
        required=False,
    )
    policy = forms.ModelChoiceField(
        label=_("Policy version to adopt"),
        queryset=Policy.objects.filter(status="draft"),
        required=False,
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    rationale = forms.CharField(label=_("Rationale"), widget=forms.Textarea(attrs={"rows": 4}))
    review_date = forms.DateField(
        label=_("Review date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Required for a strategic bet."),
    )
    deadline = forms.DateTimeField(
        label=_("Votes close"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Members vote until then; the proposal closes by itself."),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["deadline"].initial = (
                timezone.localtime() + datetime.timedelta(days=7)
            ).strftime("%Y-%m-%dT%H:%M")


class VoteForm(forms.Form):
    choice = forms.ChoiceField(
        label=_("Your vote"), choices=VoteChoice.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


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
