"""The record's entries said in the reader's language: a table by what its rows are ("mandate
accounts", «счета мандата»), a column by its field's name, a choice by its label. The entries
themselves keep the database's names and values, as the triggers wrote them; the page shows
those beside the words (as a tooltip), for whoever checks them against the database."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.db import models

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


def table_label(table: str) -> str:
    """What the table's rows are, in the active language; the table's name if unknown."""
    model = _models_by_table().get(table)
    return str(model._meta.verbose_name_plural) if model is not None else table


def _value(field: models.Field | None, value: object) -> object:
    if field is not None and field.choices and isinstance(value, str | int):
        return dict(field.flatchoices).get(value, value)
    return value


def entry_changes(entry: RecordEntry) -> list[ColumnChange]:
    """``entry.changes()``, each column named by its field and each choice by its label."""
    fields = _fields_by_column(entry.table_name)
    said = []
    for column, before, after in entry.changes():
        field = fields.get(column)
        label = str(field.verbose_name) if field is not None else column
        said.append(ColumnChange(column, label, _value(field, before), _value(field, after)))
    return said
