"""Forms of mandate drafting: a new draft, the draft's terms and limits, its accounts with their
overrides and the ones added, its team, and the proposal that puts it before the committee.

Choices (clients, people, methods) are read once per page and shared by every row, so that
checking a formset costs no query per row.
"""

from __future__ import annotations

import datetime

from django import forms
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.money import in_currency
from accounts.periods import next_quarter, quarter_label, quarter_start
from accounts.selectors import kams
from accounts.validators import single_line
from governance.models import (
    LIMIT_FIELDS,
    Mandate,
    MandateAccount,
    MandateBudget,
    MandateTeamMember,
    RelationshipMethod,
)
from governance.shell.drafting import (
    AccountRow,
    BudgetRow,
    TeamRow,
    budget_refusals,
    clients_for_drafting,
)

LIMIT_NAMES = tuple(LIMIT_FIELDS.values())
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _model_field(model: type, name: str, **kwargs: object) -> forms.Field:
    """The model field's form field, with the model's bounds checked on the form (a decimal
    field's form field does not carry them): a discount over 100 % is refused where typed."""
    field = model._meta.get_field(name)
    if isinstance(field, models.DecimalField):
        kwargs.setdefault("validators", list(field.validators))
    return field.formfield(**kwargs)


class MandateNewForm(forms.Form):
    """A new, empty draft for a KAM who holds none in force, or whose mandate is rethought."""

    kam = forms.ModelChoiceField(label=_("Key-account manager"), queryset=kams())
    title = forms.CharField(label=_("Title"), max_length=200, validators=[single_line])
    valid_from = forms.DateField(label=_("Valid from"), widget=DATE)
    valid_to = forms.DateField(
        label=_("Valid to"),
        widget=DATE,
        required=False,
        help_text=_("Empty: until the committee changes it."),
    )

    def __init__(self, *args: object, drafter: User, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Nobody drafts their own mandate: the drafter is not offered.
        self.fields["kam"].queryset = kams().exclude(pk=drafter.pk)

    def clean(self) -> dict[str, object]:
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_to")
        if start and end and end < start:
            self.add_error("valid_to", _("A mandate ends on or after the day it starts."))
        return data


class MandateTermsForm(forms.Form):
    """The draft's title, validity, limits and relationship methods."""

    title = forms.CharField(label=_("Title"), max_length=200, validators=[single_line])
    valid_from = forms.DateField(label=_("Valid from"), widget=DATE)
    valid_to = forms.DateField(
        label=_("Valid to"),
        widget=DATE,
        required=False,
        help_text=_("Empty: until the committee changes it."),
    )
    methods = forms.TypedMultipleChoiceField(
        label=_("Relationship methods"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: object, mandate: Mandate, **kwargs: object) -> None:
        initial = {
            "title": mandate.title,
            "valid_from": mandate.valid_from,
            "valid_to": mandate.valid_to,
            "methods": [method.pk for method in mandate.methods.all()],
            **{name: getattr(mandate, name) for name in LIMIT_NAMES},
        }
        super().__init__(*args, initial=initial, **kwargs)
        for name in LIMIT_NAMES:
            self.fields[name] = _model_field(Mandate, name)
            self.fields[name].label = capfirst(self.fields[name].label)
        self.fields["methods"].choices = [
            (method.pk, method.name) for method in RelationshipMethod.objects.order_by("name")
        ]

    def clean(self) -> dict[str, object]:
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_to")
        if start and end and end < start:
            self.add_error("valid_to", _("A mandate ends on or after the day it starts."))
        return data

    def terms(self) -> dict[str, object]:
        return {
            name: self.cleaned_data[name]
            for name in ("title", "valid_from", "valid_to", *LIMIT_NAMES)
        }


class AccountForm(forms.Form):
    """An account of the draft: the limits it overrides (empty: the mandate's), or removed."""

    id = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for name in LIMIT_NAMES:
            self.fields[name] = _model_field(MandateAccount, name)
            self.fields[name].label = capfirst(self.fields[name].label)


class BaseAccountFormSet(forms.BaseFormSet):
    """The draft's accounts, one row each; new ones come from ``AddAccountsForm``."""

    def __init__(self, *args: object, accounts: list[MandateAccount], **kwargs: object) -> None:
        self.accounts = {account.pk: account for account in accounts}
        initial = [
            {"id": account.pk, **{name: getattr(account, name) for name in LIMIT_NAMES}}
            for account in accounts
        ]
        super().__init__(*args, initial=initial, **kwargs)

    def _construct_form(self, i: int, **kwargs: object) -> forms.Form:
        form = super()._construct_form(i, **kwargs)
        # The account the row is about, to name its client (read with the accounts).
        form.account = self.accounts.get(form.initial.get("id"))
        return form

    def rows(self) -> list[AccountRow]:
        return [
            AccountRow(
                id=form.cleaned_data["id"],
                limits={name: form.cleaned_data.get(name) for name in LIMIT_NAMES},
                remove=bool(form.cleaned_data.get("DELETE")),
            )
            for form in self.forms
        ]


AccountFormSet = forms.formset_factory(
    AccountForm, formset=BaseAccountFormSet, extra=0, can_delete=True
)


class AddAccountsForm(forms.Form):
    """Clients to add to the draft, ticked in the account picker (a search, a page at a time:
    the page never lists the whole register). The ticked ones are read in one query."""

    clients = forms.ModelMultipleChoiceField(
        label=_("Add accounts"),
        queryset=clients_for_drafting(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": _("A client ticked to add is no longer in the register."),
            "invalid_pk_value": _("A client is named by its number."),
        },
    )

    def client_ids(self) -> list[int]:
        return [client.pk for client in self.cleaned_data["clients"]]


class TeamForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    user = forms.TypedChoiceField(label=_("Person"), coerce=int, empty_value=None)
    role = _model_field(MandateTeamMember, "role", required=False)

    def __init__(self, *args: object, people: list[tuple[object, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = people
        self.fields["user"].required = False
        self.fields["role"].label = capfirst(self.fields["role"].label)

    def clean(self) -> dict[str, object]:
        data = super().clean()
        if data.get("DELETE"):
            return data
        if data.get("user") and not data.get("role"):
            self.add_error("role", _("Say which role this person plays."))
        if data.get("role") and not data.get("user"):
            self.add_error("user", _("Name the person who plays this role."))
        return data


class BaseTeamFormSet(forms.BaseFormSet):
    """The people who work the draft's accounts with the KAM, and a few empty rows."""

    def __init__(
        self, *args: object, mandate: Mandate, members: list[MandateTeamMember], **kwargs: object
    ) -> None:
        self.mandate = mandate
        initial = [{"id": m.pk, "user": m.user_id, "role": m.role} for m in members]
        super().__init__(*args, initial=initial, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, object]:
        return {**super().get_form_kwargs(index), "people": self.people}

    @cached_property
    def people(self) -> list[tuple[object, str]]:
        users = User.objects.filter(is_active=True).exclude(pk=self.mandate.kam_id)
        return [
            ("", "---------"),
            *((user.pk, str(user)) for user in users.order_by("last_name", "first_name", "pk")),
        ]

    def _kept(self, form: forms.Form) -> bool:
        data = form.cleaned_data
        return data.get("id") is not None or bool(data.get("user"))

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        seen: set[int] = set()
        for form in self.forms:
            data = form.cleaned_data
            if not self._kept(form) or data.get("DELETE"):
                continue
            if data["user"] in seen:
                raise forms.ValidationError(
                    _("A person is named twice in the team: keep one row for each.")
                )
            seen.add(data["user"])

    def rows(self) -> list[TeamRow]:
        return [
            TeamRow(
                id=form.cleaned_data.get("id"),
                user_id=form.cleaned_data.get("user") or 0,
                role=form.cleaned_data.get("role", ""),
                remove=bool(form.cleaned_data.get("DELETE")) or not form.cleaned_data.get("user"),
            )
            for form in self.forms
            if self._kept(form)
        ]


TeamFormSet = forms.formset_factory(TeamForm, formset=BaseTeamFormSet, extra=2, can_delete=True)


class BudgetForm(forms.Form):
    """A budget the draft holds: one of its accounts, a quarter, an amount; or removed."""

    client = forms.TypedChoiceField(label=_("Account"), coerce=int, empty_value=None)
    period = forms.TypedChoiceField(
        label=_("Quarter"), coerce=datetime.date.fromisoformat, empty_value=None
    )
    allocated = forms.DecimalField(max_digits=16, decimal_places=2, min_value=0)

    def __init__(
        self,
        *args: object,
        accounts: list[tuple[object, str]],
        quarters: list[tuple[str, str]],
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].choices = accounts
        self.fields["period"].choices = quarters
        # The company's currency, in the reader's language: said when the form is made.
        self.fields["allocated"].label = in_currency(gettext("Budget"))
        for field in self.fields.values():
            field.required = False

    def clean(self) -> dict[str, object]:
        data = super().clean()
        if data.get("DELETE") or not any(
            data.get(name) not in (None, "") for name in ("client", "period", "allocated")
        ):
            return data
        if data.get("client") is None and "client" not in self.errors:
            self.add_error("client", _("Name the account the budget is for."))
        if data.get("period") is None and "period" not in self.errors:
            self.add_error("period", _("Say the quarter of the budget."))
        if data.get("allocated") is None and "allocated" not in self.errors:
            self.add_error("allocated", _("Say the amount of the budget."))
        return data


class BaseBudgetFormSet(forms.BaseFormSet):
    """The budgets the draft holds, one row each, and a few empty rows. The rules a budget
    keeps (``budget_refusals``) are said above the table, each naming its account and
    quarter; the save checks them again."""

    def __init__(
        self,
        *args: object,
        mandate: Mandate,
        budgets: list[MandateBudget],
        accounts: list[MandateAccount],
        **kwargs: object,
    ) -> None:
        self.mandate = mandate
        self.account_ids = {account.client_id for account in accounts}
        ordered = sorted(accounts, key=lambda a: (not a.client.is_key, a.client.name))
        self.accounts = [
            ("", "---------"),
            *(
                (
                    account.client_id,
                    account.client.name
                    if account.client.is_key
                    else gettext("%(client)s (not a key client)") % {"client": account.client},
                )
                for account in ordered
            ),
        ]
        first = quarter_start(timezone.localdate())
        periods = {first}
        for _n in range(QUARTERS_AHEAD):
            periods.add(next_quarter(max(periods)))
        periods |= {budget.period for budget in budgets}
        self.quarters = [("", "---------")] + [
            (period.isoformat(), quarter_label(period)) for period in sorted(periods)
        ]
        initial = [
            {"client": b.client_id, "period": b.period.isoformat(), "allocated": b.allocated}
            for b in budgets
        ]
        super().__init__(*args, initial=initial, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, object]:
        return {
            **super().get_form_kwargs(index),
            "accounts": self.accounts,
            "quarters": self.quarters,
        }

    def _kept(self, form: forms.Form) -> bool:
        data = form.cleaned_data
        return not data.get("DELETE") and data.get("client") is not None

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        refusals = budget_refusals(rows=self.rows(), account_ids=self.account_ids)
        if refusals:
            raise forms.ValidationError(refusals)

    def rows(self) -> list[BudgetRow]:
        return [
            BudgetRow(
                client_id=form.cleaned_data["client"],
                period=form.cleaned_data["period"],
                allocated=form.cleaned_data["allocated"],
            )
            for form in self.forms
            if self._kept(form)
        ]


BudgetFormSet = forms.formset_factory(
    BudgetForm, formset=BaseBudgetFormSet, extra=2, can_delete=True
)
# How many quarters after this one a draft may hold budgets for.
QUARTERS_AHEAD = 4


class MandateProposeForm(forms.Form):
    """The proposal that puts a draft before the committee: the vote puts it in force."""

    title = forms.CharField(label=_("Title"), max_length=200, validators=[single_line])
    rationale = forms.CharField(label=_("Rationale"), widget=forms.Textarea(attrs={"rows": 3}))
    deadline = forms.DateTimeField(
        label=_("Votes close"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Members vote until then; the proposal closes by itself."),
    )

    def __init__(self, *args: object, mandate: Mandate, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["title"].initial = _("Grant mandate: %(title)s (%(kam)s)") % {
                "title": mandate.title,
                "kam": mandate.kam,
            }
            self.fields["deadline"].initial = (
                timezone.localtime() + datetime.timedelta(days=7)
            ).strftime("%Y-%m-%dT%H:%M")
