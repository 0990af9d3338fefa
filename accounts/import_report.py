"""The error report of an import: the uploaded file as it was (a CSV in its encoding and with its
separator, or a workbook), with one more column that says what is wrong with each row, to fix
and upload again. The check ignores that column, and a report of a report replaces it."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from typing import Any

import openpyxl
from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl.cell import WriteOnlyCell

from accounts.import_messages import import_errors_text
from accounts.imports import _csv_format, _filled, csv_records, is_xlsx, xlsx_open
from accounts.models import ImportAction, ImportBatch, ImportRow


def _error_titles() -> set[str]:
    titles = set()
    for language in ("en", "ru"):
        with translation.override(language):
            titles.add(_("Errors").lower())
    return titles


def _errors_by_row(batch: ImportBatch) -> dict[int, str]:
    return {
        row: "; ".join(import_errors_text(errors))
        for row, errors in ImportRow.objects.filter(
            batch=batch, action=ImportAction.ERROR
        ).values_list("row", "errors")
    }


def _with_errors(records: Iterator[list[Any]], errors: dict[int, str]) -> Iterator[list[Any]]:
    """Each record with its errors in a last column; the header row names that column (and
    carries the errors of the file as a whole). An error column of an earlier report goes."""
    titles = _error_titles()
    dropped: int | None = None
    header_seen = False
    for number, record in enumerate(records, start=1):
        cells = list(record)
        if not header_seen and _filled(cells):
            header_seen = True
            dropped = next(
                (i for i, cell in enumerate(cells) if str(cell or "").strip().lower() in titles),
                None,
            )
            if dropped is not None:
                del cells[dropped]
            yield [*cells, _("Errors") + (f": {errors[0]}" if 0 in errors else "")]
            continue
        if dropped is not None and dropped < len(cells):
            del cells[dropped]
        yield [*cells, errors.get(number, "")]


def _csv_report(content: bytes, errors: dict[int, str], encoding: str) -> bytes:
    """The file as it was read (in the encoding the check used), with the error column."""
    encoding, delimiter = _csv_format(content, encoding)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows(_with_errors(csv_records(content, encoding, delimiter), errors))
    body = out.getvalue()
    if encoding == "utf-8-sig":
        return codecs.BOM_UTF8 + body.encode("utf-8")
    return body.encode(encoding, errors="replace")


def _xlsx_report(content: bytes, errors: dict[int, str]) -> bytes:
    source = xlsx_open(content)
    target = openpyxl.Workbook(write_only=True)
    sheet = target.create_sheet(title=source.worksheets[0].title[:31])
    try:

        def records() -> Iterator[list[Any]]:
            for row in source.worksheets[0].iter_rows():
                yield [_copied(sheet, cell) for cell in row]

        for record in _with_errors(records(), errors):
            sheet.append(record)
    finally:
        source.close()
    out = io.BytesIO()
    target.save(out)
    return out.getvalue()


def _copied(sheet: Any, cell: Any) -> Any:
    """A cell with its number format, so that "12,5 %" and dates read back as they were."""
    if cell.value is None:
        return None
    copy = WriteOnlyCell(sheet, value=cell.value)
    copy.number_format = getattr(cell, "number_format", "General") or "General"
    return copy


def import_error_report(*, batch: ImportBatch) -> tuple[str, bytes]:
    """The file name and bytes of the batch's error report, in the active language."""
    errors = _errors_by_row(batch)
    content = bytes(batch.content)
    stem, dot, extension = batch.filename.rpartition(".")
    name = f"{stem or extension} — {_('errors')}.{extension if dot else 'csv'}"
    if is_xlsx(batch.filename):
        return name, _xlsx_report(content, errors)
    return name, _csv_report(content, errors, batch.encoding)
