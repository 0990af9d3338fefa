"""Spreadsheets in and out, safely. Out: a text cell that a spreadsheet would run as a formula
is written as text. In: an .xlsx is refused by its declared and its real size before a
spreadsheet library reads it (a zip of a few KB may declare millions of cells or unpack to
gigabytes)."""

from __future__ import annotations

import io
import re
import zipfile

from django.conf import settings

# What Excel, LibreOffice and Google Sheets take as the start of a formula (OWASP's list).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# "<dimension ref="A1:XFD1048576"/>" near the start of a sheet's XML: the cells it declares.
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
_READ_CHUNK = 1024 * 1024


class SpreadsheetTooLarge(ValueError):
    """The workbook declares or holds more than an import takes. ``code`` and ``parameters``
    say which, for a message in the reader's language (``accounts.import_messages``)."""

    def __init__(self, code: str, **parameters: int) -> None:
        super().__init__(code)
        self.code = code
        self.parameters = parameters


def cell_safe(value: object) -> object:
    """``value`` as a cell: text that starts like a formula gets a leading apostrophe, which
    spreadsheets show as text and never run. Numbers and dates are left as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + (letter - ord("A") + 1)
    return number


def _declared_cells(head: bytes) -> int:
    """The cells a sheet's ``<dimension>`` declares (0 when it declares none)."""
    found = _DIMENSION.search(head)
    if not found:
        return 0
    first_col, first_row, last_col, last_row = found.groups()
    if last_col is None:
        return 1
    rows = int(last_row) - int(first_row) + 1
    columns = _column_number(last_col) - _column_number(first_col) + 1
    return max(rows, 0) * max(columns, 0)


def xlsx_size_check(content: bytes) -> None:
    """Refuse a workbook whose parts declare, or really unpack to, more than
    ``SKAM_IMPORT_MAX_UNPACKED_BYTES`` in all, or whose sheets declare more than
    ``SKAM_IMPORT_MAX_CELLS`` cells. A file that is not a zip is left to the reader's refusal."""
    max_bytes = settings.SKAM_IMPORT_MAX_UNPACKED_BYTES
    max_cells = settings.SKAM_IMPORT_MAX_CELLS
    too_big = {"code": "file_too_large", "mb": max_bytes // (1024 * 1024)}
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        return
    with archive:
        parts = archive.infolist()
        if sum(part.file_size for part in parts) > max_bytes:
            raise SpreadsheetTooLarge(**too_big)
        unpacked = 0
        for part in parts:
            is_sheet = part.filename.startswith("xl/worksheets/") and part.filename.endswith(".xml")
            with archive.open(part) as stream:
                head = b""
                while chunk := stream.read(_READ_CHUNK):
                    unpacked += len(chunk)
                    if unpacked > max_bytes:  # the declared sizes lied
                        raise SpreadsheetTooLarge(**too_big)
                    if is_sheet and len(head) < 4096:
                        head += chunk[:4096]
            if is_sheet and _declared_cells(head) > max_cells:
                raise SpreadsheetTooLarge("file_too_many_cells", cells=max_cells)
