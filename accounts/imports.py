"""Import of clients, needs and figures from CSV and XLSX files, the way Russian companies keep
them: UTF-8 or Windows-1251, ';' or ',' separated, decimal commas, Russian or English headers.

Two steps. ``import_check`` reads the file, validates every row without writing anything to the
register and keeps the file with its row-by-row report as an ``ImportBatch``. ``import_apply``
imports a checked batch all-or-nothing, upserting by registration number. Both are set-based: a
handful of queries per file, whatever its length.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import openpyxl
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.choices import filter_choices_sync
from accounts.models import (
    Client,
    ClientFigure,
    ClientNeed,
    ImportBatch,
    ImportKind,
    ImportStatus,
    Segment,
    User,
)
from accounts.needs import needs_recorded
from accounts.periods import quarter_numbered, quarter_start
from accounts.selectors import kams
from accounts.spreadsheets import SpreadsheetTooLarge, xlsx_size_check


class ImportFileError(Exception):
    """The file as a whole cannot be read (format, encoding, missing columns)."""


# Column name → the spellings accepted in a header row (compared case-insensitively).
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    ImportKind.CLIENTS: {
        "registration_number": (
            "registration_number",
            "registration number",
            "inn",
            "инн",
            "регистрационный номер",
            "рег. номер",
        ),
        "name": ("name", "client", "наименование", "название", "клиент"),
        "segment": ("segment", "сегмент"),
        "industry": ("industry", "отрасль"),
        "region": ("region", "регион"),
        "owner_kam": ("owner_kam", "owner kam", "kam", "кам", "менеджер", "ответственный"),
        "notes": ("notes", "примечание", "комментарий"),
    },
    ImportKind.NEEDS: {
        "registration_number": (
            "registration_number",
            "registration number",
            "inn",
            "инн",
            "регистрационный номер",
            "рег. номер",
        ),
        "name": ("need", "name", "потребность"),
        "weight": ("weight", "importance", "вес", "важность"),
        "description": ("description", "описание"),
    },
    ImportKind.FIGURES: {
        "registration_number": (
            "registration_number",
            "registration number",
            "inn",
            "инн",
            "регистрационный номер",
            "рег. номер",
        ),
        "period": ("period", "quarter", "период", "квартал"),
        "revenue": ("revenue", "выручка"),
        "gross_margin": ("gross_margin", "gross margin", "margin", "валовая маржа", "маржа"),
        "potential_revenue": ("potential_revenue", "potential revenue", "potential", "потенциал"),
        "share_of_wallet": ("share_of_wallet", "share of wallet", "доля кошелька"),
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


@dataclass
class RowResult:
    row: int
    key: str
    action: str = ""  # "create", "update" or "error"
    errors: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)

    def as_report(self) -> dict[str, Any]:
        return {"row": self.row, "key": self.key, "action": self.action, "errors": self.errors}


# --- Reading files ---------------------------------------------------------------------------


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1251")
    except UnicodeDecodeError as exc:
        raise ImportFileError(_("The file is not a readable CSV table.")) from exc


def _delimiter(header_line: str) -> str:
    # Excel in a Russian locale separates with ';', and its header names often hold commas
    # ("Выручка, руб."): a ';' in the header row decides, whatever the commas say.
    for delimiter in (";", "\t"):
        if delimiter in header_line:
            return delimiter
    return ","


def _read_csv(content: bytes) -> list[list[Any]]:
    text = _decode(content)
    header_line = next((line for line in text.splitlines() if line.strip()), "")
    try:
        return list(csv.reader(io.StringIO(text), delimiter=_delimiter(header_line)))
    except csv.Error as exc:
        raise ImportFileError(_("The file is not a readable CSV table.")) from exc


def _read_xlsx(content: bytes) -> list[list[Any]]:
    try:
        xlsx_size_check(content)
    except SpreadsheetTooLarge as exc:
        raise ImportFileError(str(exc)) from exc
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not a workbook
        raise ImportFileError(_("This is not a readable .xlsx workbook.")) from exc
    try:
        sheet = workbook.worksheets[0]
        return [[_xlsx_value(cell) for cell in row] for row in sheet.iter_rows()]
    finally:
        workbook.close()


def _xlsx_value(cell: Any) -> Any:
    value = cell.value
    # A cell shown as "12,5 %" holds 0.125; the file means the number it shows.
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if is_number and "%" in (cell.number_format or ""):
        return value * 100
    return value


def read_table(content: bytes, filename: str) -> list[list[Any]]:
    """The file's rows as lists of cell values. Blank rows are kept, so that ``table[i]`` is
    row ``i + 1`` of the file, the number the user sees in the spreadsheet."""
    if not content:
        raise ImportFileError(_("The file is empty."))
    rows = _read_xlsx(content) if filename.lower().endswith(".xlsx") else _read_csv(content)
    if not any(_filled(row) for row in rows):
        raise ImportFileError(_("The file has no rows."))
    return rows


def _filled(row: list[Any]) -> bool:
    return any(_text(cell) for cell in row)


# What follows a column's name: "Выручка, руб.", "Доля кошелька (%)", "Маржа (без НДС), руб.".
_HEADER_UNIT = re.compile(r"\s*[,(].*$")


def _header_map(kind: str, header: list[Any]) -> dict[str, int]:
    spellings = {spelling: column for column, names in COLUMNS[kind].items() for spelling in names}
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = _text(cell).lower()
        column = spellings.get(name) or spellings.get(_HEADER_UNIT.sub("", name))
        if column and column not in found:
            found[column] = index
    missing = [c for c in REQUIRED[kind] if c not in found]
    if missing:
        expected = ", ".join(COLUMNS[kind][c][0] for c in missing)
        raise ImportFileError(
            _("The header row lacks required columns: %(columns)s.") % {"columns": expected}
        )
    return found


# --- Reading cells ---------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
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
        raise ValidationError(_("“%(value)s” is not a number.") % {"value": value})
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
                % {"value": text}
            )
    if day != quarter_start(day):
        raise ValidationError(
            _("%(day)s is not the first day of a quarter.") % {"day": day.strftime("%d.%m.%Y")}
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


def _segment(value: Any, spellings: dict[str, str]) -> str:
    text = _text(value)
    if not text:
        return Segment.MID_MARKET
    if text.lower() in spellings:
        return spellings[text.lower()]
    raise ValidationError(
        _("Unknown segment “%(value)s”; use one of: %(choices)s.")
        % {"value": text, "choices": ", ".join(str(label) for _code, label in Segment.choices)}
    )


def _model_clean(model: type[models.Model], name: str, value: Any) -> Any:
    """Run the model field's own conversion and validators (no database access)."""
    return model._meta.get_field(name).clean(value, None)


# --- Validating rows -------------------------------------------------------------------------


def _rows(kind: str, table: list[list[Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each row under the header (the first row that is not blank), with its number in the
    file; blank rows are skipped."""
    numbered = [(number, row) for number, row in enumerate(table, start=1) if _filled(row)]
    columns = _header_map(kind, numbered[0][1])
    for number, row in numbered[1:]:
        yield (
            number,
            {name: (row[index] if index < len(row) else None) for name, index in columns.items()},
        )


def _validate_client(
    raw: dict[str, Any], kams_by_username: dict[str, User], segments: dict[str, str]
) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    values: dict[str, Any] = {}
    for name in ("name", "industry", "region", "notes"):
        if name in raw:
            try:
                values[name] = _model_clean(Client, name, _text(raw[name]))
            except ValidationError as exc:
                errors[name] = exc
    if "segment" in raw:  # without the column, an existing client keeps its segment
        try:
            values["segment"] = _segment(raw["segment"], segments)
        except ValidationError as exc:
            errors["segment"] = exc
    if "owner_kam" in raw:
        username = _text(raw["owner_kam"])
        if username and username.lower() not in kams_by_username:
            errors["owner_kam"] = ValidationError(
                _("“%(value)s” is not the user name of an active KAM.") % {"value": username}
            )
        else:
            values["owner_kam"] = kams_by_username.get(username.lower())
    if errors:
        raise ValidationError(errors)
    return values


def _validate_need(raw: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    values: dict[str, Any] = {}
    for name in ("name", "description"):
        if name not in raw:  # without the column, an existing need keeps its description
            continue
        try:
            values[name] = _model_clean(ClientNeed, name, _text(raw[name]))
        except ValidationError as exc:
            errors[name] = exc
    try:
        weight = parse_decimal(raw.get("weight"))
        if weight is None or weight != weight.to_integral_value():
            raise ValidationError(_("The weight is a whole number from 0 to 10."))
        values["weight"] = _model_clean(ClientNeed, "weight", int(weight))
    except ValidationError as exc:
        errors["weight"] = exc
    if errors:
        raise ValidationError(errors)
    return values


def _validate_figure(raw: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    values: dict[str, Any] = {}
    try:
        values["period"] = parse_quarter(raw.get("period"))
    except ValidationError as exc:
        errors["period"] = exc
    for name in ("revenue", "gross_margin", "potential_revenue", "share_of_wallet"):
        if name not in raw:
            continue
        try:
            number = parse_decimal(raw[name])
            if number is None and name != "share_of_wallet":
                raise ValidationError(_("This value is required."))
            values[name] = _model_clean(ClientFigure, name, number)
        except ValidationError as exc:
            errors[name] = exc
    if errors:
        raise ValidationError(errors)
    return values


def _messages(kind: str, exc: ValidationError) -> list[str]:
    model = {ImportKind.CLIENTS: Client, ImportKind.NEEDS: ClientNeed}.get(kind, ClientFigure)
    if not hasattr(exc, "error_dict"):
        return list(exc.messages)
    out = []
    for name, errors in exc.error_dict.items():
        label = str(model._meta.get_field(name).verbose_name)
        out.extend(f"{label}: {message}" for error in errors for message in error.messages)
    return out


def validate_rows(kind: str, table: list[list[Any]]) -> list[RowResult]:
    """Check every row; the database is read (in a few set-based queries), never written."""
    parsed = list(_rows(kind, table))
    numbers = {_text(raw.get("registration_number")) for _row, raw in parsed}
    existing = dict(
        Client.objects.filter(registration_number__in=numbers).values_list(
            "registration_number", "pk"
        )
    )
    kams_by_username, segments = {}, _segment_spellings()
    if kind == ImportKind.CLIENTS:
        kams_by_username = {user.username.lower(): user for user in kams()}
    existing_children: set[tuple[int, Any]] = set()
    if kind == ImportKind.NEEDS:
        existing_children = set(
            ClientNeed.objects.filter(client_id__in=existing.values()).values_list(
                "client_id", "name"
            )
        )
    elif kind == ImportKind.FIGURES:
        existing_children = set(
            ClientFigure.objects.filter(client_id__in=existing.values()).values_list(
                "client_id", "period"
            )
        )

    results: list[RowResult] = []
    seen: dict[Any, int] = {}
    for row, raw in parsed:
        number = _text(raw.get("registration_number"))
        result = RowResult(row=row, key=number)
        results.append(result)
        try:
            _model_clean(Client, "registration_number", number)
            if kind == ImportKind.CLIENTS:
                result.values = _validate_client(raw, kams_by_username, segments)
                identity: Any = number
                is_update = number in existing
            else:
                if number not in existing:
                    raise ValidationError(
                        _("No client with registration number %(number)s in the register.")
                        % {"number": number}
                    )
                if kind == ImportKind.NEEDS:
                    result.values = _validate_need(raw)
                    identity = (existing[number], result.values["name"])
                else:
                    result.values = _validate_figure(raw)
                    identity = (existing[number], result.values["period"])
                result.values["client_id"] = existing[number]
                is_update = identity in existing_children
        except ValidationError as exc:
            result.action = "error"
            result.errors = _messages(kind, exc)
            continue
        if identity in seen:
            result.action = "error"
            result.errors = [
                _("Repeats row %(row)d; each row must describe something different.")
                % {"row": seen[identity]}
            ]
            continue
        seen[identity] = row
        result.action = "update" if is_update else "create"
    return results


# --- Services --------------------------------------------------------------------------------


def import_check(*, kind: str, filename: str, content: bytes, user: User) -> ImportBatch:
    """Read and validate a file; keep it with its report. Writes nothing to the register."""
    try:
        table = read_table(content, filename)
        results = validate_rows(kind, table)
        if not results:
            raise ImportFileError(_("The file has a header row but no data rows."))
        report = [r.as_report() for r in results]
        errors = sum(1 for r in results if r.action == "error")
    except ImportFileError as exc:
        report = [{"row": 0, "key": "", "action": "error", "errors": [str(exc)]}]
        results, errors = [], 1
    return ImportBatch.objects.create(
        kind=kind,
        filename=filename,
        content=content,
        uploaded_by=user,
        status=ImportStatus.REJECTED if errors else ImportStatus.CHECKED,
        report=report,
        rows_total=len(results),
        rows_with_errors=errors,
    )


class ImportNotApplicable(Exception):
    """The batch was imported already, or has errors."""


def import_apply(*, batch: ImportBatch) -> ImportBatch:
    """Import a checked batch, all or nothing. The file is validated again against the register
    as it is now; if anything fails, nothing is written and the report says why."""
    with transaction.atomic():
        # The claim holds the batch's row lock until commit: a second confirm waits, then
        # finds the batch imported or rejected.
        claimed = ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.CHECKED).update(
            status=ImportStatus.APPLIED, applied_at=timezone.now()
        )
        if not claimed:
            raise ImportNotApplicable(_("This file was imported already or has errors."))
        results = validate_rows(batch.kind, read_table(bytes(batch.content), batch.filename))
        failed = [r for r in results if r.action == "error"]
        if failed:
            # Validation only reads: nothing has been written, the claim turns into a rejection.
            ImportBatch.objects.filter(pk=batch.pk).update(
                status=ImportStatus.REJECTED,
                applied_at=None,
                report=[r.as_report() for r in results],
                rows_with_errors=len(failed),
            )
        else:
            # An import of needs is recorded as the uploader's change of each client's needs.
            needs_of = (
                {r.values["client_id"] for r in results} if batch.kind == ImportKind.NEEDS else ()
            )
            try:
                with (
                    transaction.atomic(),
                    needs_recorded(client_ids=needs_of, by=batch.uploaded_by if needs_of else None),
                ):
                    _WRITERS[batch.kind](results)
            except IntegrityError:
                # Someone changed the same clients between our check and our write.
                ImportBatch.objects.filter(pk=batch.pk).update(
                    status=ImportStatus.CHECKED, applied_at=None
                )
                raise ImportNotApplicable(
                    _("The register changed while importing; nothing was imported. Try again.")
                ) from None
            # The report tells what was done, should the register have moved since the check.
            ImportBatch.objects.filter(pk=batch.pk).update(report=[r.as_report() for r in results])
    batch.refresh_from_db()
    return batch


def _upsert(
    model: type[models.Model],
    results: Iterable[RowResult],
    existing: dict[Any, models.Model],
    identity: Any,
    fields: list[str],
) -> None:
    to_create, to_update = [], []
    for result in results:
        instance = existing.get(identity(result.values))
        if instance is None:
            to_create.append(model(**result.values))
        else:
            for name in fields:
                if name in result.values:
                    setattr(instance, name, result.values[name])
            to_update.append(instance)
    model.objects.bulk_create(to_create, batch_size=1000)
    if to_update:
        model.objects.bulk_update(to_update, fields, batch_size=1000)


def _write_clients(results: list[RowResult]) -> None:
    now = timezone.now()
    for result in results:
        result.values["registration_number"] = result.key
        result.values["updated_at"] = now  # bulk_update does not touch auto_now fields
    existing = Client.objects.in_bulk([r.key for r in results], field_name="registration_number")
    # The industries and regions the file sets or replaces, for the filter's choices.
    touched: dict[str, set[str]] = {"industry": set(), "region": set()}
    for result in results:
        before = existing.get(result.key)
        for name, values in touched.items():
            if name in result.values:
                values.add(result.values[name])
                if before is not None:
                    values.add(getattr(before, name))
    fields = sorted({name for r in results for name in r.values} - {"registration_number"})
    _upsert(Client, results, existing, lambda v: v["registration_number"], fields)
    filter_choices_sync(industries=touched["industry"], regions=touched["region"])


def _write_needs(results: list[RowResult]) -> None:
    client_ids = {r.values["client_id"] for r in results}
    existing = {
        (need.client_id, need.name): need
        for need in ClientNeed.objects.filter(client_id__in=client_ids)
    }
    _upsert(
        ClientNeed,
        results,
        existing,
        lambda v: (v["client_id"], v["name"]),
        ["weight", "description"],
    )


def _write_figures(results: list[RowResult]) -> None:
    client_ids = {r.values["client_id"] for r in results}
    existing = {
        (figure.client_id, figure.period): figure
        for figure in ClientFigure.objects.filter(client_id__in=client_ids)
    }
    _upsert(
        ClientFigure,
        results,
        existing,
        lambda v: (v["client_id"], v["period"]),
        ["revenue", "gross_margin", "potential_revenue", "share_of_wallet"],
    )


_WRITERS = {
    ImportKind.CLIENTS: _write_clients,
    ImportKind.NEEDS: _write_needs,
    ImportKind.FIGURES: _write_figures,
}
