"""The record as a file, CSV or XLSX, for the committee to keep or hand on. Rows are read in
chunks (bounded memory); a text cell a spreadsheet would run as a formula (one starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is written with a leading apostrophe,
so that it is shown, never run."""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections.abc import Iterator

from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext
from openpyxl import Workbook

from governance.models import RecordEntry

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_FORMATS = ("csv", "xlsx")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 2000


def neutralised(value: object) -> object:
    """A cell's value that no spreadsheet runs."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _header() -> list[str]:
    return [
        gettext("Entry"),
        gettext("When (UTC)"),
        gettext("Table"),
        gettext("Row"),
        gettext("Operation"),
        gettext("Person"),
        gettext("Person's ID"),
        gettext("Through"),
        gettext("Where"),
        gettext("Request"),
        gettext("Before"),
        gettext("After"),
        gettext("Previous hash"),
        gettext("Hash"),
    ]


def _json(value: object) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _rows(entries: QuerySet[RecordEntry]) -> Iterator[list[object]]:
    for entry in entries.select_related("actor").iterator(chunk_size=CHUNK):
        yield [
            neutralised(value)
            for value in (
                entry.pk,
                entry.at.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
                entry.table_name,
                entry.row_pk,
                entry.get_operation_display(),
                str(entry.actor) if entry.actor_id and entry.actor else "",
                entry.actor_id or "",
                entry.get_path_display(),
                entry.origin,
                entry.request_id,
                _json(entry.before),
                _json(entry.after),
                entry.prev_hash,
                entry.hash,
            )
        ]


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_csv(entries: QuerySet[RecordEntry]) -> StreamingHttpResponse:
    """Streamed: UTF-8 with a byte-order mark, so that Excel reads Cyrillic."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff" + writer.writerow(_header())
        for row in _rows(entries):
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="skam-record.csv"'
    return response


def export_xlsx(entries: QuerySet[RecordEntry]) -> HttpResponse:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(gettext("Change record"))
    sheet.append(_header())
    for row in _rows(entries):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = 'attachment; filename="skam-record.xlsx"'
    return response
