"""The register import: clients, needs and figures from CSV and XLSX files as Russian companies
keep them; a dry run with a row-by-row report, then an all-or-nothing import that upserts by
registration number."""

from __future__ import annotations

import datetime
import io
import threading
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from accounts.import_messages import import_errors_text
from accounts.imports import (
    ImportNotApplicable,
    import_apply,
    import_check,
    import_upload,
    parse_decimal,
    parse_quarter,
    read_table,
)
from accounts.models import (
    Client,
    ClientFigure,
    ClientNeed,
    FilterChoice,
    ImportBatch,
    ImportKind,
    ImportProgress,
    ImportRow,
    ImportStatus,
    NeedChange,
    Segment,
    User,
)
from accounts.roles import Role
from accounts.tasks import import_check_task
from accounts.taxids import inn_with_check_digits
from tests.factories import ClientFactory, FigureFactory, NeedFactory, UserFactory

VOLGA = "7736207543"  # real INNs (Yandex's and Sberbank's), in the same order as before
URAL = "7707083893"
Q3 = datetime.date(2026, 7, 1)

CLIENTS_RU = [
    "ИНН;Наименование;Сегмент;Отрасль;Регион;КАМ",
    f"{VOLGA};ПАО «Волжский металлург»;Крупный бизнес;Металлургия;Самарская область;kam",
    f"{URAL};ООО «Уральская химия»;Малый бизнес;Химия;Свердловская область;",
]


def inn(number: int) -> str:
    """A valid organisation's INN, different for each number."""
    return inn_with_check_digits(f"77{number:07d}")


def csv_file(*lines: str, encoding: str = "utf-8-sig") -> bytes:
    """A CSV file as Excel writes it: CRLF line ends; UTF-8 with a BOM unless told otherwise."""
    return "".join(f"{line}\r\n" for line in lines).encode(encoding)


def xlsx_file(rows: list[list[Any]], number_formats: dict[str, str] | None = None) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for coordinate, number_format in (number_formats or {}).items():
        sheet[coordinate].number_format = number_format
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_with_sheet_xml(content: bytes, replacements: dict[str, str]) -> bytes:
    """The workbook with text in its first sheet's XML replaced, to write cells as Excel does."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                for old, new in replacements.items():
                    assert old in text
                    text = text.replace(old, new)
                data = text.encode()
            target.writestr(item, data)
    return buffer.getvalue()


def check(kind: str, content: bytes, user: User, filename: str = "") -> ImportBatch:
    return import_check(kind=kind, filename=filename or f"{kind}.csv", content=content, user=user)


def report(batch: ImportBatch) -> list[dict[str, Any]]:
    """The batch's report as the page says it, in English."""
    return [
        {"row": r.row, "key": r.key, "action": r.action, "errors": import_errors_text(r.errors)}
        for r in ImportRow.objects.filter(batch=batch).order_by("row")
    ]


def report_rows(batch: ImportBatch) -> dict[int, dict[str, Any]]:
    return {entry["row"]: entry for entry in report(batch)}


def register_counts() -> tuple[int, int, int]:
    return Client.objects.count(), ClientNeed.objects.count(), ClientFigure.objects.count()


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages are compared in English; a page asked for in Russian leaves Russian active in
    the thread after the request, so each test starts, and leaves, in English."""
    with translation.override("en"):
        yield


@pytest.fixture
def volga(kam: User) -> Client:
    return ClientFactory(
        registration_number=VOLGA,
        name="Volga Steel Works JSC",
        segment=Segment.ENTERPRISE,
        industry="Metallurgy",
        region="Samara",
        owner_kam=kam,
        notes="Signed a frame contract in 2025.",
    )


@pytest.fixture
def ural(kam2: User) -> Client:
    return ClientFactory(registration_number=URAL, name="Ural Chemical Plant LLC", owner_kam=kam2)


# --- Reading the formats Russian companies keep ------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "cp1251"])
def test_russian_clients_csv_imports_alike_in_utf8_and_windows_1251(encoding, administrator, kam):
    batch = check(ImportKind.CLIENTS, csv_file(*CLIENTS_RU, encoding=encoding), administrator)

    assert batch.status == ImportStatus.CHECKED
    assert [(r["row"], r["key"], r["action"], r["errors"]) for r in report(batch)] == [
        (2, VOLGA, "create", []),
        (3, URAL, "create", []),
    ]
    import_apply(batch=batch)
    assert list(
        Client.objects.order_by("registration_number").values_list(
            "registration_number", "name", "segment", "industry", "region", "owner_kam"
        )
    ) == [
        (URAL, "ООО «Уральская химия»", Segment.SMALL, "Химия", "Свердловская область", None),
        (
            VOLGA,
            "ПАО «Волжский металлург»",
            Segment.ENTERPRISE,
            "Металлургия",
            "Самарская область",
            kam.pk,
        ),
    ]


@pytest.mark.django_db
def test_comma_separated_file_with_english_headers_and_quoted_commas(administrator, kam):
    content = csv_file(
        "registration_number,name,segment,industry,region,kam,notes",
        f'{VOLGA},"Volga Steel Works, JSC",enterprise,Metallurgy,Samara,KAM,"Frame, 2025"',
        f"{URAL},Ural Chemical Plant LLC,Public sector,Chemicals,Ekaterinburg,,",
        encoding="utf-8",
    )

    batch = import_apply(batch=check(ImportKind.CLIENTS, content, administrator))

    assert batch.status == ImportStatus.APPLIED
    volga = Client.objects.get(registration_number=VOLGA)
    assert (volga.name, volga.segment, volga.owner_kam, volga.notes) == (
        "Volga Steel Works, JSC",
        Segment.ENTERPRISE,
        kam,  # user names match whatever their case
        "Frame, 2025",
    )
    assert Client.objects.get(registration_number=URAL).segment == Segment.PUBLIC


@pytest.mark.django_db
def test_semicolon_file_whose_header_names_carry_units_and_commas(administrator, volga):
    # As Excel saves "CSV (разделители — запятые)" in a Russian locale: Windows-1251, ';',
    # no-break spaces between thousands, decimal commas.
    content = csv_file(
        "ИНН;Квартал;Выручка, руб.;Валовая маржа (без НДС), руб.;Потенциал, руб.;Доля кошелька (%)",
        f"{VOLGA};3 кв. 2026;1\u00a0234\u00a0567,89;246\u00a0913,58;5\u00a0000\u00a0000;12,5",
        encoding="cp1251",
    )

    batch = import_apply(batch=check(ImportKind.FIGURES, content, administrator))

    assert batch.status == ImportStatus.APPLIED, report(batch)
    figure = ClientFigure.objects.get(client=volga, period=Q3)
    assert (figure.revenue, figure.gross_margin, figure.potential_revenue) == (
        Decimal("1234567.89"),
        Decimal("246913.58"),
        Decimal("5000000"),
    )
    assert figure.share_of_wallet == Decimal("12.5")


@pytest.mark.django_db
def test_xlsx_clients_with_a_numeric_registration_number(administrator, kam):
    content = xlsx_file(
        [
            ["ИНН", "Наименование", "Сегмент", "КАМ"],
            [int(VOLGA), "ПАО «Волжский металлург»", "Крупный бизнес", "kam"],
        ]
    )

    batch = check(ImportKind.CLIENTS, content, administrator, filename="clients.XLSX")
    import_apply(batch=batch)

    assert report_rows(batch)[2]["key"] == VOLGA
    client = Client.objects.get()
    assert (client.registration_number, client.segment, client.owner_kam) == (
        VOLGA,
        Segment.ENTERPRISE,
        kam,
    )


@pytest.mark.django_db
def test_xlsx_figures_with_numeric_cells_a_date_period_and_a_percent_cell(administrator, volga):
    content = xlsx_file(
        [
            ["ИНН", "Период", "Выручка", "Валовая маржа", "Потенциал", "Доля кошелька"],
            [VOLGA, datetime.datetime(2026, 7, 1), 1234567.89, -15000, 5000000, 0.125],
            [VOLGA, datetime.date(2026, 4, 1), 1000, 250.5, 0, 30],
        ],
        number_formats={"B2": "DD.MM.YYYY", "F2": "0.0%"},
    )

    batch = import_apply(batch=check(ImportKind.FIGURES, content, administrator, "f.xlsx"))

    assert batch.status == ImportStatus.APPLIED, report(batch)
    q3 = ClientFigure.objects.get(client=volga, period=Q3)
    assert (q3.revenue, q3.gross_margin, q3.potential_revenue, q3.share_of_wallet) == (
        Decimal("1234567.89"),
        Decimal("-15000"),  # a margin may be negative, revenue may not
        Decimal("5000000"),
        Decimal("12.5"),  # shown as 12,5 % in Excel, kept there as 0.125
    )
    q2 = ClientFigure.objects.get(client=volga, period=datetime.date(2026, 4, 1))
    assert q2.share_of_wallet == Decimal("30")


@pytest.mark.django_db
def test_xlsx_formula_results_are_taken_as_shown_not_with_binary_noise(administrator, volga):
    content = xlsx_file(
        [
            ["inn", "period", "revenue", "gross_margin", "potential_revenue"],
            [VOLGA, "2026-Q3", 1234.56, 0.3, 10000],
        ]
    )
    # Excel keeps a formula's result with 17 significant digits (openpyxl writes fewer).
    content = xlsx_with_sheet_xml(
        content,
        {"<v>1234.56</v>": "<v>1234.5600000000002</v>", "<v>0.3</v>": "<v>0.30000000000000004</v>"},
    )

    batch = import_apply(batch=check(ImportKind.FIGURES, content, administrator, "f.xlsx"))

    assert batch.status == ImportStatus.APPLIED, report(batch)
    figure = ClientFigure.objects.get()
    assert (figure.revenue, figure.gross_margin) == (Decimal("1234.56"), Decimal("0.30"))


@pytest.mark.django_db
def test_blank_rows_are_skipped_and_rows_keep_their_numbers_in_the_file(administrator):
    csv_content = csv_file(
        "ИНН;Наименование", "", f"{VOLGA};Volga", ";", "12;Too short", "", f"{URAL};Ural", ""
    )
    xlsx_content = xlsx_file(
        [["ИНН", "Наименование"], [], [VOLGA, "Volga"], [None, None], ["12", "Too short"]]
    )

    from_csv = check(ImportKind.CLIENTS, csv_content, administrator)
    from_xlsx = check(ImportKind.CLIENTS, xlsx_content, administrator, "clients.xlsx")

    assert [(r["row"], r["action"]) for r in report(from_csv)] == [
        (3, "create"),
        (5, "error"),
        (7, "create"),
    ]
    assert [(r["row"], r["action"]) for r in report(from_xlsx)] == [(3, "create"), (5, "error")]
    assert from_csv.rows_total == 3


def test_read_table_keeps_cells_as_written() -> None:
    table = read_table(csv_file("ИНН;Выручка", "7701234567;1 234,5", encoding="cp1251"), "f.csv")
    assert table == [["ИНН", "Выручка"], ["7701234567", "1 234,5"]]


# --- Numbers and quarters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "number"),
    [
        ("1 234 567,89", Decimal("1234567.89")),
        ("1\u00a0234\u00a0567,89", Decimal("1234567.89")),  # Excel's thousands: no-break space
        ("1\u202f234\u202f567,89", Decimal("1234567.89")),  # narrow no-break space
        ("1.234.567,89", Decimal("1234567.89")),
        ("1,234,567.89", Decimal("1234567.89")),
        ("1234567.89", Decimal("1234567.89")),
        ("12,5", Decimal("12.5")),
        ("12,5 %", Decimal("12.5")),
        (" -15 000,00 ", Decimal("-15000.00")),
        ("0", Decimal("0")),
        (12.5, Decimal("12.5")),
        (1234.5600000000002, Decimal("1234.56")),
        (7, Decimal("7")),
        (Decimal("3.14"), Decimal("3.14")),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_parse_decimal_reads_russian_and_spreadsheet_numbers(written, number) -> None:
    assert parse_decimal(written) == number


@pytest.mark.parametrize(
    "written", ["много", "12,3,4", "1.234.567", "inf", "-Infinity", "NaN", float("nan"), True]
)
def test_parse_decimal_refuses_what_is_not_a_number(written) -> None:
    with pytest.raises(ValidationError, match="is not a number"):
        parse_decimal(written)


@pytest.mark.parametrize(
    "written",
    [
        "2026-Q3",
        "2026 Q3",
        "2026q3",
        "Q3 2026",
        "q3-2026",
        "3 кв. 2026",
        "3кв.2026",
        "3 квартал 2026 г.",
        "III кв. 2026",  # as SKAM's Russian pages write it
        "iii квартал 2026",
        "2026 К3",
        "01.07.2026",
        "2026-07-01",
        datetime.date(2026, 7, 1),
        datetime.datetime(2026, 7, 1, 0, 0),
    ],
)
def test_parse_quarter_reads_the_usual_spellings(written) -> None:
    assert parse_quarter(written) == Q3


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("15.07.2026", "15.07.2026 is not the first day of a quarter."),
        ("2026-08-01", "01.08.2026 is not the first day of a quarter."),
        (datetime.date(2026, 7, 15), "15.07.2026 is not the first day of a quarter."),
        ("2026-Q5", "“2026-Q5” is not a quarter: write it as 2026-Q3 or 01.07.2026."),
        ("V кв. 2026", "“V кв. 2026” is not a quarter: write it as 2026-Q3 or 01.07.2026."),
        ("summer 2026", "“summer 2026” is not a quarter: write it as 2026-Q3 or 01.07.2026."),
        ("31.02.2026", "“31.02.2026” is not a quarter: write it as 2026-Q3 or 01.07.2026."),
        ("", "“” is not a quarter: write it as 2026-Q3 or 01.07.2026."),
    ],
)
def test_parse_quarter_says_what_is_wrong(written, message) -> None:
    with pytest.raises(ValidationError) as error:
        parse_quarter(written)
    assert error.value.messages == [message]


# --- The dry run -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_dry_run_writes_nothing_and_reports_every_row(administrator, volga):
    NeedFactory(client=volga, name="Delivery in 24 h", weight=5)
    FigureFactory(client=volga, period=Q3)
    before = register_counts()

    clients = check(ImportKind.CLIENTS, csv_file(*CLIENTS_RU), administrator)
    needs = check(
        ImportKind.NEEDS,
        csv_file("ИНН;Потребность;Вес", f"{VOLGA};Delivery in 24 h;8", f"{VOLGA};Credit;6"),
        administrator,
    )
    figures = check(
        ImportKind.FIGURES,
        csv_file(
            "ИНН;Квартал;Выручка;Валовая маржа;Потенциал",
            f"{VOLGA};2026-Q3;1;1;1",
            f"{VOLGA};2026-Q4;1;1;1",
        ),
        administrator,
    )

    assert register_counts() == before
    volga.refresh_from_db()
    assert volga.name == "Volga Steel Works JSC"
    assert ClientNeed.objects.get().weight == 5
    for batch in (clients, needs, figures):
        assert batch.status == ImportStatus.CHECKED
        assert (batch.rows_total, batch.rows_with_errors, batch.applied_at) == (2, 0, None)
        assert [(r["row"], r["action"]) for r in report(batch)] == [(2, "update"), (3, "create")]
    assert report_rows(clients)[2]["key"] == VOLGA
    assert bytes(clients.content) == csv_file(*CLIENTS_RU)  # kept for the confirmation


CLIENTS_HEADER = "ИНН;Наименование;Сегмент;КАМ"
NEEDS_HEADER = "ИНН;Потребность;Вес"
FIGURES_HEADER = "ИНН;Квартал;Выручка;Валовая маржа;Потенциал;Доля кошелька"

BAD_ROWS = {
    "unknown KAM": (
        ImportKind.CLIENTS,
        [CLIENTS_HEADER, f"{VOLGA};Volga;;kam", "7702000004;Ural;;nobody"],
        "“КАМ”: “nobody” is not the user name of an active KAM.",
    ),
    "a director is no KAM": (
        ImportKind.CLIENTS,
        [CLIENTS_HEADER, f"{VOLGA};Volga;;kam", "7702000004;Ural;;director"],
        "“КАМ”: “director” is not the user name of an active KAM.",
    ),
    "unknown segment": (
        ImportKind.CLIENTS,
        [CLIENTS_HEADER, f"{VOLGA};Volga;;", "7702000004;Ural;Huge;"],
        "“Сегмент”: Unknown segment “Huge”; use one of: "
        "Enterprise, Mid-market, Small business, Public sector.",
    ),
    "bad registration number": (
        ImportKind.CLIENTS,
        [CLIENTS_HEADER, f"{VOLGA};Volga;;", "12/34;Ural;;"],
        "“ИНН”: “12/34” is not an INN: an INN has only digits, 10 for an organisation or 12 "
        "for an individual entrepreneur.",
    ),
    "no name": (
        ImportKind.CLIENTS,
        [CLIENTS_HEADER, f"{VOLGA};Volga;;", "7702000004;;;"],
        "“Наименование”: the cell is empty, but this column is required.",
    ),
    "client twice": (
        ImportKind.CLIENTS,
        [CLIENTS_HEADER, f"{VOLGA};Volga;;", f"{VOLGA};Volga again;;"],
        f"“ИНН”: “{VOLGA}” repeats row 2; each row must describe something different.",
    ),
    "weight 11": (
        ImportKind.NEEDS,
        [NEEDS_HEADER, f"{VOLGA};Delivery;10", f"{VOLGA};Credit;11"],
        "“Вес”: “11” is more than 10.",
    ),
    "negative weight": (
        ImportKind.NEEDS,
        [NEEDS_HEADER, f"{VOLGA};Delivery;0", f"{VOLGA};Credit;-1"],
        "“Вес”: “-1” is less than 0.",
    ),
    "fractional weight": (
        ImportKind.NEEDS,
        [NEEDS_HEADER, f"{VOLGA};Delivery;5,0", f"{VOLGA};Credit;2,5"],
        "“Вес”: “2,5” is not a weight: write a whole number from 0 to 10.",
    ),
    "need of an unknown client": (
        ImportKind.NEEDS,
        [NEEDS_HEADER, f"{VOLGA};Delivery;5", "9999999998;Credit;5"],
        "“ИНН”: No client with INN “9999999998” in the register.",
    ),
    "need twice": (
        ImportKind.NEEDS,
        [NEEDS_HEADER, f"{VOLGA};Delivery;5", f"{VOLGA};Delivery;7"],
        f"“ИНН”: “{VOLGA}” repeats row 2; each row must describe something different.",
    ),
    "negative revenue": (
        ImportKind.FIGURES,
        [FIGURES_HEADER, f"{VOLGA};2026-Q2;100;10;100;", f"{VOLGA};2026-Q3;-100;10;100;"],
        "“Выручка”: “-100” is less than 0.",
    ),
    "revenue in words": (
        ImportKind.FIGURES,
        [FIGURES_HEADER, f"{VOLGA};2026-Q2;100;10;100;", f"{VOLGA};2026-Q3;много;10;100;"],
        "“Выручка”: “много” is not a number.",
    ),
    "no revenue": (
        ImportKind.FIGURES,
        [FIGURES_HEADER, f"{VOLGA};2026-Q2;100;10;100;", f"{VOLGA};2026-Q3;;10;100;"],
        "“Выручка”: the cell is empty, but this column is required.",
    ),
    "share of wallet over 100": (
        ImportKind.FIGURES,
        [FIGURES_HEADER, f"{VOLGA};2026-Q2;100;10;100;99,99", f"{VOLGA};2026-Q3;100;10;100;120"],
        "“Доля кошелька”: “120” is more than 100.",
    ),
    "period inside a quarter": (
        ImportKind.FIGURES,
        [FIGURES_HEADER, f"{VOLGA};2026-Q2;100;10;100;", f"{VOLGA};15.07.2026;100;10;100;"],
        "“Квартал”: “15.07.2026” is not the first day of a quarter.",
    ),
    "figures of an unknown client": (
        ImportKind.FIGURES,
        [FIGURES_HEADER, f"{VOLGA};2026-Q2;100;10;100;", "9999999998;2026-Q3;100;10;100;"],
        "“ИНН”: No client with INN “9999999998” in the register.",
    ),
    "quarter twice, spelled two ways": (
        ImportKind.FIGURES,
        [FIGURES_HEADER, f"{VOLGA};2026-Q3;100;10;100;", f"{VOLGA};01.07.2026;100;10;100;"],
        f"“ИНН”: “{VOLGA}” repeats row 2; each row must describe something different.",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", BAD_ROWS.values(), ids=BAD_ROWS.keys())
def test_a_bad_row_is_named_with_its_number_and_why(case, administrator, director, volga):
    kind, lines, message = case
    before = register_counts()

    batch = check(kind, csv_file(*lines), administrator)

    assert batch.status == ImportStatus.REJECTED
    assert (batch.rows_total, batch.rows_with_errors) == (2, 1)
    rows = report_rows(batch)
    assert rows[2]["action"] in {"create", "update"}
    assert rows[2]["errors"] == []
    assert rows[3]["action"] == "error"
    assert rows[3]["errors"] == [message]
    with pytest.raises(ImportNotApplicable):
        import_apply(batch=batch)
    assert register_counts() == before


@pytest.mark.django_db
def test_a_row_with_several_faults_lists_each(administrator, volga):
    batch = check(
        ImportKind.FIGURES,
        csv_file(FIGURES_HEADER, f"{VOLGA};2026-Q5;-1;x;100;"),
        administrator,
    )
    assert report_rows(batch)[2]["errors"] == [
        "“Квартал”: “2026-Q5” is not a quarter: write it as 2026-Q3, III кв. 2026 or 01.07.2026.",
        "“Выручка”: “-1” is less than 0.",
        "“Валовая маржа”: “x” is not a number.",
    ]


@pytest.mark.django_db
def test_an_inactive_kam_cannot_be_given_clients(administrator):
    UserFactory(username="retired", role=Role.KAM, is_active=False)
    content = csv_file(CLIENTS_HEADER, f"{VOLGA};Volga;;retired")
    batch = check(ImportKind.CLIENTS, content, administrator)
    assert report_rows(batch)[2]["errors"] == [
        "“КАМ”: “retired” is not the user name of an active KAM."
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "content", "filename", "message"),
    [
        (
            ImportKind.NEEDS,
            csv_file("ИНН;Потребность;Важность?", f"{VOLGA};Delivery;5"),
            "needs.csv",
            "The header row lacks required columns: “Вес”.",
        ),
        (
            ImportKind.FIGURES,
            csv_file("ИНН;Выручка", f"{VOLGA};5"),
            "figures.csv",
            "The header row lacks required columns: “Квартал”, “Валовая маржа”, “Потенциал”.",
        ),
        (ImportKind.CLIENTS, b"", "clients.csv", "The file is empty."),
        (ImportKind.CLIENTS, csv_file("", ";;", " "), "clients.csv", "The file has no rows."),
        (
            ImportKind.CLIENTS,
            csv_file("ИНН;Наименование"),
            "clients.csv",
            "The file has a header row but no data rows.",
        ),
        (
            ImportKind.CLIENTS,
            csv_file(*CLIENTS_RU),
            "clients.xlsx",
            "This is not a readable .xlsx workbook.",
        ),
        # Neither UTF-8 nor Windows-1251 (0x98 is unassigned there).
        (ImportKind.CLIENTS, b"\x98\x00\xff\xfe", "clients.csv", "not a readable CSV table"),
        (
            ImportKind.CLIENTS,
            csv_file("ИНН;Наименование", f'{VOLGA};"{"x" * 200_000}'),
            "clients.csv",
            "not a readable CSV table",
        ),
    ],
    ids=[
        "missing weight",
        "missing three",
        "empty",
        "blank",
        "header only",
        "csv named xlsx",
        "binary",
        "broken csv",
    ],
)
def test_a_file_that_cannot_be_read_is_rejected_as_a_whole(
    kind, content, filename, message, administrator, volga
):
    before = register_counts()

    batch = check(kind, content, administrator, filename)

    assert batch.status == ImportStatus.REJECTED
    assert (batch.rows_total, batch.rows_with_errors) == (0, 1)
    [entry] = report(batch)
    assert (entry["row"], entry["action"]) == (0, "error")
    assert message in entry["errors"][0]
    with pytest.raises(ImportNotApplicable):
        import_apply(batch=batch)
    assert register_counts() == before


# --- The import --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_one_bad_row_and_nothing_is_imported(administrator, kam):
    content = csv_file(*CLIENTS_RU, "7702000004;ООО «Третий»;;;;nobody")

    batch = check(ImportKind.CLIENTS, content, administrator)

    assert batch.status == ImportStatus.REJECTED
    with pytest.raises(ImportNotApplicable, match="imported already or has errors"):
        import_apply(batch=batch)
    assert not Client.objects.exists()
    batch.refresh_from_db()
    assert (batch.status, batch.applied_at) == (ImportStatus.REJECTED, None)


@pytest.mark.django_db
def test_confirming_a_good_file_imports_every_row(administrator, kam):
    batch = import_apply(batch=check(ImportKind.CLIENTS, csv_file(*CLIENTS_RU), administrator))

    assert batch.status == ImportStatus.APPLIED
    assert batch.applied_at is not None
    assert set(Client.objects.values_list("registration_number", flat=True)) == {VOLGA, URAL}
    assert not Client.objects.filter(is_key=True).exists()  # key status is not imported


@pytest.mark.django_db
def test_an_existing_client_is_updated_not_duplicated(administrator, volga, ural, kam2):
    content = csv_file(
        "ИНН;Наименование;Отрасль;Регион;КАМ",
        f"{VOLGA};ПАО «Волжский металлург»;Сталь;Самара;kam2",
        "7702000004;ООО «Новый клиент»;Химия;Казань;",
    )
    updated_before = volga.updated_at

    batch = check(ImportKind.CLIENTS, content, administrator)
    import_apply(batch=batch)

    assert [r["action"] for r in report(batch)] == ["update", "create"]
    assert Client.objects.count() == 3
    volga.refresh_from_db()
    assert (volga.pk, volga.name, volga.industry, volga.region, volga.owner_kam) == (
        volga.pk,
        "ПАО «Волжский металлург»",
        "Сталь",
        "Самара",
        kam2,
    )
    assert volga.updated_at > updated_before
    # Columns the file does not have are left as they were.
    assert volga.segment == Segment.ENTERPRISE
    assert volga.notes == "Signed a frame contract in 2025."
    ural.refresh_from_db()
    assert ural.name == "Ural Chemical Plant LLC"  # not in the file, untouched


@pytest.mark.django_db
def test_empty_cells_clear_the_values_of_their_columns(administrator, volga):
    content = csv_file("ИНН;Наименование;Регион;КАМ", f"{VOLGA};Volga;;")

    import_apply(batch=check(ImportKind.CLIENTS, content, administrator))

    volga.refresh_from_db()
    assert (volga.region, volga.owner_kam) == ("", None)


@pytest.mark.django_db
def test_needs_are_upserted_by_client_and_name(administrator, volga, ural):
    delivery = NeedFactory(client=volga, name="Delivery in 24 h", weight=5, description="Moscow")
    NeedFactory(client=ural, name="Delivery in 24 h", weight=2)
    content = csv_file(
        "inn;need;weight", f"{VOLGA};Delivery in 24 h;9", f"{VOLGA};Credit 60 days;7"
    )

    batch = import_apply(batch=check(ImportKind.NEEDS, content, administrator))

    assert [r["action"] for r in report(batch)] == ["update", "create"]
    delivery.refresh_from_db()
    assert (delivery.weight, delivery.description) == (9, "Moscow")  # no description column
    assert set(volga.needs.values_list("name", "weight")) == {
        ("Delivery in 24 h", 9),
        ("Credit 60 days", 7),
    }
    assert ural.needs.get().weight == 2


@pytest.mark.django_db
def test_figures_are_upserted_by_client_and_quarter(administrator, volga):
    FigureFactory(client=volga, period=Q3, revenue=Decimal(1), share_of_wallet=Decimal(30))
    content = csv_file(
        "ИНН;Квартал;Выручка;Валовая маржа;Потенциал",
        f"{VOLGA};Q3 2026;2 000 000,50;500 000;9 000 000",
        f"{VOLGA};4 кв. 2026;100;10;1000",
    )

    batch = import_apply(batch=check(ImportKind.FIGURES, content, administrator))

    assert [r["action"] for r in report(batch)] == ["update", "create"]
    q3 = ClientFigure.objects.get(client=volga, period=Q3)
    assert (q3.revenue, q3.gross_margin, q3.share_of_wallet) == (
        Decimal("2000000.50"),
        Decimal("500000"),
        Decimal("30"),  # no share-of-wallet column: kept
    )
    assert volga.figures.count() == 2


@pytest.mark.django_db
def test_a_second_confirmation_does_nothing_and_says_so(administrator, kam):
    batch = check(ImportKind.CLIENTS, csv_file(*CLIENTS_RU), administrator)
    import_apply(batch=batch)
    applied_at = ImportBatch.objects.get().applied_at
    Client.objects.filter(registration_number=VOLGA).update(name="Renamed since")

    with pytest.raises(ImportNotApplicable, match="This file was imported already"):
        import_apply(batch=batch)

    assert Client.objects.count() == 2
    assert Client.objects.get(registration_number=VOLGA).name == "Renamed since"
    batch.refresh_from_db()
    assert (batch.status, batch.applied_at) == (ImportStatus.APPLIED, applied_at)


@pytest.mark.django_db
def test_a_register_changed_since_the_check_rejects_the_whole_batch(administrator, volga, ural):
    content = csv_file(NEEDS_HEADER, f"{VOLGA};Delivery;5", f"{URAL};Credit;7")
    batch = check(ImportKind.NEEDS, content, administrator)
    assert batch.status == ImportStatus.CHECKED
    ural.delete()

    batch = import_apply(batch=batch)

    assert batch.status == ImportStatus.REJECTED
    assert batch.applied_at is None
    assert batch.rows_with_errors == 1
    rows = report_rows(batch)
    assert rows[2]["action"] == "create"
    assert rows[3]["errors"] == [f"“ИНН”: No client with INN “{URAL}” in the register."]
    assert not ClientNeed.objects.exists()  # not even the need of the client still there
    with pytest.raises(ImportNotApplicable):
        import_apply(batch=batch)


@pytest.mark.django_db
def test_the_report_after_import_tells_what_was_done(administrator, kam):
    batch = check(ImportKind.CLIENTS, csv_file(*CLIENTS_RU), administrator)
    ClientFactory(registration_number=VOLGA, name="Entered by hand meanwhile")

    batch = import_apply(batch=batch)

    assert batch.status == ImportStatus.APPLIED
    assert [r["action"] for r in report(batch)] == ["update", "create"]
    assert Client.objects.count() == 2
    assert Client.objects.get(registration_number=VOLGA).name == "ПАО «Волжский металлург»"


# --- Races and scale ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_confirmations_at_once_import_exactly_once(administrator):
    lines = ["ИНН;Наименование"] + [f"{inn(n)};Client {n}" for n in range(300)]
    batch = check(ImportKind.CLIENTS, csv_file(*lines), administrator)
    start = threading.Barrier(2)
    outcomes: list[str] = []
    failures: list[BaseException] = []

    def confirm() -> None:
        try:
            start.wait()
            import_apply(batch=ImportBatch.objects.get(pk=batch.pk))
            outcomes.append("imported")
        except ImportNotApplicable:
            outcomes.append("refused")
        except BaseException as exc:  # reported by the assertion below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert sorted(outcomes) == ["imported", "refused"]
    assert Client.objects.count() == 300
    assert ImportBatch.objects.get().status == ImportStatus.APPLIED


@pytest.mark.django_db
def test_an_import_keeps_the_industries_and_regions_the_filter_offers(administrator):
    ClientFactory(registration_number="7700000009", industry="Mining", region="Perm")
    batch = check(
        ImportKind.CLIENTS,
        csv_file(
            "ИНН;Наименование;Отрасль;Регион",
            "7700000009;Volga Steel;Energy;Perm",
            "7800000002;Ural Foods;Energy;Kazan",
        ),
        administrator,
    )

    assert import_apply(batch=batch).status == ImportStatus.APPLIED
    assert sorted(FilterChoice.objects.values_list("kind", "value")) == [
        ("industry", "Energy"),  # Mining went with the only client that had it
        ("region", "Kazan"),
        ("region", "Perm"),
    ]


def _clients_file(size: int) -> bytes:
    # Half the rows update existing clients, half create new ones.
    lines = ["ИНН;Наименование;Сегмент;КАМ"]
    lines += [f"{inn(n)};Existing {n};Крупный бизнес;kam" for n in range(size // 2)]
    lines += [f"{inn(5000 + n)};New {n};;kam2" for n in range(size - size // 2)]
    return csv_file(*lines)


def _needs_file(size: int) -> bytes:
    lines = ["ИНН;Потребность;Вес;Описание"]
    lines += [f"{inn(n % 10)};Need {n};{n % 11};Why {n}" for n in range(size)]
    return csv_file(*lines)


def _figures_file(size: int) -> bytes:
    lines = ["ИНН;Квартал;Выручка;Валовая маржа;Потенциал;Доля кошелька"]
    lines += [
        f"{inn(n % 10)};{2000 + n // 10}-Q{n % 4 + 1};1 000,{n % 100:02d};100;5000;12,5"
        for n in range(size)
    ]
    return csv_file(*lines)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "make_file"),
    [
        (ImportKind.CLIENTS, _clients_file),
        (ImportKind.NEEDS, _needs_file),
        (ImportKind.FIGURES, _figures_file),
    ],
)
def test_queries_do_not_grow_with_the_number_of_rows(kind, make_file, administrator, kam, kam2):
    Client.objects.bulk_create(
        ClientFactory.build(registration_number=f"{inn(n)}") for n in range(100)
    )
    for client in Client.objects.all()[:10]:  # existing needs and figures, to be updated
        NeedFactory(client=client, name="Need 0")
        FigureFactory(client=client, period=datetime.date(2000, 1, 1))
    counts = {}
    for size in (10, 200):
        with CaptureQueriesContext(connection) as checking:
            batch = check(kind, make_file(size), administrator)
        assert batch.status == ImportStatus.CHECKED, report(batch)[:3]
        actions = {r["action"] for r in report(batch)}
        # The second file repeats rows the first one imported: those are unchanged.
        assert "create" in actions and actions <= {"create", "update", "unchanged"}, actions
        assert size > 10 or "update" in actions
        with CaptureQueriesContext(connection) as importing:
            batch = import_apply(batch=batch)
        assert batch.status == ImportStatus.APPLIED
        counts[size] = (len(checking), len(importing))

    # Both files fit one chunk: the same queries, whatever the number of rows. Checking: the
    # batch and its progress, the claim, the batch, clearing an earlier check, the KAMs (or the
    # existing needs or figures), the clients, the rows in one insert, the progress three times,
    # the result. Importing: the claim and its progress, asking the record to chain at commit,
    # the lock, the KAMs, the kept rows, the clients and children, the writes (fewer when the
    # second file changes nothing), the result; an import of needs also records the change of
    # needs (the uploader, a savepoint, the needs before and after, one insert).
    assert counts[10][0] == counts[200][0] <= 13, counts
    recording = 7 if kind == ImportKind.NEEDS else 0
    assert counts[200][1] <= counts[10][1] <= 13 + recording, counts


# --- Pages -------------------------------------------------------------------------------------


def upload(content: bytes, name: str = "clients.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


@pytest.mark.django_db
def test_an_import_of_needs_is_recorded_as_the_uploaders_change(administrator):
    Client.objects.bulk_create(
        ClientFactory.build(registration_number=f"{inn(n)}") for n in range(3)
    )
    import_apply(batch=check(ImportKind.NEEDS, _needs_file(3), administrator))
    changes = NeedChange.objects.all()
    assert changes.count() == 3  # one per client whose needs changed
    assert {change.changed_by for change in changes} == {administrator}
    assert all(change.before == [] and len(change.after) == 1 for change in changes)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["chair", "member", "kam", "kam2", "director", "outsider"])
def test_only_the_administrator_may_reach_the_import_pages(who, cast, client_as):
    batch = check(ImportKind.CLIENTS, csv_file(*CLIENTS_RU), cast["administrator"])
    http = client_as(cast[who])

    responses = [
        http.get(reverse("accounts:import-list")),
        http.post(
            reverse("accounts:import-list"),
            {"kind": ImportKind.CLIENTS, "file": upload(csv_file(*CLIENTS_RU))},
        ),
        http.get(reverse("accounts:import-detail", args=[batch.pk])),
        http.post(reverse("accounts:import-confirm", args=[batch.pk])),
    ]

    assert [response.status_code for response in responses] == [403, 403, 403, 403]
    assert ImportBatch.objects.count() == 1
    assert not Client.objects.exists()
    batch.refresh_from_db()
    assert batch.status == ImportStatus.CHECKED


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_sign_in(client, administrator):
    batch = check(ImportKind.CLIENTS, csv_file(*CLIENTS_RU), administrator)
    for response in (
        client.get(reverse("accounts:import-list")),
        client.get(reverse("accounts:import-detail", args=[batch.pk])),
        client.post(reverse("accounts:import-confirm", args=[batch.pk])),
    ):
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    assert not Client.objects.exists()


@pytest.mark.django_db
def test_upload_checks_the_file_and_shows_the_report(client_as, administrator, kam, worker):
    http = client_as(administrator)
    content = csv_file(*CLIENTS_RU, encoding="cp1251")

    response = worker(
        lambda: http.post(
            reverse("accounts:import-list"), {"kind": ImportKind.CLIENTS, "file": upload(content)}
        )
    )

    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("accounts:import-detail", args=[batch.pk])
    assert (batch.filename, batch.kind, batch.uploaded_by) == (
        "clients.csv",
        ImportKind.CLIENTS,
        administrator,
    )
    assert bytes(batch.content) == content
    assert not Client.objects.exists()
    page = http.get(response.url).text
    assert "Checked, ready to import" in page
    assert "2 rows: 2 new, 0 updated, 0 unchanged, 0 with errors" in page
    assert VOLGA in page and URAL in page
    assert reverse("accounts:import-confirm", args=[batch.pk]) in page
    listing = http.get(reverse("accounts:import-list")).text
    assert 'href="{}"'.format(reverse("accounts:import-detail", args=[batch.pk])) in listing


@pytest.mark.django_db
def test_upload_of_an_xlsx_file_through_the_form(client_as, administrator, worker):
    content = xlsx_file([["ИНН", "Наименование"], [int(VOLGA), "Volga"]])
    http = client_as(administrator)

    worker(
        lambda: http.post(
            reverse("accounts:import-list"),
            {"kind": ImportKind.CLIENTS, "file": SimpleUploadedFile("Клиенты.xlsx", content)},
        )
    )

    batch = ImportBatch.objects.get()
    assert (batch.filename, batch.status, batch.rows_total) == (
        "Клиенты.xlsx",
        ImportStatus.CHECKED,
        1,
    )


@pytest.mark.django_db
def test_upload_form_refuses_other_files_and_oversized_ones(client_as, administrator, settings):
    http = client_as(administrator)
    url = reverse("accounts:import-list")

    pdf = http.post(url, {"kind": ImportKind.CLIENTS, "file": upload(b"%PDF-1.7", "report.pdf")})
    settings.SKAM_IMPORT_MAX_BYTES = 1024 * 1024
    big = http.post(
        url,
        {"kind": ImportKind.CLIENTS, "file": upload(b"x" * (1024 * 1024 + 1), "big.csv")},
    )
    no_kind = http.post(url, {"kind": "users", "file": upload(csv_file(*CLIENTS_RU))})

    assert (pdf.status_code, big.status_code, no_kind.status_code) == (200, 200, 200)
    assert "Upload a .csv or .xlsx file." in pdf.text
    assert "The file is larger than 1 MB." in big.text
    assert "Select a valid choice." in no_kind.text
    assert not ImportBatch.objects.exists()


@pytest.mark.django_db
def test_detail_page_filters_the_report_by_result(client_as, administrator, volga):
    content = csv_file(
        CLIENTS_HEADER,
        f"{VOLGA};Volga;;",
        "7702000004;Ural;;nobody",
        "7702000011;Kama;;",
    )
    batch = check(ImportKind.CLIENTS, content, administrator)
    http = client_as(administrator)
    url = reverse("accounts:import-detail", args=[batch.pk])

    everything = http.get(url).text
    errors = http.get(url, {"show": "error"}).text
    new = http.get(url, {"show": "create"}).text

    assert all(n in everything for n in (VOLGA, "7702000004", "7702000011"))
    report = errors.split('data-testid="import-report"')[1]
    assert "7702000004" in report
    assert "“nobody” is not the user name of an active KAM." in report
    assert VOLGA not in report and "7702000011" not in report
    assert "7702000011" in new and "7702000004" not in new.split('data-testid="import-report"')[1]
    assert "Errors (1)" in errors and "New (1)" in errors and "Updates (1)" in errors
    assert "Has errors, nothing imported" in errors
    assert "Nothing was imported." in errors
    assert reverse("accounts:import-confirm", args=[batch.pk]) not in everything


@pytest.mark.django_db
def test_detail_page_shows_a_file_level_error(client_as, administrator):
    batch = check(ImportKind.NEEDS, csv_file("ИНН;Потребность", f"{VOLGA};x"), administrator)

    page = client_as(administrator).get(reverse("accounts:import-detail", args=[batch.pk])).text

    assert "The header row lacks required columns: “Вес”." in page
    assert "Has errors, nothing imported" in page


@pytest.mark.django_db
def test_confirm_by_post_imports_and_a_second_post_says_it_was_done(
    client_as, administrator, worker
):
    content = csv_file(CLIENTS_HEADER, f"{VOLGA};Volga Steel Works JSC;;")
    batch = check(ImportKind.CLIENTS, content, administrator)
    http = client_as(administrator)
    url = reverse("accounts:import-confirm", args=[batch.pk])

    assert http.get(url).status_code == 405
    assert not Client.objects.exists()
    first = worker(lambda: http.post(url))
    page = http.get(first.url).text
    second = http.post(url, follow=True)

    assert first.url == reverse("accounts:import-detail", args=[batch.pk])
    assert "Importing 1 row from clients.csv: this page shows when it is done." in page
    assert 'data-testid="import-status">Imported<' in page
    assert Client.objects.get().registration_number == VOLGA
    assert "This file was imported already or has errors." in second.text
    assert Client.objects.count() == 1


@pytest.mark.django_db
def test_confirm_after_the_register_changed_says_nothing_was_imported(
    client_as, administrator, volga, worker
):
    content = csv_file(FIGURES_HEADER, f"{VOLGA};2026-Q3;1;1;1;")
    batch = check(ImportKind.FIGURES, content, administrator)
    volga.delete()
    http = client_as(administrator)

    worker(lambda: http.post(reverse("accounts:import-confirm", args=[batch.pk])))
    page = http.get(batch.get_absolute_url()).text

    assert "Nothing was imported. Correct the rows listed below" in page
    assert f"“ИНН”: No client with INN “{VOLGA}” in the register." in page
    assert not ClientFigure.objects.exists()


@pytest.mark.django_db
def test_missing_batch_is_not_found(client_as, administrator):
    http = client_as(administrator)
    assert http.get(reverse("accounts:import-detail", args=[999])).status_code == 404
    assert http.post(reverse("accounts:import-confirm", args=[999])).status_code == 404


@pytest.mark.django_db
def test_the_error_filter_keeps_to_errors_across_pages(client_as, administrator, volga):
    lines = [NEEDS_HEADER, f"{VOLGA};Delivery;5"]
    numbers = [inn_with_check_digits(f"99{n:07d}") for n in range(150)]
    lines += [f"{number};Need;5" for number in numbers]  # clients not in the register
    batch = check(ImportKind.NEEDS, csv_file(*lines), administrator)
    http = client_as(administrator)
    url = reverse("accounts:import-detail", args=[batch.pk])

    first = http.get(url, {"show": "error"}).text
    second = http.get(url, {"show": "error", "page": 2}).text

    assert "Page 1 of 2" in first
    assert 'href="?show=error&amp;page=2"' in first
    assert numbers[0] in first and numbers[149] not in first
    assert numbers[149] in second and "Page 2 of 2" in second
    assert ">151<" in second  # the last row of the file keeps its number
    assert VOLGA not in first.split('data-testid="import-report"')[1]


@pytest.mark.django_db
def test_the_report_speaks_the_uploaders_language(client_as, administrator, worker):
    http = client_as(administrator)
    http.post(reverse("set_language"), {"language": "ru", "next": "/"})

    worker(
        lambda: http.post(
            reverse("accounts:import-list"),
            {
                "kind": ImportKind.CLIENTS,
                "file": upload(csv_file(CLIENTS_HEADER, f"{VOLGA};Volga;;nobody")),
            },
        )
    )
    page = http.get(ImportBatch.objects.get().get_absolute_url()).text

    assert "«КАМ»: «nobody» — не логин действующего КАМ." in page
    assert "Есть ошибки, ничего не загружено" in page


# --- The file's own language: its headers, its values, its encoding ---------------------------

# As a Russian office keeps it: Windows-1251, ';' separated; «Регион» is there, «Наименование» not.
RUSSIAN_BAD_FILE = [
    "ИНН;Сегмент;Регион;КАМ;КПП;ОГРН",
    "7707083893;Крупный бизнес;Москва;kam;773601001;1027700132195",
    "77012345AB;Крупный бизнес;Москва;kam;;",
    "7707083894;;Казань;;;",
    ";;Пермь;;;",
    "500100732259;;Тула;;773601001;1027700132195",
]


@pytest.mark.django_db
def test_a_windows_1251_file_names_the_missing_column_by_the_files_language(
    client_as, administrator
):
    batch = check(ImportKind.CLIENTS, csv_file(*RUSSIAN_BAD_FILE, encoding="cp1251"), administrator)

    assert batch.status == ImportStatus.REJECTED
    assert [(r["row"], r["errors"]) for r in report(batch)] == [
        (0, ["The header row lacks required columns: “Наименование”."])
    ]
    # The error report says it in the header row's error column.
    response = client_as(administrator).get(reverse("accounts:import-errors", args=[batch.pk]))
    assert response.content.decode("cp1251").splitlines()[0] == (
        "ИНН;Сегмент;Регион;КАМ;КПП;ОГРН;"
        "Errors: The header row lacks required columns: “Наименование”."
    )


@pytest.mark.django_db
def test_a_windows_1251_file_names_each_bad_inn_with_its_header_and_value(administrator, kam):
    lines = [RUSSIAN_BAD_FILE[0] + ";Наименование"] + [
        f"{line};ООО «Ромашка»" for line in RUSSIAN_BAD_FILE[1:]
    ]

    batch = check(ImportKind.CLIENTS, csv_file(*lines, encoding="cp1251"), administrator)

    assert batch.status == ImportStatus.REJECTED
    assert {r["row"]: r["errors"] for r in report(batch)} == {
        2: [],
        3: [
            "“ИНН”: “77012345AB” is not an INN: an INN has only digits, 10 for an organisation "
            "or 12 for an individual entrepreneur."
        ],
        4: [
            "“ИНН”: “7707083894” is not a valid INN: its check digits do not match "
            "(a mistyped digit?)."
        ],
        5: ["“ИНН”: the cell is empty, but this column is required."],
        6: [
            "“КПП”: “773601001”: an individual entrepreneur (a 12-digit INN) has no KPP.",
            "“ОГРН”: “1027700132195” does not fit the INN: an organisation (10-digit INN) has a "
            "13-digit OGRN, an individual entrepreneur (12-digit INN) a 15-digit OGRNIP.",
        ],
    }
    with translation.override("ru"):
        assert import_errors_text(ImportRow.objects.get(batch=batch, row=3).errors) == [
            "«ИНН»: «77012345AB» — не ИНН: в ИНН только цифры, 10 у организации или 12 у "
            "индивидуального предпринимателя."
        ]


@pytest.mark.django_db
def test_the_preview_shows_each_rows_values_and_what_it_does(client_as, administrator, volga):
    NeedFactory(client=volga, name="Delivery", weight=3, description="")
    batch = check(
        ImportKind.NEEDS,
        csv_file(
            "ИНН;Потребность;Вес;Описание",
            f"{VOLGA};Delivery;5;",  # a new weight
            f"{VOLGA};Credit;7,0;60 days",  # a new need
            f"{VOLGA};Delivery;8;",  # the same need again: an error
        ),
        administrator,
    )
    http = client_as(administrator)

    page = http.get(batch.get_absolute_url()).text
    http.post(reverse("set_language"), {"language": "ru", "next": "/"})
    russian = http.get(batch.get_absolute_url()).text

    table = page.split('data-testid="import-report"')[1]
    assert '<th scope="col">Потребность</th><th scope="col">Вес</th>' in table
    assert "updated: needs (Вес)" in table
    assert "updated: needs (a new need)" in table
    assert "<td>7</td>" in table  # the weight as parsed, not "7,0"
    assert "<td>60 days</td>" in table
    assert "error: not imported" in table and "repeats row 2" in table
    assert "Row" in table and "What the row does" in table
    assert "обновление: потребности (Вес)" in russian


@pytest.mark.django_db
def test_an_unchanged_row_says_so_and_is_not_written(administrator, volga):
    stamp = Client.objects.filter(pk=volga.pk).values_list("updated_at", flat=True).get()
    content = csv_file(
        "ИНН;Наименование;Отрасль;Регион", f"{VOLGA};Volga Steel Works JSC;Metallurgy;Samara"
    )

    batch = import_apply(batch=check(ImportKind.CLIENTS, content, administrator))

    assert [r["action"] for r in report(batch)] == ["unchanged"]
    assert Client.objects.filter(pk=volga.pk).values_list("updated_at", flat=True).get() == stamp


# --- The error report: the file with its errors, to fix and upload again ----------------------


def _download(http: Any, batch: ImportBatch) -> Any:
    return http.get(reverse("accounts:import-errors", args=[batch.pk]))


@pytest.mark.django_db
def test_the_error_report_of_a_windows_1251_file_round_trips(client_as, administrator, kam):
    lines = ["ИНН;Наименование;Выручка, руб.", "7707083893;ООО «Ромашка»;1 234,50"]
    lines += ["77012345AB;ООО «Лютик»;", "7736207543;АО «Василёк»;10"]
    batch = check(ImportKind.CLIENTS, csv_file(*lines, encoding="cp1251"), administrator)
    http = client_as(administrator)

    response = _download(http, batch)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert "errors.csv" in response["Content-Disposition"]
    text = response.content.decode("cp1251")  # the file's own encoding and separator
    assert text.splitlines() == [
        "ИНН;Наименование;Выручка, руб.;Errors",
        "7707083893;ООО «Ромашка»;1 234,50;",
        "77012345AB;ООО «Лютик»;;“ИНН”: “77012345AB” is not an INN: an INN has only digits, 10 "
        "for an organisation or 12 for an individual entrepreneur.",
        "7736207543;АО «Василёк»;10;",
    ]

    fixed = response.content.replace(b"77012345AB", b"7702070139")
    again = check(ImportKind.CLIENTS, fixed, administrator, "clients — errors.csv")
    assert again.status == ImportStatus.CHECKED
    assert [r["action"] for r in report(again)] == ["create"] * 3
    # A report of the corrected file replaces the error column; it does not add another.
    again_bad = check(ImportKind.CLIENTS, response.content, administrator)
    second = _download(http, again_bad).content.decode("cp1251").splitlines()
    assert second[0] == "ИНН;Наименование;Выручка, руб.;Errors"


@pytest.mark.django_db
def test_the_error_report_of_a_workbook_round_trips(client_as, administrator, volga):
    content = xlsx_file(
        [
            ["ИНН", "Квартал", "Выручка", "Валовая маржа", "Потенциал", "Доля кошелька"],
            [VOLGA, "2026-Q3", 1000.5, 100, 5000, 0.125],
            [VOLGA, "2026-Q5", 1000, 100, 5000, 0.2],
        ],
        number_formats={"F2": "0.0%", "F3": "0.0%"},
    )
    batch = check(ImportKind.FIGURES, content, administrator, "figures.xlsx")
    http = client_as(administrator)
    http.post(reverse("set_language"), {"language": "ru", "next": "/"})
    response = _download(http, batch)

    assert response.status_code == 200
    assert response["Content-Disposition"].endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][-1] == "Ошибки"
    assert rows[1][-1] is None
    assert rows[2][-1].startswith("«Квартал»: «2026-Q5» — не квартал")
    assert sheet["F2"].number_format == "0.0%"

    sheet["B3"] = "2026-Q4"
    fixed = io.BytesIO()
    sheet.parent.save(fixed)
    again = import_apply(
        batch=check(ImportKind.FIGURES, fixed.getvalue(), administrator, "figures.xlsx")
    )
    assert again.status == ImportStatus.APPLIED
    assert sorted(ClientFigure.objects.values_list("period", "share_of_wallet")) == [
        (Q3, Decimal("12.50")),
        (datetime.date(2026, 10, 1), Decimal("20.00")),
    ]


@pytest.mark.django_db
def test_a_file_without_errors_has_no_error_report(client_as, administrator, kam):
    batch = check(ImportKind.CLIENTS, csv_file(*CLIENTS_RU), administrator)
    assert _download(client_as(administrator), batch).status_code == 404


# --- The worker, its progress, and who sees which import ----------------------------------------


@pytest.mark.django_db
def test_the_upload_queues_the_check_and_the_page_polls_until_it_is_done(
    client_as, administrator, kam, worker, monkeypatch
):
    http = client_as(administrator)
    queued: list[int] = []
    monkeypatch.setattr("accounts.views.import_enqueue", lambda task, pk: queued.append(pk))
    with translation.override("en"):
        response = worker(
            lambda: http.post(
                reverse("accounts:import-list"),
                {"kind": ImportKind.CLIENTS, "file": upload(csv_file(*CLIENTS_RU))},
            )
        )
    batch = ImportBatch.objects.get()
    assert queued == [batch.pk] and batch.status == ImportStatus.QUEUED

    waiting = http.get(response.url).text
    poll = http.get(response.url, {"poll": 1}, HTTP_HX_REQUEST="true")
    assert "Waiting for the worker" in waiting and 'hx-trigger="every 2s"' in waiting
    assert poll.status_code == 200 and "rows checked" in poll.text and "<html" not in poll.text

    worker(lambda: import_check_task.delay(batch.pk))  # what the worker does with it

    done = http.get(response.url, {"poll": 1}, HTTP_HX_REQUEST="true")
    assert done.status_code == 204 and done["HX-Refresh"] == "true"
    assert "Checked, ready to import" in http.get(response.url).text
    progress = ImportProgress.objects.get(batch=batch)
    assert progress.rows_done == 2


@pytest.mark.django_db
def test_a_stalled_check_says_so_and_may_be_queued_again(client_as, administrator, kam):
    batch = import_upload(
        kind=ImportKind.CLIENTS, filename="c.csv", content=csv_file(*CLIENTS_RU), user=administrator
    )
    http = client_as(administrator)
    assert "No progress since" not in http.get(batch.get_absolute_url()).text

    ImportProgress.objects.filter(batch=batch).update(
        progressed_at=datetime.datetime(2026, 4, 12, 18, 0, tzinfo=datetime.UTC)
    )
    page = http.get(batch.get_absolute_url()).text
    assert "No progress since" in page and "the worker may have stopped" in page

    response = http.post(reverse("accounts:import-retry", args=[batch.pk]), follow=True)
    assert "The file is back in the worker" in response.text


@pytest.mark.django_db
def test_a_failed_check_says_so(client_as, administrator, kam, worker, monkeypatch):
    batch = import_upload(
        kind=ImportKind.CLIENTS, filename="c.csv", content=csv_file(*CLIENTS_RU), user=administrator
    )

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("accounts.tasks.import_check_run", broken)
    with pytest.raises(RuntimeError):
        worker(lambda: import_check_task.delay(batch.pk))

    batch.refresh_from_db()
    assert batch.status == ImportStatus.FAILED
    page = client_as(administrator).get(batch.get_absolute_url()).text
    assert "Failed, nothing imported" in page
    assert "The worker failed on this file" in page


@pytest.mark.django_db
def test_the_imported_date_is_written_as_the_locale_writes_it(client_as, administrator, kam):
    batch = import_apply(batch=check(ImportKind.CLIENTS, csv_file(*CLIENTS_RU), administrator))
    ImportBatch.objects.filter(pk=batch.pk).update(
        applied_at=datetime.datetime(2026, 4, 12, 15, 0, tzinfo=datetime.UTC)  # 18:00 in Moscow
    )
    http = client_as(administrator)

    english = http.get(batch.get_absolute_url()).text
    http.post(reverse("set_language"), {"language": "ru", "next": "/"})
    russian = http.get(batch.get_absolute_url()).text

    assert "Imported on April 12, 2026 at 6 p.m.<" in english
    assert "Загружен 12 апреля 2026 г. в 18:00<" in russian


@pytest.mark.django_db
def test_nobody_sees_anothers_import_without_the_permission(client_as, administrator, kam):
    importer = UserFactory(username="importer")
    importer.user_permissions.add(Permission.objects.get(codename="import_register"))
    theirs = check(ImportKind.CLIENTS, csv_file(*CLIENTS_RU), administrator)
    own = check(ImportKind.CLIENTS, csv_file(*CLIENTS_RU), importer)
    http = client_as(importer)

    listing = http.get(reverse("accounts:import-list")).text

    assert own.get_absolute_url() in listing and theirs.get_absolute_url() not in listing
    assert http.get(own.get_absolute_url()).status_code == 200
    for response in (
        http.get(theirs.get_absolute_url()),
        http.get(reverse("accounts:import-errors", args=[theirs.pk])),
        http.post(reverse("accounts:import-confirm", args=[theirs.pk])),
        http.post(reverse("accounts:import-retry", args=[theirs.pk])),
    ):
        assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == ImportStatus.CHECKED
    # The administrator, who may see every import, sees both.
    everyone = client_as(administrator).get(reverse("accounts:import-list")).text
    assert own.get_absolute_url() in everyone and theirs.get_absolute_url() in everyone


@pytest.mark.django_db
def test_a_file_longer_than_a_chunk_is_checked_and_imported_chunk_by_chunk(
    administrator, kam, volga, monkeypatch
):
    monkeypatch.setattr("accounts.imports.CHUNK_ROWS", 2)
    lines = [CLIENTS_HEADER] + [f"{inn(n)};Client {n};;kam" for n in range(5)]
    lines += [f"{VOLGA};Volga renamed;;kam", f"{inn(1)};Client 1 again;;"]  # across chunks

    rejected = check(ImportKind.CLIENTS, csv_file(*lines), administrator)
    accepted = check(ImportKind.CLIENTS, csv_file(*lines[:-1]), administrator)
    batch = import_apply(batch=accepted)

    assert report_rows(rejected)[8]["errors"] == [
        f"“ИНН”: “{inn(1)}” repeats row 3; each row must describe something different."
    ]
    assert ImportProgress.objects.get(batch=rejected).rows_done == 7
    assert batch.status == ImportStatus.APPLIED
    assert [r["action"] for r in report(batch)] == ["create"] * 5 + ["update"]
    assert Client.objects.count() == 6
    assert Client.objects.get(registration_number=VOLGA).name == "Volga renamed"
