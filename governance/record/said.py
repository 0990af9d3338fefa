"""The record's entries said in the reader's language: a table by what its rows are ("mandate
accounts", «счета мандата»), a column by its field's name, a choice by its label. The entries
themselves keep the database's names and values, as the triggers wrote them; the page shows
those beside the words (as a tooltip), for whoever checks them against the database."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.db import models
from django.template.defaultfilters import yesno

from governance.models import RecordEntry
from governance.record.governed import governed_tables


@dataclass(frozen=True)
class ColumnChange:
    column: str  # as in the database
    label: str
    before: object
    after: object


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
    if field.model._meta.auto_created and field.is_relation:
        # A made table's columns are named after the models they point to, in English.
        return str(field.related_model._meta.verbose_name)
    return str(field.verbose_name)


def _value(field: models.Field | None, value: object) -> object:
    if isinstance(value, bool):
        return yesno(value)  # "да", "нет" in Russian, from Django's own catalogue
    if field is not None and field.choices and isinstance(value, str | int):
        return dict(field.flatchoices).get(value, value)
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
        said.append(ColumnChange(column, label, _value(field, before), _value(field, after)))
    return said
