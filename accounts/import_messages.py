"""What an import's check found, said in the reader's language when it is read.

The check stores each problem as data: ``{"code": …, "column": <the file's own header>,
"value": <the cell as found>, …parameters}``. Nothing is stored as a sentence, so the same report
reads in English to one user and in Russian to the next.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import ImportAction, ImportBatch, ImportKind, ImportRow, Segment
from accounts.numbers import number_text
from accounts.periods import quarter_label


def _number(value: Any) -> str:
    try:
        return number_text(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return str(value)


def _quoted_list(names: list[str]) -> str:
    return ", ".join(_("“%(name)s”") % {"name": name} for name in names)


# code → the sentence, with %(value)s for the cell as found and the code's own parameters.
MESSAGES: dict[str, Any] = {
    "file_empty": gettext_lazy("The file is empty."),
    "file_no_rows": gettext_lazy("The file has no rows."),
    "file_no_data_rows": gettext_lazy("The file has a header row but no data rows."),
    "file_unreadable_csv": gettext_lazy("The file is not a readable CSV table."),
    "file_not_in_encoding": gettext_lazy(
        "The file does not read as %(encoding)s: choose another encoding."
    ),
    "file_unreadable_xlsx": gettext_lazy("This is not a readable .xlsx workbook."),
    "file_too_large": gettext_lazy(
        "The workbook unpacks to more than %(mb)s MB; an import takes less."
    ),
    "file_too_many_cells": gettext_lazy(
        "The sheet declares more than %(cells)s cells; an import takes fewer."
    ),
    "missing_columns": gettext_lazy("The header row lacks required columns: %(columns)s."),
    "worker_failed": gettext_lazy(
        "The worker failed on this file and nothing was imported. Check the file again; "
        "if it fails again, tell the administrator of the servers."
    ),
    "required": gettext_lazy("the cell is empty, but this column is required."),
    "inn_not_digits": gettext_lazy(
        "“%(value)s” is not an INN: an INN has only digits, 10 for an organisation or 12 for "
        "an individual entrepreneur."
    ),
    "inn_length": gettext_lazy(
        "“%(value)s” is not an INN: it has %(length)s digits; an INN has 10 (an organisation) "
        "or 12 (an individual entrepreneur)."
    ),
    "inn_check_digit": gettext_lazy(
        "“%(value)s” is not a valid INN: its check digits do not match (a mistyped digit?)."
    ),
    "kpp_format": gettext_lazy(
        "“%(value)s” is not a KPP: a KPP has 9 characters, four digits, then two digits or "
        "capital Latin letters, then three digits."
    ),
    "kpp_entrepreneur": gettext_lazy(
        "“%(value)s”: an individual entrepreneur (a 12-digit INN) has no KPP."
    ),
    "ogrn_not_digits": gettext_lazy(
        "“%(value)s” is not an OGRN: an OGRN has only digits, 13 (15 for an OGRNIP)."
    ),
    "ogrn_length": gettext_lazy(
        "“%(value)s” is not an OGRN: it has %(length)s digits; an OGRN has 13, an OGRNIP 15."
    ),
    "ogrn_check_digit": gettext_lazy(
        "“%(value)s” is not a valid OGRN: its check digit does not match (a mistyped digit?)."
    ),
    "ogrn_inn_kind": gettext_lazy(
        "“%(value)s” does not fit the INN: an organisation (10-digit INN) has a 13-digit OGRN, "
        "an individual entrepreneur (12-digit INN) a 15-digit OGRNIP."
    ),
    "too_long": gettext_lazy(
        "“%(value)s” is too long: at most %(limit)s characters, it has %(length)s."
    ),
    "line_break": gettext_lazy("“%(value)s” holds a line break: keep it on one line."),
    "not_a_number": gettext_lazy("“%(value)s” is not a number."),
    "weight_range": gettext_lazy("“%(value)s” is not a weight: write a whole number from 0 to 10."),
    "min_value": gettext_lazy("“%(value)s” is less than %(limit)s."),
    "max_value": gettext_lazy("“%(value)s” is more than %(limit)s."),
    "too_many_digits": gettext_lazy(
        "“%(value)s” has too many digits: at most %(digits)s, %(places)s of them after the "
        "decimal mark."
    ),
    "not_a_quarter": gettext_lazy(
        "“%(value)s” is not a quarter: write it as 2026-Q3, III кв. 2026 or 01.07.2026."
    ),
    "not_quarter_start": gettext_lazy("“%(value)s” is not the first day of a quarter."),
    "unknown_segment": gettext_lazy("Unknown segment “%(value)s”; use one of: %(choices)s."),
    "unknown_kam": gettext_lazy("“%(value)s” is not the user name of an active KAM."),
    "no_client": gettext_lazy("No client with INN “%(value)s” in the register."),
    "repeats_row": gettext_lazy(
        "“%(value)s” repeats row %(row)s; each row must describe something different."
    ),
    "invalid": gettext_lazy("“%(value)s” is not valid here."),
}

# Parameters said as numbers in the reader's locale, or as lists.
_PARAMETERS: dict[str, Callable[[Any], str]] = {
    "limit": _number,
    "length": _number,
    "digits": _number,
    "places": _number,
    "cells": _number,
    "mb": _number,
    "row": _number,
    "columns": _quoted_list,
}


def import_error_text(error: dict[str, Any] | str) -> str:
    """One problem the check found, as a sentence in the active language, led by the file's own
    column header when it concerns a cell."""
    if isinstance(error, str):  # a report written before errors were kept as codes
        return error
    code = error.get("code", "invalid")
    if code == "text":
        return str(error.get("text", ""))
    template = MESSAGES.get(code, MESSAGES["invalid"])
    parameters = {
        name: _PARAMETERS.get(name, str)(value)
        for name, value in error.items()
        if name not in ("code", "column")
    }
    parameters.setdefault("value", "")
    if code == "unknown_segment":
        parameters["choices"] = ", ".join(str(label) for _code, label in Segment.choices)
    try:
        problem = str(template) % parameters
    except (KeyError, TypeError, ValueError):
        problem = str(MESSAGES["invalid"]) % parameters
    column = error.get("column")
    if not column:
        return problem
    return _("“%(column)s”: %(problem)s") % {"column": column, "problem": problem}


def import_errors_text(errors: list[dict[str, Any] | str]) -> list[str]:
    return [import_error_text(error) for error in errors]


# --- The report's rows, as the page shows them ---------------------------------------------------

_NUMBERS = ("revenue", "gross_margin", "potential_revenue", "share_of_wallet", "weight")


def _cell_shown(column: str, value: Any) -> str:
    """A parsed value in the reader's locale: "1 234,50", "III кв. 2026", «Крупный бизнес»."""
    if value in (None, ""):
        return ""
    try:
        if column in _NUMBERS:
            return number_text(Decimal(str(value)))
        if column == "period":
            return quarter_label(datetime.date.fromisoformat(str(value)))
    except (InvalidOperation, ValueError):
        return str(value)
    if column == "segment":
        return str(dict(Segment.choices).get(value, value))
    return str(value)


def import_action_text(kind: str, action: str, changed: list[str]) -> str:
    """What a row does to the register, in the reader's language."""
    if action == ImportAction.ERROR:
        return _("error: not imported")
    if action == ImportAction.UNCHANGED:
        return _("unchanged")
    if action == ImportAction.CREATE:
        return {
            ImportKind.CLIENTS: _("new client"),
            ImportKind.NEEDS: _("updated: needs (a new need)"),
            ImportKind.FIGURES: _("updated: figures (a new quarter)"),
        }[kind]
    columns = ", ".join(changed)
    return {
        ImportKind.CLIENTS: _("updated: client data (%(columns)s)"),
        ImportKind.NEEDS: _("updated: needs (%(columns)s)"),
        ImportKind.FIGURES: _("updated: figures (%(columns)s)"),
    }[kind] % {"columns": columns}


@dataclass
class RowShown:
    row: int
    key: str
    action: str
    result: str
    cells: list[str]
    errors: list[str]


def import_rows_shown(batch: ImportBatch, rows: Iterable[ImportRow]) -> list[RowShown]:
    """The report's rows with their values, result and errors, said in the reader's language;
    changed columns are named by the file's own headers."""
    titles = {column: title for column, title in batch.columns}
    order = [column for column, _title in batch.columns]
    shown = []
    for row in rows:
        changed = [titles.get(column, column) for column in row.changed if column in titles]
        cells = list(row.cells) + [""] * (len(order) - len(row.cells))
        shown.append(
            RowShown(
                row=row.row,
                key=row.key,
                action=row.action,
                result=import_action_text(batch.kind, row.action, changed),
                cells=[_cell_shown(c, v) for c, v in zip(order, cells, strict=False)],
                errors=import_errors_text(row.errors),
            )
        )
    return shown
