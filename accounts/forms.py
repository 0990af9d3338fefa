"""Forms for the register. Validation lives here and on the models, never in views."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from accounts.models import (
    AccountTeamMember,
    Client,
    ClientFigure,
    ClientNeed,
    ImportEncoding,
    ImportKind,
)
from accounts.money import in_currency
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


class _SharedChoiceIterator(forms.models.ModelChoiceIterator):
    def __iter__(self) -> Iterator[tuple[Any, str]]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for row in self.field.rows().values():
            yield self.choice(row)

    def __len__(self) -> int:
        return len(self.field.rows()) + (self.field.empty_label is not None)

    def __bool__(self) -> bool:
        return self.field.empty_label is not None or bool(self.field.rows())


class _SharedChoiceField(forms.ModelChoiceField):
    """A ``ModelChoiceField`` whose rows are read once for the whole formset: ``rows`` maps
    each choice's key to its object."""

    iterator = _SharedChoiceIterator

    def __init__(self, *, rows: Callable[[], dict[str, Model]], original: Any) -> None:
        super().__init__(
            original.queryset,
            required=original.required,
            widget=original.widget,
            label=original.label,
            initial=original.initial,
            help_text=original.help_text,
            empty_label=original.empty_label,
            to_field_name=original.to_field_name,
            limit_choices_to=original.limit_choices_to,
        )
        self.error_messages = original.error_messages
        self.rows = rows

    def to_python(self, value: Any) -> Model | None:
        if value in self.empty_values:
            return None
        if isinstance(value, Model):
            value = getattr(value, self.to_field_name or "pk")
        row = self.rows().get(str(value))
        if row is None:
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return row


def _skip(*args: Any, **kwargs: Any) -> None:
    """A row's own check, done for all rows at once by ``BulkInlineFormSet``."""


class BulkInlineFormSet(forms.BaseInlineFormSet):
    """An inline formset that reads and saves in a fixed number of queries, however many rows it
    has: each list of choices (the rows' ids, the people of a team) is read once for all the
    forms; the forms skip their one-by-one uniqueness and constraint queries, as the formset
    checks its rows against each other, they are all of the parent's rows, and the fields'
    validators and the database's constraints stand behind them; ``save`` deletes, updates and
    inserts in bulk."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shared_rows: dict[str, dict[str, Model]] = {}

    def _rows_of(self, name: str, field: forms.ModelChoiceField) -> Callable[[], dict[str, Model]]:
        def rows() -> dict[str, Model]:
            if name not in self._shared_rows:
                key = field.to_field_name or "pk"
                queryset = self.get_queryset() if name == self._pk_field.name else field.queryset
                self._shared_rows[name] = {str(getattr(row, key)): row for row in queryset}
            return self._shared_rows[name]

        return rows

    def add_fields(self, form: forms.ModelForm, index: int | None) -> None:
        super().add_fields(form, index)
        for name, field in list(form.fields.items()):
            if isinstance(field, forms.ModelChoiceField) and not isinstance(
                field, (forms.ModelMultipleChoiceField, _SharedChoiceField)
            ):
                form.fields[name] = _SharedChoiceField(
                    rows=self._rows_of(name, field), original=field
                )
        # One query per row and constraint otherwise. The formset's own ``validate_unique``
        # compares the rows with each other; the fields' validators mirror the check
        # constraints; the database enforces all of them on save.
        form.validate_unique = _skip
        form.instance.validate_constraints = _skip
        # Nor does the model look up again, row by row, the objects the shared fields found.
        shared = {
            name for name, field in form.fields.items() if isinstance(field, _SharedChoiceField)
        }
        clean_fields = form.instance.clean_fields

        def clean_other_fields(exclude: Iterable[str] | None = None) -> None:
            clean_fields(exclude={*(exclude or ()), *shared})

        form.instance.clean_fields = clean_other_fields

    def save(self, commit: bool = True) -> list[Model]:
        saved = super().save(commit=False)
        if not commit:
            return saved
        model = self.model
        if self.deleted_objects:
            model._default_manager.filter(pk__in=[row.pk for row in self.deleted_objects]).delete()
        if self.changed_objects:
            concrete = {f.name for f in model._meta.concrete_fields if not f.primary_key}
            fields = sorted({name for _row, changed in self.changed_objects for name in changed})
            model._default_manager.bulk_update(
                [row for row, _changed in self.changed_objects],
                [name for name in fields if name in concrete],
            )
        if self.new_objects:
            model._default_manager.bulk_create(self.new_objects)
        return saved


class TeamMemberForm(forms.ModelForm):
    class Meta:
        model = AccountTeamMember
        fields = ["user", "role"]


TeamFormSet = forms.inlineformset_factory(
    Client,
    AccountTeamMember,
    form=TeamMemberForm,
    formset=BulkInlineFormSet,
    extra=1,
    can_delete=True,
)


class NeedForm(forms.ModelForm):
    class Meta:
        model = ClientNeed
        fields = ["name", "weight", "description"]
        widgets = {"description": forms.TextInput()}


NeedFormSet = forms.inlineformset_factory(
    Client, ClientNeed, form=NeedForm, formset=BulkInlineFormSet, extra=2, can_delete=True
)


class FigureForm(forms.ModelForm):
    AMOUNTS = ("revenue", "gross_margin", "potential_revenue")

    class Meta:
        model = ClientFigure
        fields = ["period", "revenue", "gross_margin", "potential_revenue", "share_of_wallet"]
        widgets = {"period": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Amounts are entered in the company's currency: its column says which.
        for name in self.AMOUNTS:
            self.fields[name].label = in_currency(capfirst(self.fields[name].label))


FigureFormSet = forms.inlineformset_factory(
    Client, ClientFigure, form=FigureForm, formset=BulkInlineFormSet, extra=1, can_delete=True
)


class ImportEncodingForm(forms.Form):
    """Read a CSV file again in another encoding, when its names came out garbled."""

    encoding = forms.ChoiceField(label=_("Read the file as"), choices=ImportEncoding.choices)


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("The file holds"), choices=ImportKind.choices)
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "CSV (UTF-8, Windows-1251, KOI8-R or CP866, ';' or ',' separated) or Excel .xlsx."
        ),
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
