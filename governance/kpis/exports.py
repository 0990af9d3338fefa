"""The dashboards as files: CSV (UTF-8 with a byte-order mark, so that Excel reads Cyrillic) and
XLSX (one sheet per table). Both carry each cell's value rounded as the page shows it.

A CSV holds one table (a ZIP holds one CSV per table), written the way a spreadsheet in the
reader's locale reads it: where the decimal mark is a comma (Russian), fields are separated by
";" and numbers carry the comma, as Russian Excel expects; in English, "," and ".". The XLSX
stores numbers as numbers, with a display format of as many decimals as the page shows, its
header frozen and its columns as wide as their text."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from decimal import Decimal

from django.http import HttpResponse
from django.utils import formats
from django.utils.translation import gettext
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from accounts.filenames import file_slug
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


def _csv_value(value: object, decimal_mark: str) -> object:
    """A number with the locale's decimal mark and no grouping (a spreadsheet reads it as a
    number); anything else as it is."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return str(value).replace(".", decimal_mark)
    return value


def _table_csv(table: Table, decimal_mark: str) -> str:
    """One table as a CSV file of its own: the header row, then the rows, nothing else, so that
    a spreadsheet opens it as a table it can sort and filter."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";" if decimal_mark == "," else ",")
    stated = _stated(table)
    writer.writerow(_safe(_header(table, stated)))
    for row in table.rows:
        writer.writerow([_csv_value(v, decimal_mark) for v in _values(row, stated)])
    return buffer.getvalue()


def export_csv(board: Dashboard) -> HttpResponse:
    """A dashboard of one table as one CSV; of several, a ZIP of one CSV per table, each named
    by its place on the page and its title ("05-budget-by-quarter.csv")."""
    decimal_mark = formats.get_format("DECIMAL_SEPARATOR", use_l10n=True)
    if len(board.tables) == 1:
        content = _table_csv(board.tables[0], decimal_mark)
        response = HttpResponse(content, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{board.filename("csv")}"'
        return response
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for number, table in enumerate(board.tables, start=1):
            name = f"{number:02d}-{file_slug(str(table.title)) or table.key}.csv"
            archive.writestr(name, _table_csv(table, decimal_mark).encode("utf-8"))
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{board.filename("zip")}"'
    return response


def _shortened(title: str, limit: int = 31) -> str:
    """Within Excel's 31 characters, cut at a word and marked "…", never in mid-word."""
    if len(title) <= limit:
        return title
    cut = title[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:-—")
    return f"{cut}…"


def _sheet_title(title: str, taken: set[str]) -> str:
    base = _shortened(" ".join(_SHEET_FORBIDDEN.sub(" ", title).split())) or "Sheet"
    name, number = base, 2
    while name.lower() in taken:
        suffix = f" ({number})"
        name, number = base[: 31 - len(suffix)] + suffix, number + 1
    taken.add(name.lower())
    return name


def _number_format(value: Decimal) -> str:
    """Excel's display format for a value shown with as many decimals as it has."""
    places = max(0, -value.as_tuple().exponent) if value.is_finite() else 0
    return "#,##0" + ("." + "0" * places if places else "")


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
        widths = [len(str(column)) for column in header]
        for row in table.rows:
            values = _values(row, stated)
            sheet.append([float(v) if isinstance(v, Decimal) else v for v in values])
            for index, value in enumerate(values):
                if isinstance(value, Decimal | int) and not isinstance(value, bool):
                    cell = sheet.cell(row=sheet.max_row, column=index + 1)
                    cell.number_format = _number_format(Decimal(value))
                widths[index] = max(widths[index], len(str(value or "")))
        sheet.freeze_panes = "A3"  # the title and the header stay in view
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = min(60, max(10, width + 2))
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{board.filename("xlsx")}"'
    return response


def export_response(board: Dashboard, fmt: str) -> HttpResponse:
    return export_xlsx(board) if fmt == "xlsx" else export_csv(board)
