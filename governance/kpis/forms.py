"""Forms of the KPIs: a hand-entered actual, and a mandate's targets."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from accounts.models import Client
from accounts.periods import quarter_label, quarter_start, quarters_back, validate_quarter_start
from accounts.selectors import kams
from governance.kpis.figures import TargetRow
from governance.models import Kpi, KpiSource, KpiTarget, Mandate, MandateAccount

ENTRY_QUARTERS = 8


def _quarter_choices(quarters: list[datetime.date]) -> list[tuple[str, str]]:
    return [(quarter.isoformat(), quarter_label(quarter)) for quarter in reversed(quarters)]


class KpiEntryForm(forms.Form):
    """A hand-entered actual; ``kpi_entry_record`` decides whether it stands."""

    kpi = forms.ModelChoiceField(
        label=_("KPI"), queryset=Kpi.objects.filter(source=KpiSource.MANUAL).order_by("name")
    )
    period = forms.TypedChoiceField(
        label=_("Quarter"), coerce=datetime.date.fromisoformat, choices=[]
    )
    kam = forms.ModelChoiceField(
        label=_("Key-account manager"),
        queryset=kams(including_former=True),
    )
    client = forms.ModelChoiceField(
        label=_("Account"),
        queryset=Client.objects.filter(pk__in=MandateAccount.objects.values("client_id")).order_by(
            "name"
        ),
        required=False,
        help_text=_("Empty: the value is for all the KAM's accounts."),
    )
    value = forms.DecimalField(label=_("Value"), max_digits=16, decimal_places=2)
    note = forms.CharField(
        label=_("Source or note"),
        max_length=300,
        required=False,
        help_text=_("Where the figure comes from: a survey, a report, a meeting."),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        quarters = quarters_back(quarter_start(timezone.localdate()), ENTRY_QUARTERS)
        self.fields["period"].choices = _quarter_choices(quarters)


def _target_field(name: str) -> forms.TypedChoiceField:
    """A target's KPI or account, chosen among options read once for the whole page: checking
    a row's choice costs no query."""
    field = KpiTarget._meta.get_field(name)
    return forms.TypedChoiceField(
        label=capfirst(field.verbose_name),
        help_text=field.help_text,
        coerce=int,
        required=not field.null,
        empty_value=None,
    )


class KpiTargetForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    kpi = _target_field("kpi")
    period = KpiTarget._meta.get_field("period").formfield(
        widget=forms.DateInput(attrs={"type": "date"}), validators=[validate_quarter_start]
    )
    client = _target_field("client")
    target = KpiTarget._meta.get_field("target").formfield()

    def __init__(
        self, *args: object, choices: dict[str, list[tuple[object, str]]], **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)
        for name, options in choices.items():
            self.fields[name].choices = options


class BaseKpiTargetFormSet(forms.BaseFormSet):
    """A mandate's targets, one row each, and a few empty rows for new ones. Saving goes
    through ``governance.kpis.figures.kpi_targets_save``, in a fixed number of queries."""

    def __init__(
        self, *args: object, mandate: Mandate, targets: list[KpiTarget], **kwargs: object
    ) -> None:
        self.mandate = mandate
        initial = [
            {
                "id": target.pk,
                "kpi": target.kpi_id,
                "period": target.period,
                "client": target.client_id,
                "target": target.target,
            }
            for target in targets
        ]
        super().__init__(*args, initial=initial, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, object]:
        return {**super().get_form_kwargs(index), "choices": self.shared_choices}

    @cached_property
    def shared_choices(self) -> dict[str, list[tuple[object, str]]]:
        accounts = Client.objects.filter(pk__in=self.mandate.accounts.values("client_id")).order_by(
            "name"
        )
        return {
            "kpi": [
                ("", "---------"),
                *((kpi.pk, str(kpi)) for kpi in Kpi.objects.order_by("name")),
            ],
            "client": [("", _("All accounts")), *((client.pk, str(client)) for client in accounts)],
        }

    def _kept(self, form: forms.Form) -> bool:
        """A row that says something: an existing target, or a new row filled in."""
        return form.has_changed() or form.cleaned_data.get("id") is not None

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        seen: set[tuple[object, ...]] = set()
        for form in self.forms:
            data = form.cleaned_data
            if not self._kept(form) or data.get("DELETE"):
                continue
            key = (data["kpi"], data["period"], data["client"])
            if key in seen:
                raise forms.ValidationError(
                    _("Two targets for the same KPI, quarter and account: keep one.")
                )
            seen.add(key)

    def rows(self) -> list[TargetRow]:
        """The rows as the committee left them (the formset is valid)."""
        return [
            TargetRow(
                id=form.cleaned_data["id"],
                kpi_id=form.cleaned_data["kpi"],
                period=form.cleaned_data["period"],
                client_id=form.cleaned_data["client"],
                target=form.cleaned_data["target"],
                delete=bool(form.cleaned_data.get("DELETE")),
            )
            for form in self.forms
            if self._kept(form)
        ]


KpiTargetFormSet = forms.formset_factory(
    KpiTargetForm, formset=BaseKpiTargetFormSet, extra=3, can_delete=True
)
