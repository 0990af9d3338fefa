"""Forms of the committee: proposals, votes, meetings and declared interests."""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Client, User
from accounts.selectors import kams
from accounts.validators import single_line
from criteria.models import RulerVersion
from governance.models import (
    CommitteeRole,
    Mandate,
    MandateStatus,
    Policy,
    ProposalType,
    VoteChoice,
)


class MeetingForm(forms.Form):
    held_on = forms.DateField(
        label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200, validators=[single_line])
    location = forms.CharField(label=gettext_lazy("Location"), max_length=200, required=False)
    notes = forms.CharField(
        label=gettext_lazy("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class AgendaTextForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Other business"), widget=forms.Textarea(attrs={"rows": 2})
    )


class InterestForm(forms.Form):
    client = forms.ModelChoiceField(
        label=gettext_lazy("Client"), queryset=Client.objects.order_by("name"), required=False
    )
    kam = forms.ModelChoiceField(
        label=gettext_lazy("Key-account manager"),
        queryset=kams(),
        required=False,
    )
    description = forms.CharField(
        label=gettext_lazy("Relation"),
        max_length=300,
        help_text=gettext_lazy("For example: a relative works there; a former employer; shares."),
    )

    def clean(self) -> dict[str, object]:
        data = super().clean()
        if not data.get("client") and not data.get("kam"):
            raise ValidationError(
                _("Name the client or the key-account manager the relation is to.")
            )
        return data


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
    nominee = forms.ModelChoiceField(
        label=_("Person"),
        queryset=User.objects.filter(is_active=True).order_by("last_name", "first_name"),
        required=False,
        help_text=_("For a seat or the chair: who is given a seat, whose seat ends, who chairs."),
    )
    committee_role = forms.ChoiceField(
        label=_("Role on the committee"),
        choices=[("", "—"), *CommitteeRole.choices],
        required=False,
        help_text=_("For a seat given: in which capacity."),
    )
    mandate = forms.ModelChoiceField(
        label=_("Draft mandate to put in force"),
        queryset=Mandate.objects.filter(status=MandateStatus.DRAFT).select_related("kam"),
        required=False,
        help_text=_("Adopted, it supersedes the KAM's mandate in force."),
    )
    title = forms.CharField(label=_("Title"), max_length=200, validators=[single_line])
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
