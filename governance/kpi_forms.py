"""Forms of the KPIs: a hand-entered actual, and a mandate's targets."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from accounts.models import Client, User, quarter_label, quarter_start
from accounts.roles import Role
from governance.kpis import quarters_back
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
        queryset=User.objects.filter(groups__name=Role.KAM).order_by("last_name", "username"),
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


class KpiTargetForm(forms.ModelForm):
    class Meta:
        model = KpiTarget
        fields = ["kpi", "period", "client", "target"]
        widgets = {"period": forms.DateInput(attrs={"type": "date"})}

    def __init__(
        self,
        *args: object,
        mandate: Mandate,
        choices: dict[str, list[tuple[object, str]]] | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.filter(
            pk__in=mandate.accounts.values("client_id")
        ).order_by("name")
        self.fields["client"].empty_label = _("All accounts")
        self.fields["kpi"].queryset = Kpi.objects.order_by("name")
        # The formset's rows share one list of options: no query per row to render them.
        for name, options in (choices or {}).items():
            self.fields[name].choices = options

    def clean_period(self) -> datetime.date:
        period = self.cleaned_data["period"]
        if period != quarter_start(period):
            raise forms.ValidationError(
                _("A period is a quarter: give its first day (1 Jan, 1 Apr, 1 Jul or 1 Oct).")
            )
        return period


class BaseKpiTargetFormSet(forms.BaseInlineFormSet):
    def get_form_kwargs(self, index: int | None) -> dict[str, object]:
        return {
            **super().get_form_kwargs(index),
            "mandate": self.instance,
            "choices": self.shared_choices,
        }

    @cached_property
    def shared_choices(self) -> dict[str, list[tuple[object, str]]]:
        accounts = Client.objects.filter(
            pk__in=self.instance.accounts.values("client_id")
        ).order_by("name")
        return {
            "kpi": [
                ("", "---------"),
                *((kpi.pk, str(kpi)) for kpi in Kpi.objects.order_by("name")),
            ],
            "client": [("", _("All accounts")), *((client.pk, str(client)) for client in accounts)],
        }

    def clean(self) -> None:
        super().clean()
        seen: set[tuple[object, ...]] = set()
        for form in self.forms:
            if not form.has_changed() and not form.instance.pk:
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            data = getattr(form, "cleaned_data", None)
            if not data or not data.get("kpi") or not data.get("period"):
                continue
            key = (data["kpi"].pk, data["period"], data.get("client") and data["client"].pk)
            if key in seen:
                raise forms.ValidationError(
                    _("Two targets for the same KPI, quarter and account: keep one.")
                )
            seen.add(key)


KpiTargetFormSet = forms.inlineformset_factory(
    Mandate,
    KpiTarget,
    form=KpiTargetForm,
    formset=BaseKpiTargetFormSet,
    fk_name="mandate",
    fields=["kpi", "period", "client", "target"],
    extra=3,
    can_delete=True,
)
