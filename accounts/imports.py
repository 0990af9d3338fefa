"""Import of clients, needs and figures from CSV and XLSX files, the way Russian companies keep
them: UTF-8, Windows-1251, KOI8-R or CP866 (detected), ';' or ',' separated, decimal commas,
Russian or English headers.

Two steps, each run by the worker (``accounts.tasks``) and callable directly. ``import_check``
reads the file, validates every row without writing anything to the register and keeps the file
with its row-by-row report (``ImportRow``: what each row will do, its values as parsed, its
errors as codes). ``import_apply`` imports a checked batch all-or-nothing, upserting by
registration number (the INN). Both stream the file in chunks of ``CHUNK_ROWS`` rows, so memory
stays bounded whatever its length, and work set-based: a few queries per chunk, never one per
row.

Errors name the file's own column header («ИНН», «Вес») and the value found there; they are
stored as codes and said in the reader's language (``accounts.import_messages``).
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

import charset_normalizer
import openpyxl
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Count, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.choices import filter_choices_sync
from accounts.models import (
    Client,
    ClientFigure,
    ClientNeed,
    ImportAction,
    ImportBatch,
    ImportEncoding,
    ImportKind,
    ImportProgress,
    ImportRow,
    ImportStatus,
    Segment,
    User,
)
from accounts.needs import needs_recorded
from accounts.periods import quarter_numbered, quarter_start
from accounts.selectors import kams
from accounts.spreadsheets import SpreadsheetTooLarge, xlsx_size_check
from accounts.taxids import inn_problem, kpp_problem, ogrn_inn_mismatch, ogrn_problem

# Rows validated, and written, together: each chunk costs a few queries, and memory holds one.
CHUNK_ROWS = 2000


class ImportFileError(Exception):
    """The file as a whole cannot be read (format, encoding, missing columns). ``error`` is the
    problem as data: a code and its parameters."""

    def __init__(self, code: str, **parameters: Any) -> None:
        super().__init__(code)
        self.error = {"code": code, **parameters}


# Column name → the spellings accepted in a header row (compared case-insensitively); the
# first is the English one, the second the Russian one, as a missing column is named.
_INN_SPELLINGS = (
    "registration_number",
    "ИНН",
    "registration number",
    "inn",
    "регистрационный номер",
    "рег. номер",
)
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    ImportKind.CLIENTS: {
        "registration_number": _INN_SPELLINGS,
        "name": ("name", "Наименование", "client", "название", "клиент"),
        "segment": ("segment", "Сегмент"),
        "industry": ("industry", "Отрасль"),
        "region": ("region", "Регион"),
        "owner_kam": ("kam", "КАМ", "owner_kam", "owner kam", "менеджер", "ответственный"),
        "notes": ("notes", "Примечание", "комментарий"),
        # Checked where given, not kept: they catch a row shifted by a column or a mistyped INN.
        "kpp": ("kpp", "КПП"),
        "ogrn": ("ogrn", "ОГРН", "ogrnip", "огрнип", "огрн/огрнип"),
    },
    ImportKind.NEEDS: {
        "registration_number": _INN_SPELLINGS,
        "name": ("need", "Потребность", "name"),
        "weight": ("weight", "Вес", "importance", "важность"),
        "description": ("description", "Описание"),
    },
    ImportKind.FIGURES: {
        "registration_number": _INN_SPELLINGS,
        "period": ("period", "Квартал", "quarter", "период"),
        "revenue": ("revenue", "Выручка"),
        "gross_margin": ("gross_margin", "Валовая маржа", "gross margin", "margin", "маржа"),
        "potential_revenue": ("potential_revenue", "Потенциал", "potential revenue", "potential"),
        "share_of_wallet": ("share_of_wallet", "Доля кошелька", "share of wallet"),
    },
}
REQUIRED: dict[str, tuple[str, ...]] = {
    ImportKind.CLIENTS: ("registration_number", "name"),
    ImportKind.NEEDS: ("registration_number", "name", "weight"),
    ImportKind.FIGURES: (
        "registration_number",
        "period",
        "revenue",
        "gross_margin",
        "potential_revenue",
    ),
}
_MONEY = ("revenue", "gross_margin", "potential_revenue", "share_of_wallet")
_CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)


@dataclass
class RowResult:
    row: int
    key: str
    action: str = ""  # an ImportAction
    errors: list[dict[str, Any]] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)  # as written to the register
    cells: list[Any] = field(default_factory=list)  # as parsed, for the preview
    changed: list[str] = field(default_factory=list)  # the columns an update changes
    target: int | None = None  # the primary key an update writes to


class StoredRow(NamedTuple):
    """A row as an earlier check kept it."""

    row: int
    key: str
    action: str
    cells: list[Any]


# --- Reading files, streamed -----------------------------------------------------------------


@dataclass
class OpenTable:
    """A file being read: its format, and its non-blank rows with their numbers in the file."""

    rows: Iterator[tuple[int, list[Any]]]
    expected_rows: int | None
    encoding: str = ""
    delimiter: str = ""


# What Russian files come in besides UTF-8: Excel's "CSV (разделители — точки с запятой)" in
# a Russian locale (Windows-1251), older Unix systems and mail (KOI8-R), DOS-era accounting
# exports (CP866). Each reads any bytes, so only the text's sense tells them apart.
SINGLE_BYTE_ENCODINGS = (ImportEncoding.CP1251, ImportEncoding.KOI8_R, ImportEncoding.CP866)
# Enough text to recognise the language by (the header and a few hundred rows), read quickly.
ENCODING_SAMPLE = 256 * 1024


def _is_utf8(content: bytes) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(content), 1 << 20):
            decoder.decode(content[start : start + (1 << 20)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def encoding_detect(content: bytes) -> str:
    """UTF-8 (with or without a BOM) when every byte of the file reads as UTF-8; otherwise the
    one of Windows-1251, KOI8-R and CP866 in which the text reads as a language
    (charset-normalizer, on the first part of the file), Windows-1251 when none does."""
    if _is_utf8(content):
        return (
            ImportEncoding.UTF8_BOM if content.startswith(codecs.BOM_UTF8) else ImportEncoding.UTF8
        )
    sample = content[:ENCODING_SAMPLE]
    if len(content) > ENCODING_SAMPLE:
        sample = sample[: sample.rfind(b"\n") + 1] or sample  # whole lines only
    best = charset_normalizer.from_bytes(
        sample, cp_isolation=[str(e) for e in SINGLE_BYTE_ENCODINGS]
    ).best()
    found = codecs.lookup(best.encoding).name if best is not None else ""
    for encoding in SINGLE_BYTE_ENCODINGS:
        if codecs.lookup(encoding).name == found:
            return encoding
    return ImportEncoding.CP1251


def _reads_in(content: bytes, encoding: str) -> bool:
    """Whether every byte of the file has a character in ``encoding`` (never decoded whole)."""
    if encoding in (ImportEncoding.UTF8, ImportEncoding.UTF8_BOM):
        return _is_utf8(content)
    if encoding == ImportEncoding.CP1251:
        return b"\x98" not in content  # the one byte Windows-1251 leaves unassigned
    return True  # KOI8-R and CP866 give every byte a character


def _encoding(content: bytes, chosen: str = "") -> str:
    """The encoding a CSV file is read with: the one a person chose, or the one detected; a
    file that does not read in it is refused (``ImportFileError``)."""
    if chosen:
        if not _reads_in(content, chosen):
            raise ImportFileError("file_not_in_encoding", encoding=ImportEncoding(chosen).label)
        return chosen
    encoding = encoding_detect(content)
    if encoding == ImportEncoding.CP1251 and not _reads_in(content, encoding):
        raise ImportFileError("file_unreadable_csv")
    return encoding


def _delimiter(header_line: str) -> str:
    # Excel in a Russian locale separates with ';', and its header names often hold commas
    # ("Выручка, руб."): a ';' in the header row decides, whatever the commas say.
    for delimiter in (";", "\t"):
        if delimiter in header_line:
            return delimiter
    return ","


def _csv_format(content: bytes, encoding: str = "") -> tuple[str, str]:
    """The encoding (``encoding`` when a person chose one) and delimiter of a CSV file."""
    encoding = _encoding(content, encoding)
    head = content[: 64 * 1024].decode(encoding, errors="ignore")
    header_line = next((line for line in head.splitlines() if line.strip()), "")
    return encoding, _delimiter(header_line)


def csv_records(content: bytes, encoding: str, delimiter: str) -> Iterator[list[str]]:
    """The file's records, read as they are needed (the file's bytes are never decoded whole)."""
    text = io.TextIOWrapper(io.BytesIO(content), encoding=encoding, newline="")
    try:
        yield from csv.reader(text, delimiter=delimiter)
    except csv.Error as exc:
        raise ImportFileError("file_unreadable_csv") from exc


def _numbered_filled(records: Iterator[list[Any]]) -> Iterator[tuple[int, list[Any]]]:
    for number, record in enumerate(records, start=1):
        if _filled(record):
            yield number, record


def _xlsx_value(cell: Any) -> Any:
    value = cell.value
    # A cell shown as "12,5 %" holds 0.125; the file means the number it shows.
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if is_number and "%" in (getattr(cell, "number_format", None) or ""):
        return value * 100
    return value


def xlsx_open(content: bytes) -> Any:
    try:
        xlsx_size_check(content)
    except SpreadsheetTooLarge as exc:
        raise ImportFileError(exc.code, **exc.parameters) from exc
    try:
        return openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not a workbook
        raise ImportFileError("file_unreadable_xlsx") from exc


def is_xlsx(filename: str) -> bool:
    return filename.lower().endswith(".xlsx")


@contextmanager
def table_open(content: bytes, filename: str, encoding: str = "") -> Iterator[OpenTable]:
    """The file's non-blank rows as lists of cell values, each with its number in the file
    (the number the user sees in the spreadsheet), read as they are needed. A CSV file is read
    in ``encoding`` when given, in the one detected otherwise."""
    if not content:
        raise ImportFileError("file_empty")
    if is_xlsx(filename):
        workbook = xlsx_open(content)
        try:
            try:
                sheet = workbook.worksheets[0]
                expected = sheet.max_row
            except Exception as exc:
                raise ImportFileError("file_unreadable_xlsx") from exc
            records = ([_xlsx_value(cell) for cell in row] for row in sheet.iter_rows())
            yield OpenTable(rows=_numbered_filled(records), expected_rows=expected)
        finally:
            workbook.close()
        return
    encoding, delimiter = _csv_format(content, encoding)
    records = csv_records(content, encoding, delimiter)
    yield OpenTable(
        rows=_numbered_filled(records),
        expected_rows=content.count(b"\n") + 1,
        encoding=encoding,
        delimiter=delimiter,
    )


def read_table(content: bytes, filename: str, encoding: str = "") -> list[list[Any]]:
    """The whole file's rows, blank ones kept, so that ``table[i]`` is row ``i + 1`` (for small
    files and tests; the import itself streams)."""
    if not content:
        raise ImportFileError("file_empty")
    if is_xlsx(filename):
        workbook = xlsx_open(content)
        try:
            return [[_xlsx_value(c) for c in row] for row in workbook.worksheets[0].iter_rows()]
        finally:
            workbook.close()
    return list(csv_records(content, *_csv_format(content, encoding)))


def _filled(row: list[Any]) -> bool:
    return any(_text(cell) for cell in row)


# What follows a column's name: "Выручка, руб.", "Доля кошелька (%)", "Маржа (без НДС), руб.".
_HEADER_UNIT = re.compile(r"\s*[,(].*$")


@dataclass
class Header:
    """The recognised columns: where each is, and the file's own header for it."""

    index: dict[str, int]
    titles: dict[str, str]

    def columns(self) -> list[list[str]]:
        """[[column, header]…] in the file's order, for the preview."""
        return [[name, self.titles[name]] for name in sorted(self.index, key=self.index.get)]


def header_read(kind: str, header: list[Any]) -> Header:
    spellings = {
        spelling.lower(): column for column, names in COLUMNS[kind].items() for spelling in names
    }
    index: dict[str, int] = {}
    titles: dict[str, str] = {}
    for position, cell in enumerate(header):
        title = _text(cell)
        name = title.lower()
        column = spellings.get(name) or spellings.get(_HEADER_UNIT.sub("", name))
        if column and column not in index:
            index[column] = position
            titles[column] = title
    missing = [c for c in REQUIRED[kind] if c not in index]
    if missing:
        # A missing column is named as the file would name it: in Russian in a Russian file.
        russian = any(_CYRILLIC.search(_text(cell)) for cell in header)
        raise ImportFileError(
            "missing_columns", columns=[COLUMNS[kind][c][1 if russian else 0] for c in missing]
        )
    return Header(index=index, titles=titles)


# --- Reading cells ---------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        return value.strftime("%d.%m.%Y")
    return str(value).strip()


_SPACES = re.compile(r"[\s\u00a0\u202f']")


def parse_decimal(value: Any) -> Decimal | None:
    """'1 234 567,89', '1234567.89', '1.234.567,89' and spreadsheet numbers alike."""
    if value is None or value == "":
        return None
    if isinstance(value, float):
        # A spreadsheet keeps 15 significant digits and shows no more; past them is binary
        # noise (a formula's 1234.56 is stored as 1234.5600000000002).
        number = Decimal(format(value, ".15g"))
    elif isinstance(value, int | Decimal) and not isinstance(value, bool):
        number = Decimal(value)
    else:
        text = _SPACES.sub("", str(value)).replace("%", "")
        if not text:
            return None
        if "," in text and "." in text:
            # The separator that comes last is the decimal one; the other groups thousands.
            thousands = "." if text.rfind(",") > text.rfind(".") else ","
            text = text.replace(thousands, "")
        try:
            number = Decimal(text.replace(",", "."))
        except InvalidOperation:
            number = Decimal("NaN")
    if not number.is_finite():
        raise ValidationError(_("“%(value)s” is not a number.") % {"value": value}, "not_a_number")
    return number


_QUARTER_PATTERNS = (
    re.compile(r"^(?P<year>\d{4})\s*[-/ ]?\s*[qк]\s*(?P<q>[1-4])$", re.IGNORECASE),
    re.compile(
        r"^[qк]?\s*(?P<q>[1-4])\s*(?:кв\.?|квартал|q)?\s*[-/ ]?\s*(?P<year>\d{4})\s*(?:г\.?)?$",
        re.IGNORECASE,
    ),
    # As SKAM itself writes a quarter in Russian: "III кв. 2026".
    re.compile(
        r"^(?P<roman>IV|I{1,3})\s*(?:кв\.?|квартал)\s*[-/ ]?\s*(?P<year>\d{4})\s*(?:г\.?)?$",
        re.IGNORECASE,
    ),
)
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4}


def parse_quarter(value: Any) -> datetime.date:
    """'2026-Q3', '2026 Q3', 'Q3 2026', '3 кв. 2026', 'III кв. 2026', or the quarter's first
    day."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        day = value
    else:
        text = _text(value)
        for pattern in _QUARTER_PATTERNS:
            match = pattern.match(text)
            if match:
                groups = match.groupdict()
                number = (
                    _ROMAN[groups["roman"].upper()] if groups.get("roman") else int(groups["q"])
                )
                return quarter_numbered(int(match["year"]), number)
        day = None
        for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
            try:
                day = datetime.datetime.strptime(text, fmt).date()
                break
            except ValueError:
                continue
        if day is None:
            raise ValidationError(
                _("“%(value)s” is not a quarter: write it as 2026-Q3 or 01.07.2026.")
                % {"value": text},
                "not_a_quarter",
            )
    if day != quarter_start(day):
        raise ValidationError(
            _("%(day)s is not the first day of a quarter.") % {"day": day.strftime("%d.%m.%Y")},
            "not_quarter_start",
        )
    return day


def _segment_spellings() -> dict[str, str]:
    """Each segment's code and its English and Russian labels, lower-cased, to its code."""
    spellings = {}
    for language in ("en", "ru"):
        with translation.override(language):
            spellings.update({str(label).lower(): code for code, label in Segment.choices})
    spellings.update({code: code for code in Segment.values})
    return spellings


# --- Validating rows -------------------------------------------------------------------------

# Django's validation codes → ours, with the parameters our sentence needs.
_FIELD_CODES = {
    "blank": "required",
    "null": "required",
    "required": "required",
    "max_length": "too_long",
    "line_break": "line_break",
    "min_value": "min_value",
    "max_value": "max_value",
    "max_digits": "too_many_digits",
    "max_decimal_places": "too_many_digits",
    "max_whole_digits": "too_many_digits",
}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value.normalize()) if value == value.to_integral() else str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


class _Problems:
    """The problems of one row, each naming the file's header and the value found."""

    def __init__(self, titles: dict[str, str]) -> None:
        self.titles = titles
        self.found: list[dict[str, Any]] = []

    def add(self, code: str, column: str, value: Any, **parameters: Any) -> None:
        self.found.append(
            {
                "code": code,
                "column": self.titles.get(column, ""),
                "value": _text(value)[:200],
                **parameters,
            }
        )

    def from_field(
        self, exc: ValidationError, column: str, value: Any, model_field: models.Field | None
    ) -> None:
        for error in exc.error_list:
            code = _FIELD_CODES.get(error.code or "", error.code or "invalid")
            params = error.params or {}
            extra: dict[str, Any] = {}
            if code == "too_long":
                extra = {"limit": params.get("limit_value"), "length": params.get("show_value")}
            elif code in ("min_value", "max_value"):
                extra = {"limit": _jsonable(params.get("limit_value"))}
            elif code == "too_many_digits" and model_field is not None:
                extra = {"digits": model_field.max_digits, "places": model_field.decimal_places}
            elif code not in ("required", "line_break", "not_a_number"):
                code = code if code in ("not_a_quarter", "not_quarter_start") else "invalid"
            self.add(code, column, value, **extra)


def _clean(
    problems: _Problems, model: type[models.Model], name: str, value: Any, shown: Any = None
) -> Any:
    """The model field's own conversion and validators (no database access); a problem is
    noted under the column, with the cell as found."""
    model_field = model._meta.get_field(name)
    try:
        return model_field.clean(value, None)
    except ValidationError as exc:
        problems.from_field(exc, name, value if shown is None else shown, model_field)
        return None


class Checker:
    """Validates a file's rows, a chunk at a time, against the register as it is now. Reads
    the register in a few set-based queries per chunk; never writes."""

    def __init__(self, kind: str, header: Header) -> None:
        self.kind = kind
        self.header = header
        self.raw_columns = list(header.index.items())
        self.preview = [name for name, _title in header.columns()]
        self.seen: dict[Any, int] = {}
        self.kams: dict[str, User] = {}
        self.segments = _segment_spellings()
        if kind == ImportKind.CLIENTS:
            self.kams = {user.username.lower(): user for user in kams()}

    def chunk(self, rows: list[tuple[int, list[Any]]]) -> list[RowResult]:
        """Parse and check rows as read from the file."""
        raws = [
            (number, {name: (cells[i] if i < len(cells) else None) for name, i in self.raw_columns})
            for number, cells in rows
        ]
        register = self._register({_text(raw.get("registration_number")) for _n, raw in raws})
        return [self._row(number, raw, *register) for number, raw in raws]

    def stored_chunk(self, rows: list[StoredRow]) -> list[RowResult]:
        """Check again rows parsed by an earlier check (their values as kept in its report),
        against the register as it is now: the file need not be read twice."""
        register = self._register({row.key for row in rows})
        results = []
        for row in rows:
            result = RowResult(row=row.row, key=row.key, cells=row.cells)
            problems = _Problems(self.header.titles)
            values = self._stored_values(row.cells, problems)
            results.append(self._resolve(result, values, problems, *register))
        return results

    def _register(self, numbers: set[str]) -> tuple[dict[str, Any], dict[Any, Any]]:
        """The clients with these numbers, and their needs or figures: two queries."""
        if self.kind == ImportKind.CLIENTS:
            existing = {
                row["registration_number"]: row
                for row in _numbered(numbers).values("pk", "registration_number", *_CLIENT_FIELDS)
            }
            return existing, {}
        existing = {
            number: {"pk": pk}
            for number, pk in _numbered(numbers).values_list("registration_number", "pk")
        }
        model, identity = _CHILDREN[self.kind]
        children = {
            (row["client_id"], row[identity]): row
            for row in model.objects.filter(
                client_id__in=[c["pk"] for c in existing.values()]
            ).values("pk", "client_id", *_CHILD_FIELDS[self.kind])
        }
        return existing, children

    def _stored_values(self, cells: list[Any], problems: _Problems) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, cell in zip(self.preview, cells, strict=False):
            if name in ("registration_number", "kpp", "ogrn"):
                continue
            if name in _MONEY:
                values[name] = Decimal(cell) if cell not in ("", None) else None
            elif name == "weight":
                values[name] = int(cell)
            elif name == "period":
                values[name] = datetime.date.fromisoformat(cell)
            elif name == "owner_kam":
                values[name] = self._kam(cell or "", problems)
            else:
                values[name] = cell or ""
        return values

    def _kam(self, username: str, problems: _Problems) -> User | None:
        kam = self.kams.get(username.lower())
        if username and kam is None:
            problems.add("unknown_kam", "owner_kam", username)
        return kam

    def _row(
        self,
        number: int,
        raw: dict[str, Any],
        existing: dict[str, dict[str, Any]],
        children: dict[Any, dict[str, Any]],
    ) -> RowResult:
        key = _text(raw.get("registration_number"))
        result = RowResult(row=number, key=key[:100])
        problems = _Problems(self.header.titles)
        code = inn_problem(key)
        if code:
            problems.add(
                "required" if code == "inn_blank" else code,
                "registration_number",
                key,
                **({"length": len(key)} if code == "inn_length" else {}),
            )
        if self.kind == ImportKind.CLIENTS:
            values = self._client(raw, key, problems)
        elif self.kind == ImportKind.NEEDS:
            values = self._need(raw, problems)
        else:
            values = self._figure(raw, problems)
        result.cells = [_shown(values.get(name), raw.get(name)) for name in self.preview]
        return self._resolve(result, values, problems, existing, children, inn_valid=not code)

    def _resolve(
        self,
        result: RowResult,
        values: dict[str, Any],
        problems: _Problems,
        existing: dict[str, dict[str, Any]],
        children: dict[Any, dict[str, Any]],
        *,
        inn_valid: bool = True,
    ) -> RowResult:
        """What a parsed row does to the register as it is now."""
        key = result.key
        if self.kind == ImportKind.CLIENTS:
            before = existing.get(key)
            identity: Any = key
        else:
            client = existing.get(key)
            if client is None and inn_valid:
                problems.add("no_client", "registration_number", key)
            identity_field = _CHILDREN[self.kind][1]
            identity = (client and client["pk"], values.get(identity_field))
            values["client_id"] = client and client["pk"]
            before = children.get(identity)
        if not problems.found:
            if identity in self.seen:
                problems.add("repeats_row", "registration_number", key, row=self.seen[identity])
            else:
                self.seen[identity] = result.row
        if problems.found:
            result.action, result.errors = ImportAction.ERROR, problems.found
            return result
        result.values = values
        if before is None:
            result.action = ImportAction.CREATE
        else:
            result.target = before["pk"]
            result.changed = [
                name
                for name, value in values.items()
                if name in before and _comparable(value) != before[name]
            ]
            result.action = ImportAction.UPDATE if result.changed else ImportAction.UNCHANGED
        return result

    def _client(self, raw: dict[str, Any], key: str, problems: _Problems) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in ("name", "industry", "region", "notes"):
            if name in raw:
                values[name] = _clean(problems, Client, name, _text(raw[name]))
        if "segment" in raw:  # without the column, an existing client keeps its segment
            text = _text(raw["segment"])
            default = "" if text else Segment.MID_MARKET
            values["segment"] = self.segments.get(text.lower(), default)
            if not values["segment"]:
                problems.add("unknown_segment", "segment", text)
        if "owner_kam" in raw:
            values["owner_kam"] = self._kam(_text(raw["owner_kam"]), problems)
        kpp = _text(raw.get("kpp"))
        if kpp:
            if len(key) == 12:
                problems.add("kpp_entrepreneur", "kpp", kpp)
            elif kpp_problem(kpp):
                problems.add("kpp_format", "kpp", kpp)
        ogrn = _text(raw.get("ogrn"))
        if ogrn:
            code = ogrn_problem(ogrn)
            if code:
                length = {"length": len(ogrn)} if code == "ogrn_length" else {}
                problems.add(code, "ogrn", ogrn, **length)
            elif ogrn_inn_mismatch(inn=key, ogrn=ogrn):
                problems.add("ogrn_inn_kind", "ogrn", ogrn)
        return values

    def _need(self, raw: dict[str, Any], problems: _Problems) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in ("name", "description"):
            if name in raw:  # without the column, an existing need keeps its description
                values[name] = _clean(problems, ClientNeed, name, _text(raw[name]))
        cell = raw.get("weight")
        try:
            weight = parse_decimal(cell)
        except ValidationError:
            weight = Decimal("NaN")
        if weight is None:
            problems.add("required", "weight", cell)
        elif not weight.is_finite() or weight != weight.to_integral_value():
            problems.add("weight_range", "weight", cell)
        else:
            values["weight"] = _clean(problems, ClientNeed, "weight", int(weight), shown=cell)
        return values

    def _figure(self, raw: dict[str, Any], problems: _Problems) -> dict[str, Any]:
        values: dict[str, Any] = {}
        cell = raw.get("period")
        try:
            values["period"] = parse_quarter(cell)
        except ValidationError as exc:
            problems.add(exc.code or "not_a_quarter", "period", cell)
        for name in _MONEY:
            if name not in raw:
                continue
            cell = raw[name]
            try:
                number = parse_decimal(cell)
            except ValidationError:
                problems.add("not_a_number", name, cell)
                continue
            if number is None and name != "share_of_wallet":
                problems.add("required", name, cell)
                continue
            values[name] = _clean(problems, ClientFigure, name, number, shown=cell)
        return values


def _numbered(numbers: set[str]) -> QuerySet[Client]:
    """The clients with these registration numbers. On PostgreSQL the list is joined, not
    compared with ``= ANY``: given a long list, the planner picks the trigram index of the
    register's search and reads it whole for every value (11 s for 2,000 numbers), where the
    join looks each one up in the unique index (3 ms)."""
    if connection.vendor == "postgresql":
        return Client.objects.filter(
            registration_number__in=RawSQL("SELECT unnest(%s::text[])", [sorted(numbers)])
        )
    return Client.objects.filter(registration_number__in=numbers)


_CLIENT_FIELDS = ("name", "segment", "industry", "region", "owner_kam", "notes")
_CHILDREN: dict[str, tuple[type[models.Model], str]] = {
    ImportKind.NEEDS: (ClientNeed, "name"),
    ImportKind.FIGURES: (ClientFigure, "period"),
}
_CHILD_FIELDS = {
    ImportKind.NEEDS: ("name", "weight", "description"),
    ImportKind.FIGURES: ("period", *_MONEY),
}


def _shown(parsed: Any, cell: Any) -> Any:
    """A cell as the preview shows it: its value as parsed, or as found when it has none."""
    if isinstance(parsed, User):
        return parsed.username
    if parsed is None or parsed == "":
        return _text(cell)
    return _jsonable(parsed)


def _comparable(value: Any) -> Any:
    """A parsed value as ``values()`` returns the register's: a KAM by their id."""
    return value.pk if isinstance(value, User) else value


def _chunks(rows: Iterator[tuple[int, list[Any]]]) -> Iterator[list[tuple[int, list[Any]]]]:
    chunk: list[tuple[int, list[Any]]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass
class CheckedFile:
    header: Header
    chunks: Iterator[list[RowResult]]
    expected_rows: int | None
    encoding: str = ""


@contextmanager
def _checked_chunks(batch: ImportBatch) -> Iterator[CheckedFile]:
    """The batch's file, checked a chunk at a time as it is read."""
    chosen = batch.encoding if batch.encoding_chosen else ""
    with table_open(bytes(batch.content), batch.filename, chosen) as table:
        first = next(table.rows, None)
        if first is None:
            raise ImportFileError("file_no_rows")
        header = header_read(batch.kind, first[1])
        checker = Checker(batch.kind, header)
        yield CheckedFile(
            header=header,
            chunks=(checker.chunk(chunk) for chunk in _chunks(table.rows)),
            expected_rows=table.expected_rows and max(table.expected_rows - first[0], 0),
            encoding=table.encoding,
        )


# --- Services --------------------------------------------------------------------------------


def import_upload(*, kind: str, filename: str, content: bytes, user: User) -> ImportBatch:
    """Keep an uploaded file for the worker to check."""
    batch = ImportBatch.objects.create(
        kind=kind,
        filename=filename,
        content=content,
        uploaded_by=user,
        status=ImportStatus.QUEUED,
    )
    ImportProgress.objects.create(batch=batch)
    return batch


def _progress(batch_id: int, *, done: int, expected: int | None = None) -> None:
    fields: dict[str, Any] = {"rows_done": done, "progressed_at": timezone.now()}
    if expected is not None:
        fields["rows_expected"] = expected
    ImportProgress.objects.filter(batch_id=batch_id).update(**fields)


def _row_of(batch_id: int, result: RowResult) -> ImportRow:
    return ImportRow(
        batch_id=batch_id,
        row=result.row,
        key=result.key,
        action=result.action,
        cells=result.cells,
        changed=result.changed,
        errors=result.errors,
    )


def _rows_keep(batch_id: int, results: list[RowResult]) -> None:
    """Keep a chunk's report. On PostgreSQL, one INSERT from arrays of its columns: a model
    instance per row (``bulk_create``) cost more than the whole check of the row."""
    if connection.vendor != "postgresql":
        ImportRow.objects.bulk_create([_row_of(batch_id, r) for r in results])
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(ImportRow._meta.db_table)} "
            "(batch_id, row, key, action, cells, changed, errors) "
            "SELECT %s, r.row, r.key, r.action, r.cells::jsonb, r.changed::jsonb, "
            "r.errors::jsonb "
            "FROM unnest(%s::int[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[]) "
            "AS r(row, key, action, cells, changed, errors)",
            [
                batch_id,
                [r.row for r in results],
                [r.key for r in results],
                [r.action for r in results],
                [json.dumps(r.cells) for r in results],
                [json.dumps(r.changed) for r in results],
                [json.dumps(r.errors) for r in results],
            ],
        )


def import_check_run(*, batch_id: int) -> ImportBatch | None:
    """Check a queued batch: every row validated, none written to the register; the report is
    kept chunk by chunk, and the progress with it. None when the batch is not waiting (checked
    already, or taken by another worker)."""
    claimed = ImportBatch.objects.filter(pk=batch_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.CHECKING
    )
    if not claimed:
        return None
    batch = ImportBatch.objects.get(pk=batch_id)
    ImportRow.objects.filter(batch=batch).delete()  # a check resumed after a lost worker
    total = errors = 0
    columns: list[list[str]] = []
    encoding = batch.encoding if batch.encoding_chosen else ""
    try:
        with _checked_chunks(batch) as checked:
            columns = checked.header.columns()
            encoding = checked.encoding
            _progress(batch_id, done=0, expected=checked.expected_rows)
            for results in checked.chunks:
                _rows_keep(batch_id, results)
                total += len(results)
                errors += sum(1 for r in results if r.action == ImportAction.ERROR)
                _progress(batch_id, done=total)
        if not total:
            raise ImportFileError("file_no_data_rows")
    except ImportFileError as exc:
        ImportRow.objects.filter(batch=batch).delete()
        ImportRow.objects.create(batch=batch, row=0, action=ImportAction.ERROR, errors=[exc.error])
        total, errors = 0, 1
    ImportBatch.objects.filter(pk=batch_id).update(
        status=ImportStatus.REJECTED if errors else ImportStatus.CHECKED,
        columns=columns,
        encoding=encoding,
        rows_total=total,
        rows_with_errors=errors,
    )
    _progress(batch_id, done=total)
    batch.refresh_from_db()
    return batch


def import_check(*, kind: str, filename: str, content: bytes, user: User) -> ImportBatch:
    """Keep a file and check it at once (what the worker does after ``import_upload``)."""
    batch = import_upload(kind=kind, filename=filename, content=content, user=user)
    return import_check_run(batch_id=batch.pk) or batch


def import_fail(*, batch_id: int) -> None:
    """The worker failed on the batch: say so, and keep nothing half-done."""
    with transaction.atomic():
        ImportRow.objects.filter(batch_id=batch_id).delete()
        ImportRow.objects.create(
            batch_id=batch_id, row=0, action=ImportAction.ERROR, errors=[{"code": "worker_failed"}]
        )
        ImportBatch.objects.filter(pk=batch_id).exclude(status=ImportStatus.APPLIED).update(
            status=ImportStatus.FAILED, rows_with_errors=1
        )


def import_retry(*, batch: ImportBatch) -> str | None:
    """Put a stalled or failed batch back in the worker's queue: a check starts over, an import
    (whose writes were rolled back with its worker) runs again. The stage to enqueue, or None
    when the batch is neither stalled nor failed."""
    now = timezone.now()
    progress = ImportProgress.objects.filter(batch=batch).first()
    stalled = batch.stalled_since(progressed_at=progress and progress.progressed_at, at=now)
    if batch.status == ImportStatus.FAILED or (
        stalled and batch.status in (ImportStatus.QUEUED, ImportStatus.CHECKING)
    ):
        changed = ImportBatch.objects.filter(pk=batch.pk, status=batch.status).update(
            status=ImportStatus.QUEUED
        )
        stage = "check"
    elif stalled and batch.status == ImportStatus.APPLYING:
        changed, stage = 1, "apply"
    else:
        return None
    _progress(batch.pk, done=0)
    return stage if changed else None


class ImportNotApplicable(Exception):
    """The batch was imported already, or has errors."""


def import_encoding_choose(*, batch: ImportBatch, encoding: str) -> None:
    """Read a checked CSV file again in ``encoding``, chosen by a person who saw the names
    read wrong: the batch goes back to the worker's queue to be checked in it (the caller
    enqueues the check). Refused (``ImportNotApplicable``) for a workbook, and for a file
    being checked or imported, or imported already."""
    if encoding not in ImportEncoding.values or is_xlsx(batch.filename):
        raise ImportNotApplicable(_("Only a CSV file is read in an encoding."))
    changed = ImportBatch.objects.filter(
        pk=batch.pk, status__in=(ImportStatus.CHECKED, ImportStatus.REJECTED)
    ).update(status=ImportStatus.QUEUED, encoding=encoding, encoding_chosen=True)
    if not changed:
        raise ImportNotApplicable(
            _("This file is being checked or imported, or was imported already.")
        )
    _progress(batch.pk, done=0)


def import_apply_claim(*, batch: ImportBatch) -> None:
    """Take a checked batch for importing; refuse when it was taken already or has errors."""
    claimed = ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.CHECKED).update(
        status=ImportStatus.APPLYING
    )
    if not claimed:
        raise ImportNotApplicable(_("This file was imported already or has errors."))
    _progress(batch.pk, done=0)


class _Rejected(Exception):
    def __init__(self, changed_rows: list[RowResult]) -> None:
        super().__init__("rejected")
        self.changed_rows = changed_rows


def _record_at_commit() -> None:
    """Have the record chain this transaction's entries as it commits, not as each chunk is
    written (``RECORD_AT_COMMIT`` in ``governance/record/install.py``, whose setting this
    names: the register cannot import governance). The record's lock, one writer at a time,
    is then held for that last moment only, not for the whole import: a vote cast meanwhile
    does not wait for the import to end."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('skam.record_at_commit', 'on', true)")


def import_apply_run(*, batch_id: int) -> ImportBatch | None:
    """Import a claimed batch, all or nothing. The file is validated again against the register
    as it is now; if any row fails, nothing is written and the report says why. None when the
    batch is not being imported (done already, by this or another worker)."""
    try:
        with transaction.atomic():
            _record_at_commit()
            # The lock holds until commit: a second worker waits, then finds the batch done.
            batch = (
                ImportBatch.objects.select_for_update()
                .filter(pk=batch_id, status=ImportStatus.APPLYING)
                .first()
            )
            if batch is None:
                return None
            _apply_chunks(batch)
            ImportBatch.objects.filter(pk=batch_id).update(
                status=ImportStatus.APPLIED, applied_at=timezone.now()
            )
    except _Rejected as rejection:
        with transaction.atomic():
            _report_update(batch_id, rejection.changed_rows)
            ImportBatch.objects.filter(pk=batch_id).update(
                status=ImportStatus.REJECTED,
                rows_with_errors=ImportRow.objects.filter(
                    batch_id=batch_id, action=ImportAction.ERROR
                ).count(),
            )
    except IntegrityError:
        # Someone changed the same clients between our check and our write.
        ImportBatch.objects.filter(pk=batch_id).update(status=ImportStatus.CHECKED)
        raise ImportNotApplicable(
            _("The register changed while importing; nothing was imported. Try again.")
        ) from None
    return ImportBatch.objects.get(pk=batch_id)


def import_apply(*, batch: ImportBatch) -> ImportBatch:
    """Claim and import a checked batch here and now (what the worker does after the claim)."""
    import_apply_claim(batch=batch)
    result = import_apply_run(batch_id=batch.pk)
    return result or ImportBatch.objects.get(pk=batch.pk)


def _stored_chunks(batch: ImportBatch) -> Iterator[list[StoredRow]]:
    """The batch's kept rows, a chunk at a time, in the file's order (keyset on the row)."""
    last = -1
    while True:
        chunk = [
            StoredRow(*values)
            for values in ImportRow.objects.filter(batch=batch, row__gt=last)
            .order_by("row")
            .values_list("row", "key", "action", "cells")[:CHUNK_ROWS]
        ]
        if chunk:
            yield chunk
        if len(chunk) < CHUNK_ROWS:
            return
        last = chunk[-1].row


def _report_update(batch_id: int, results: list[RowResult]) -> None:
    """Bring the stored report in line with what the import found for these rows."""
    stored = {
        row.row: row
        for row in ImportRow.objects.filter(batch_id=batch_id, row__in=[r.row for r in results])
    }
    for result in results:
        row = stored.get(result.row)
        if row is not None:
            row.action, row.cells = result.action, result.cells
            row.changed, row.errors = result.changed, result.errors
    ImportRow.objects.bulk_update(
        list(stored.values()), ["action", "cells", "changed", "errors"], batch_size=CHUNK_ROWS
    )


def _apply_chunks(batch: ImportBatch) -> None:
    """Check the kept rows again against the register as it is now, and write them chunk by
    chunk; on the first error, check on without writing, and refuse the whole batch."""
    needs_of: list[int] = []
    if batch.kind == ImportKind.NEEDS:
        needs_of = list(
            Client.objects.filter(
                registration_number__in=ImportRow.objects.filter(batch=batch).values("key")
            ).values_list("pk", flat=True)
        )
    titles = {column: title for column, title in batch.columns}
    header = Header(index={c: i for i, (c, _t) in enumerate(batch.columns)}, titles=titles)
    checker = Checker(batch.kind, header)
    writer = _WRITERS[batch.kind]()
    changed_rows: list[RowResult] = []
    failed = False
    with needs_recorded(client_ids=needs_of, by=batch.uploaded_by if needs_of else None):
        for stored in _stored_chunks(batch):
            results = checker.stored_chunk(stored)
            actions = {row.row: row.action for row in stored}
            changed_rows += [r for r in results if actions.get(r.row) != r.action]
            if any(r.action == ImportAction.ERROR for r in results):
                failed = True
            if not failed:
                writer.write(results)
        if failed:
            raise _Rejected(changed_rows)
        writer.finish()
    # The report tells what was done, should the register have moved since the check.
    _report_update(batch.pk, changed_rows)


# The columns a new client is written with (``search_name`` the database computes).
_CREATED_COLUMNS = (
    "name",
    "registration_number",
    "segment",
    "industry",
    "region",
    "owner_kam",
    "notes",
    "is_key",
    "created_at",
    "updated_at",
)


def _clients_create(clients: list[Client]) -> None:
    """Insert new clients. On PostgreSQL, one INSERT from arrays of their columns per chunk:
    ``bulk_create`` prepares every value of every row in Python, which cost more than the
    database's work of the insert."""
    if connection.vendor != "postgresql" or not clients:
        Client.objects.bulk_create(clients, batch_size=CHUNK_ROWS)
        return
    now = timezone.now()
    fields = [Client._meta.get_field(name) for name in _CREATED_COLUMNS]
    columns = []
    for model_field in fields:
        if model_field.name in ("created_at", "updated_at"):
            columns.append([now] * len(clients))
        else:
            columns.append([getattr(c, model_field.attname) for c in clients])
    types = [model_field.db_type(connection) for model_field in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(Client._meta.db_table)} "
            f"({', '.join(f.column for f in fields)}) "
            f"SELECT * FROM unnest({', '.join(f'%s::{t}[]' for t in types)})",
            columns,
        )


class _ClientWriter:
    def __init__(self) -> None:
        self.now = timezone.now()
        # The industries and regions the file sets or replaces, for the filter's choices.
        self.touched: dict[str, set[str]] = {"industry": set(), "region": set()}

    def write(self, results: list[RowResult]) -> None:
        to_create, to_update, fields = [], [], set()
        for result in results:
            values = dict(result.values)
            for name, touched in self.touched.items():
                if name in values:
                    touched.add(values[name])
            if result.action == ImportAction.CREATE:
                to_create.append(Client(registration_number=result.key, **values))
            elif result.action == ImportAction.UPDATE:
                fields.update(values)
                to_update.append(Client(pk=result.target, updated_at=self.now, **values))
        _clients_create(to_create)
        if to_update:
            # Values replaced leave the filter's choices too, if no client keeps them.
            for name, touched in self.touched.items():
                if name in fields:
                    touched.update(
                        Client.objects.filter(pk__in=[c.pk for c in to_update]).values_list(
                            name, flat=True
                        )
                    )
            Client.objects.bulk_update(to_update, [*sorted(fields), "updated_at"])

    def finish(self) -> None:
        filter_choices_sync(industries=self.touched["industry"], regions=self.touched["region"])


class _ChildWriter:
    model: type[models.Model]
    fields: tuple[str, ...]

    def write(self, results: list[RowResult]) -> None:
        to_create, to_update, fields = [], [], set()
        for result in results:
            if result.action == ImportAction.CREATE:
                to_create.append(self.model(**result.values))
            elif result.action == ImportAction.UPDATE:
                values = {k: v for k, v in result.values.items() if k in self.fields}
                fields.update(values)
                to_update.append(self.model(pk=result.target, **values))
        self.model.objects.bulk_create(to_create, batch_size=CHUNK_ROWS)
        if to_update:
            self.model.objects.bulk_update(to_update, sorted(fields))

    def finish(self) -> None:
        pass


class _NeedWriter(_ChildWriter):
    model = ClientNeed
    fields = ("weight", "description")


class _FigureWriter(_ChildWriter):
    model = ClientFigure
    fields = _MONEY


_WRITERS: dict[str, Callable[[], Any]] = {
    ImportKind.CLIENTS: _ClientWriter,
    ImportKind.NEEDS: _NeedWriter,
    ImportKind.FIGURES: _FigureWriter,
}


def import_counts(batch: ImportBatch) -> dict[str, int]:
    """How many rows of the batch do what: one query."""
    counts = dict.fromkeys(ImportAction.values, 0)
    counts.update(
        ImportRow.objects.filter(batch=batch)
        .order_by()
        .values_list("action")
        .annotate(n=Count("pk"))
        .values_list("action", "n")
    )
    return counts
