"""Forms of the ruler."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.forms import BulkInlineFormSet
from accounts.models import Segment
from accounts.selectors import kams
from criteria.models import (
    USP,
    Degree,
    RulerCriterion,
    RulerVersion,
    StrategicFitRating,
    ruler_title_text,
)


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


def _percent(share: Decimal) -> Decimal:
    """0.75 → 75, 0.125 → 12.5: a share as people write it in percent."""
    value = (share * 100).quantize(Decimal("0.01"))
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


class RulerVersionForm(forms.ModelForm):
    """A draft's settings, with the shares shown as percentages as people speak of them."""

    # What a person types; a draft SKAM titled may keep it blank (see ``__init__``).
    title = forms.CharField(label=_("Title"), max_length=200, required=False)

    threshold_percent = forms.DecimalField(
        label=_("Coverage threshold, %"),
        min_value=Decimal(0),
        max_value=Decimal(100),
        decimal_places=2,
        help_text=_("Share of a key client's weighted needs our USPs must meet."),
    )
    concession_percent = forms.DecimalField(
        label=_("Concession rate, %"),
        min_value=Decimal(0),
        max_value=Decimal(100),
        decimal_places=2,
        help_text=_(
            "Share of a deal's value we give away for each unit of uncovered need: the basis "
            "of the cost of mismatch."
        ),
    )

    field_order = ["title", "horizon_months", "notes"]

    class Meta:
        model = RulerVersion
        fields = ["horizon_months", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["threshold_percent"].initial = _percent(self.instance.coverage_threshold)
        self.fields["concession_percent"].initial = _percent(self.instance.concession_rate)
        title = self.fields["title"]
        title.initial = self.instance.typed_title
        if self.instance.title_kind:
            # SKAM titled it: blank keeps that title, said in each reader's language.
            title.widget.attrs["placeholder"] = ruler_title_text(
                {"kind": self.instance.title_kind, **self.instance.title_values}
            )
            title.help_text = _("Leave it blank to keep the title SKAM gave the draft.")
        else:
            title.required = True

    def save(self, commit: bool = True) -> RulerVersion:
        self.instance.typed_title = self.cleaned_data["title"]
        self.instance.coverage_threshold = self.cleaned_data["threshold_percent"] / 100
        self.instance.concession_rate = self.cleaned_data["concession_percent"] / 100
        return super().save(commit=commit)


class CriterionForm(forms.ModelForm):
    class Meta:
        model = RulerCriterion
        fields = ["kind", "direction", "threshold", "is_gate", "weight"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("aria-label", str(field.label))


CriteriaFormSet = forms.inlineformset_factory(
    RulerVersion,
    RulerCriterion,
    form=CriterionForm,
    formset=BulkInlineFormSet,
    extra=1,
    can_delete=True,
)


class PortfolioFilter(forms.Form):
    """Filters of the portfolio map; ``apply`` narrows a queryset of evaluations."""

    segment = forms.ChoiceField(label=_("Segment"), required=False)
    owner_kam = forms.ModelChoiceField(label=_("Owner KAM"), queryset=None, required=False)
    verdict = forms.ChoiceField(
        label=_("Verdict"),
        required=False,
        choices=[("", _("Any")), ("meets", _("Meets the ruler")), ("fails", _("Does not meet"))],
    )

    def __init__(self, *args: object, user: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["segment"].choices = [("", _("Any")), *Segment.choices]
        self.fields["owner_kam"].queryset = kams()

    def apply(self, evaluations: QuerySet) -> QuerySet:
        """Narrow by every filter read; one that cannot be read is left out (the page says
        so), not the others with it."""
        if not self.is_bound:
            return evaluations
        self.is_valid()
        data = self.cleaned_data
        if data.get("segment"):
            evaluations = evaluations.filter(client__segment=data["segment"])
        if data.get("owner_kam"):
            evaluations = evaluations.filter(client__owner_kam=data["owner_kam"])
        if data.get("verdict"):
            evaluations = evaluations.filter(meets_ruler=data["verdict"] == "meets")
        return evaluations


class FitRatingForm(forms.ModelForm):
    class Meta:
        model = StrategicFitRating
        fields = ["rating", "comment"]
        widgets = {
            "rating": forms.Select(choices=[(n, str(n)) for n in range(1, 6)]),
            "comment": forms.TextInput(),
        }


class USPForm(forms.ModelForm):
    class Meta:
        model = USP
        fields = ["name", "description", "since", "retired_on"]
        widgets = {
            "since": forms.DateInput(attrs={"type": "date"}),
            "retired_on": forms.DateInput(attrs={"type": "date"}),
            "description": forms.Textarea(attrs={"rows": 2}),
        }

    def clean(self) -> dict[str, object]:
        data = super().clean()
        since, retired = data.get("since"), data.get("retired_on")
        if since and retired and retired < since:
            self.add_error("retired_on", _("A USP cannot be retired before it was offered."))
        return data
