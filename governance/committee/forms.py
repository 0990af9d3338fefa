"""Forms of the committee: proposals, votes, meetings and declared interests."""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Client, User
from accounts.selectors import kams
from accounts.validators import single_line
from criteria.models import RulerVersion
from governance.committee.proposing import (
    COMMON_FIELDS,
    QUESTION_FIELDS,
    exceptions_for_the_committee,
)
from governance.models import (
    CommitteeMember,
    CommitteeRole,
    ExceptionRequest,
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
    starts_at = forms.TimeField(
        label=gettext_lazy("Time"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
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


class ExceptionRequestChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ExceptionRequest) -> str:
        label = _("%(client)s, asked by %(kam)s on %(date)s") % {
            "client": obj.client,
            "kam": obj.requested_by,
            "date": formats.date_format(timezone.localtime(obj.created_at), "SHORT_DATE_FORMAT"),
        }
        return f"{label} — {obj.deal}" if obj.deal else label


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
    exception_request = ExceptionRequestChoiceField(
        label=_("Exception request"),
        queryset=exceptions_for_the_committee(),
        required=False,
        help_text=_("A request waiting at the committee's tier, with no proposal before it yet."),
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        validators=[single_line],
        help_text=_(
            "Kept as suggested, each member reads the title in their own language; "
            "a title you change is shown as you typed it."
        ),
    )
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

    def __init__(
        self,
        *args: object,
        question: str | None = None,
        clients: QuerySet[Client] | None = None,
        **kwargs: object,
    ) -> None:
        """With a ``question``, the form asks only for what that question needs (the client
        is chosen with the picker, so it travels as a hidden field among ``clients``)."""
        super().__init__(*args, **kwargs)
        self.question = question
        if not self.is_bound:
            self.fields["deadline"].initial = (
                timezone.localtime() + datetime.timedelta(days=7)
            ).strftime("%Y-%m-%dT%H:%M")
        if question is None:
            return
        wanted = {*QUESTION_FIELDS[question], *COMMON_FIELDS}
        for name in [name for name in self.fields if name not in wanted]:
            del self.fields[name]
        if "client" in self.fields:
            client = self.fields["client"]
            client.required = True
            client.widget = forms.HiddenInput()
            client.error_messages["required"] = _("Choose the client the proposal is about.")
            if clients is not None:
                client.queryset = clients
        if question == ProposalType.STRATEGIC_BET:
            self.fields["review_date"].required = True
        for name in ("ruler", "policy", "mandate", "nominee", "exception_request"):
            if name in self.fields:
                self.fields[name].required = True
        if question in (ProposalType.SEAT_END, ProposalType.CHAIR):
            seated = CommitteeMember.objects.active_on(timezone.localdate()).values("user_id")
            self.fields["nominee"].queryset = self.fields["nominee"].queryset.filter(pk__in=seated)
            self.fields["nominee"].help_text = ""
        elif question == ProposalType.SEAT_GIVE:
            self.fields["committee_role"].required = True
            self.fields["nominee"].help_text = ""
            self.fields["committee_role"].help_text = ""

    def clean(self) -> dict[str, object]:
        data = super().clean()
        if self.question is not None:
            data["type"] = self.question
        return data


class VoteForm(forms.Form):
    choice = forms.ChoiceField(
        label=_("Your vote"), choices=VoteChoice.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
