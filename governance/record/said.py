"""The record's entries said in the reader's language: a table by what its rows are ("mandate
accounts", «счета мандата»), a column by its field's name, a choice by its label, a moment, a
day and a number as the reader's language writes them. The entries themselves keep the
database's names and values, as the triggers wrote them; the page shows those beside the words
(as a tooltip), for whoever checks them against the database. What is stored as data and has
no words to say it in (a structure stored as JSON, a digest) is shown as written, as code."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import models
from django.template.defaultfilters import yesno
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.functional import Promise

from governance.models import RecordEntry
from governance.record.governed import governed_tables

# Digests: codes with no words to say them in, shown by their first characters (as a commit
# is named by its short hash), whole in a tooltip, the export and the API.
DIGEST_COLUMNS = frozenset({"digest", "version_digest"})


@dataclass(frozen=True)
class ColumnChange:
    column: str  # as in the database
    label: str
    before: object
    after: object
    verbatim: bool = False  # shown as code: stored as data, not said in any language
    digest: bool = False  # a digest, shown by its first characters


@functools.cache
def _models_by_table() -> dict[str, type[models.Model]]:
    return {table.table: table.model for table in governed_tables()}


@functools.cache
def _fields_by_column(table: str) -> dict[str, models.Field]:
    model = _models_by_table().get(table)
    if model is None:
        return {}
    return {field.column: field for field in model._meta.concrete_fields}


def _model_label(model: type[models.Model]) -> str:
    """A many-to-many table Django made ("User-group relationships", in English whatever the
    language) is said as its owner and field: «пользователи: группы»."""
    owner = model._meta.auto_created
    if owner:
        for field in owner._meta.many_to_many:
            if field.remote_field.through is model:
                return f"{owner._meta.verbose_name_plural}: {field.verbose_name}"
    return str(model._meta.verbose_name_plural)


def table_label(table: str) -> str:
    """What the table's rows are, in the active language; the table's name if unknown."""
    model = _models_by_table().get(table)
    return _model_label(model) if model is not None else table


def _column_label(field: models.Field) -> str:
    if field.is_relation and (
        field.model._meta.auto_created or not isinstance(field.verbose_name, Promise)
    ):
        # A made table's columns, and a relation nobody named, are named by Django after the
        # field, in English: said as the model they point to instead.
        return str(field.related_model._meta.verbose_name)
    return str(field.verbose_name)


def _value(field: models.Field | None, value: object) -> object:
    if isinstance(value, bool):
        return yesno(value)  # "да", "нет" in Russian, from Django's own catalogue
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if field is not None and field.choices and isinstance(value, str | int):
        return dict(field.flatchoices).get(value, value)
    # The triggers write moments, days and decimals as JSON does: "2026-12-06T06:46:54+00:00".
    if isinstance(field, models.DateTimeField) and isinstance(value, str):
        moment = parse_datetime(value)
        if moment is not None:
            if timezone.is_aware(moment):
                moment = timezone.localtime(moment)
            return formats.date_format(moment, "SHORT_DATETIME_FORMAT")
    elif isinstance(field, models.DateField) and isinstance(value, str):
        day = parse_date(value)
        if day is not None:
            return formats.date_format(day, "SHORT_DATE_FORMAT")
    if isinstance(field, models.DecimalField | models.FloatField) and isinstance(
        value, str | int | float
    ):
        try:
            return formats.number_format(Decimal(str(value)), use_l10n=True)
        except InvalidOperation:
            return value
    return value


def entry_changes(entry: RecordEntry) -> list[ColumnChange]:
    """``entry.changes()``, each column named by its field and each choice by its label."""
    fields = _fields_by_column(entry.table_name)
    said = []
    for column, before, after in entry.changes():
        field = fields.get(column)
        if field is not None and field.primary_key:
            continue  # the row's number, shown with its table
        label = _column_label(field) if field is not None else column
        digest = column in DIGEST_COLUMNS
        verbatim = digest or isinstance(field, models.JSONField)
        said.append(
            ColumnChange(
                column, label, _value(field, before), _value(field, after), verbatim, digest
            )
        )
    return said
