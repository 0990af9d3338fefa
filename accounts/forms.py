"""Forms for the register. Validation lives here and on the models, never in views."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.models import AccountTeamMember, Client, ClientFigure, ClientNeed, ImportKind
from accounts.selectors import kams


class ClientForm(forms.ModelForm):
    class Meta:
        model = Client
        fields = [
            "name",
            "registration_number",
            "segment",
            "industry",
            "region",
            "owner_kam",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner_kam"].queryset = kams()


class TeamMemberForm(forms.ModelForm):
    class Meta:
        model = AccountTeamMember
        fields = ["user", "role"]


TeamFormSet = forms.inlineformset_factory(
    Client, AccountTeamMember, form=TeamMemberForm, extra=1, can_delete=True
)


class NeedForm(forms.ModelForm):
    class Meta:
        model = ClientNeed
        fields = ["name", "weight", "description"]
        widgets = {"description": forms.TextInput()}


NeedFormSet = forms.inlineformset_factory(
    Client, ClientNeed, form=NeedForm, extra=2, can_delete=True
)


class FigureForm(forms.ModelForm):
    class Meta:
        model = ClientFigure
        fields = ["period", "revenue", "gross_margin", "potential_revenue", "share_of_wallet"]
        widgets = {"period": forms.DateInput(attrs={"type": "date"})}


FigureFormSet = forms.inlineformset_factory(
    Client, ClientFigure, form=FigureForm, extra=1, can_delete=True
)


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("The file holds"), choices=ImportKind.choices)
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (UTF-8 or Windows-1251, ';' or ',' separated) or Excel .xlsx."),
    )

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        name = upload.name.lower()
        if not name.endswith((".csv", ".txt", ".xlsx")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        if upload.size > settings.SKAM_IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(limit)d MB.")
                % {"limit": settings.SKAM_IMPORT_MAX_BYTES // (1024 * 1024)}
            )
        return upload
