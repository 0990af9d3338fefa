"""The dashboards as files: CSV (UTF-8 with a byte-order mark, so that Excel reads Cyrillic) and
XLSX (one sheet per table). Both carry each cell's value rounded as the page shows it."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

from django.http import HttpResponse
from django.utils.translation import gettext
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from accounts.spreadsheets import cell_safe
from governance.kpis.dashboards.tables import Cell, Dashboard, Table

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_FORMATS = ("csv", "xlsx")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _header(table: Table, stated: set[int]) -> list[str]:
    """The table's columns; a column whose cells carry a state gets a state column beside it,
    so that the file says what the page's badges say."""
    header = []
    for index, column in enumerate(table.columns):
        header.append(column)
        if index in stated:
            header.append(f"{column}: {_state_word()}")
    return header


def _state_word() -> str:
    return gettext("state")


def _stated(table: Table) -> set[int]:
    """The columns some of whose cells carry a state (one pass over the table)."""
    return {
        index
        for row in table.rows
        for index, cell in enumerate(row)
        if cell.state and not cell.is_state
    }


def _safe(values: list[object]) -> list[object]:
    """Text that a spreadsheet would run as a formula (a client named "=HYPERLINK(…)"),
    written as text."""
    return [cell_safe(value) for value in values]


def _values(row: list[Cell], stated: set[int]) -> list[object]:
    """The row's values, text that a spreadsheet would run as a formula written as text."""
    values: list[object] = []
    for index, cell in enumerate(row):
        values.append(cell_safe(cell.value))
        if index in stated:
            values.append(cell.state_label)
    return values


def export_csv(board: Dashboard) -> HttpResponse:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(_safe([board.title, board.period_label]))
    for table in board.tables:
        writer.writerow([])
        writer.writerow(_safe([table.title]))
        stated = _stated(table)
        writer.writerow(_safe(_header(table, stated)))
        for row in table.rows:
            writer.writerow(["" if v is None else v for v in _values(row, stated)])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{board.filename("csv")}"'
    return response


def _sheet_title(title: str, taken: set[str]) -> str:
    base = _SHEET_FORBIDDEN.sub(" ", title).strip()[:31] or "Sheet"
    name, number = base, 2
    while name.lower() in taken:
        suffix = f" ({number})"
        name, number = base[: 31 - len(suffix)] + suffix, number + 1
    taken.add(name.lower())
    return name


def export_xlsx(board: Dashboard) -> HttpResponse:
    workbook = Workbook()
    workbook.remove(workbook.active)
    taken: set[str] = set()
    for table in board.tables:
        sheet = workbook.create_sheet(_sheet_title(table.title, taken))
        sheet.append(_safe([table.title, board.title, board.period_label]))
        stated = _stated(table)
        header = _header(table, stated)
        sheet.append(_safe(header))
        for row in table.rows:
            sheet.append([float(v) if isinstance(v, Decimal) else v for v in _values(row, stated)])
        for index, column in enumerate(header, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = max(12, len(column) + 2)
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{board.filename("xlsx")}"'
    return response


def export_response(board: Dashboard, fmt: str) -> HttpResponse:
    return export_xlsx(board) if fmt == "xlsx" else export_csv(board)
