"""Bad input gets a clear answer, never a 500: ordering by a field a list does not offer, huge
numbers in filters, a title typed with a line break; one letter that cannot go does not stop
the others of a run; exported text never runs as a spreadsheet formula; an .xlsx that declares
or unpacks to an enormous size is refused before it is read."""

from __future__ import annotations

import csv
import datetime
import io
import logging
import time
import zipfile

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from accounts.import_messages import import_errors_text
from accounts.imports import import_check
from accounts.models import ImportBatch, ImportKind, ImportStatus, User
from governance.committee.notifications import remind_non_voters
from governance.committee.proposals import proposal_create, proposal_open
from governance.kpis.dashboards.tables import Cell, Table
from governance.kpis.exports import _table_csv
from governance.mail import mail_deliver_due
from governance.models import CommitteeMember, OutgoingMail, Proposal
from skam.api import router
from tests.factories import ClientFactory, CommitteeMemberFactory

pytestmark = pytest.mark.django_db
# Every API list, the register's clients (whose filter set has its own ``ordering`` choices,
# django-filter's) included.
LISTS = sorted(f"/api/{prefix}/" for prefix, _viewset, _basename in router.registry)


@pytest.mark.parametrize("path", LISTS)
def test_ordering_by_a_field_a_list_does_not_offer_is_a_400(client_as, chair, path) -> None:
    answer = client_as(chair).get(path, {"ordering": "-no_such_field"})
    assert answer.status_code == 400
    [said] = answer.json()["ordering"]
    assert said.startswith("Cannot order by -no_such_field; this list orders by ")


def test_the_register_names_the_orders_it_offers_in_the_reader_s_language(client_as, chair):
    http = client_as(chair)
    offered = "industry, name, owner_kam, region, registration_number, segment, updated_at"
    english = http.get("/api/clients/", {"ordering": "turnover"})
    assert english.status_code == 400
    assert english.json() == {
        "ordering": [f"Cannot order by turnover; this list orders by {offered}."]
    }
    russian = http.get("/api/clients/", {"ordering": "name,-turnover"}, HTTP_ACCEPT_LANGUAGE="ru")
    assert russian.status_code == 400
    assert russian.json() == {
        "ordering": [f"Нельзя упорядочить по -turnover; этот список упорядочивается по {offered}."]
    }
    assert http.get("/api/clients/", {"ordering": "-owner_kam,name"}).status_code == 200


@pytest.mark.parametrize("path", LISTS)
def test_every_order_a_list_offers_orders_it(client_as, chair, path) -> None:
    """The orders a list names (and its schema offers) all work, each way: none is a column
    the database cannot sort by."""
    http = client_as(chair)
    offered = http.get(path, {"ordering": "-no_such_field"}).json()["ordering"][0]
    names = offered.split("orders by ")[1].rstrip(".").split(", ")
    assert http.get(path, {"ordering": ",".join(names)}).status_code == 200
    assert http.get(path, {"ordering": ",".join(f"-{n}" for n in names)}).status_code == 200


def test_ordering_by_a_field_a_list_offers_still_orders(client_as, chair, account_of_kam):
    http = client_as(chair)
    assert http.get("/api/needs/", {"ordering": "-weight"}).status_code == 200
    assert http.get("/api/clients/", {"ordering": "-name"}).status_code == 200
    answer = http.get("/api/figures/", {"ordering": "password"})
    assert answer.status_code == 400
    assert "period" in answer.json()["ordering"][0]  # it names what it does order by


@pytest.mark.parametrize("path", ["/api/needs/", "/api/figures/", "/api/proposals/"])
@pytest.mark.parametrize("value", [str(10**20), str(-(10**20)), "1e400"])
def test_a_huge_number_in_a_filter_is_a_400(client_as, chair, path, value) -> None:
    answer = client_as(chair).get(path, {"client": value})
    assert answer.status_code == 400
    assert "client" in answer.json()


@pytest.mark.parametrize("title", ["Key for Volga\nand its plants", "Key\rVolga", "Key\u2028Volga"])
def test_a_proposal_title_with_a_line_break_is_refused_on_the_form(
    client_as, chair, account_of_kam, title
) -> None:
    answer = client_as(chair).post(
        "/committee/proposals/new/",
        {"type": "grant_key", "client": account_of_kam.pk, "title": title, "rationale": "Why"},
    )
    assert answer.status_code == 200
    assert "Keep this on one line" in answer.content.decode()


@pytest.mark.parametrize("title", ["Key for Volga\nand its plants", "Key\rVolga", "Key\u2028Volga"])
def test_the_proposal_service_refuses_a_title_with_a_line_break(chair, account_of_kam, title):
    """The rule is the service's, so a path that skips the form (a command, the admin, a
    future API) cannot store it either."""
    with pytest.raises(ValidationError) as refusal:
        proposal_create(
            type="grant_key", title=title, rationale="Why", by=chair, client=account_of_kam
        )
    assert refusal.value.message_dict["title"] == ["Keep this on one line: remove the line break."]
    assert not Proposal.objects.exists()


def test_one_letter_that_cannot_go_does_not_stop_the_others(caplog, mailoutbox) -> None:
    addresses = ["one@example.com", "two@example.com\nBcc: all@example.com", "three@example.com"]
    for number, address in enumerate(addresses):
        OutgoingMail.objects.create(key=f"test:{number}", to=address, subject="Hi", body="text")
    with caplog.at_level(logging.WARNING, logger="governance.mail"):
        assert mail_deliver_due() == 2
    assert sorted(letter.to[0] for letter in mailoutbox) == ["one@example.com", "three@example.com"]
    assert "two@example.com" in caplog.text


def test_a_reminder_run_reaches_everyone_it_can(chair, member, mailoutbox) -> None:
    CommitteeMemberFactory(user=chair, is_chair=True)
    CommitteeMemberFactory(user=member)
    broken = CommitteeMemberFactory(user__email="broken@example.com\nBcc: all@example.com")
    assert CommitteeMember.objects.count() == 3
    for name in ("Volga", "Ural"):
        proposal_open(
            proposal=proposal_create(
                type="grant_key",
                title=f"Key for {name}",
                rationale="Why",
                by=chair,
                client=ClientFactory(name=name),
            ),
            deadline=timezone.now() + datetime.timedelta(hours=5),
        )
    mail_deliver_due()
    mailoutbox.clear()
    remind_non_voters()
    mail_deliver_due()  # the worker sends what the run queued
    reached = sorted(address for letter in mailoutbox for address in letter.to)
    assert reached == sorted([chair.email, chair.email, member.email, member.email])
    assert broken.user.email not in reached


FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def _exported_cells(answer, fmt: str) -> list[object]:
    if fmt == "csv":  # one CSV, or a ZIP of one CSV per table
        if answer["Content-Type"] == "application/zip":
            archive = zipfile.ZipFile(io.BytesIO(answer.content))
            texts = [archive.read(name).decode("utf-8-sig") for name in archive.namelist()]
        else:
            texts = [answer.content.decode("utf-8-sig")]
        return [cell for text in texts for row in csv.reader(io.StringIO(text)) for cell in row]
    workbook = openpyxl.load_workbook(io.BytesIO(answer.content))
    cells = [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]
    assert not [cell.value for cell in cells if cell.data_type == "f"]  # no formula at all
    return [cell.value for cell in cells]


# The XLSX names the client on each sheet; the CSV is now one file per table with no title row,
# so its free text is proven cell by cell below.
@pytest.mark.parametrize("fmt", ["xlsx"])
@pytest.mark.parametrize("name", FORMULAS)
def test_exports_write_formula_like_text_as_text(client_as, director, kam, fmt, name) -> None:
    client = ClientFactory(name=name, owner_kam=kam)
    answer = client_as(director).get(f"/committee/dashboards/account/{client.pk}/", {"format": fmt})
    assert answer.status_code == 200
    texts = [cell for cell in _exported_cells(answer, fmt) if isinstance(cell, str)]
    # (XML reads a stored CR back as LF.)
    assert {"'" + name, "'" + name.replace("\r", "\n")} & set(texts)
    assert not [text for text in texts if text and text[0] in "=+-@\t\r"]


@pytest.mark.parametrize("decimal_mark", [".", ","])
@pytest.mark.parametrize("name", FORMULAS)
def test_a_csv_table_writes_formula_like_text_as_text(name, decimal_mark) -> None:
    table = Table(key="clients", title=name, columns=[name], rows=[[Cell(value=name, text=name)]])
    text = _table_csv(table, decimal_mark).removeprefix("\ufeff")
    delimiter = ";" if decimal_mark == "," else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    assert rows == [["'" + name], ["'" + name]]


def _workbook(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _with_sheet(content: bytes, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = change(data)
            target.writestr(item, data)
    return buffer.getvalue()


def _report_text(batch: ImportBatch) -> str:
    """The batch's errors as an English reader reads them."""
    with translation.override("en"):
        return " ".join(text for row in batch.rows.all() for text in import_errors_text(row.errors))


def test_an_xlsx_declaring_200_million_cells_is_refused_before_it_is_read(administrator) -> None:
    small = _workbook([["Registration number", "Name"], ["7701234567", "Volga"]])
    bomb = _with_sheet(small, lambda xml: xml.replace(b'ref="A1:B2"', b'ref="A1:XFD200000"'))
    assert len(bomb) < 10_000
    started = time.process_time()
    batch = import_check(
        kind=ImportKind.CLIENTS, filename="c.xlsx", content=bomb, user=administrator
    )
    assert time.process_time() - started < 2
    assert batch.status == ImportStatus.REJECTED
    assert "declares more than 1,000,000 cells" in _report_text(batch)


def test_an_xlsx_unpacking_past_the_limit_is_refused(administrator: User, settings) -> None:
    settings.SKAM_IMPORT_MAX_UNPACKED_BYTES = 1024 * 1024
    small = _workbook([["Registration number", "Name"], ["7701234567", "Volga"]])
    padded = _with_sheet(
        small, lambda xml: xml.replace(b"<sheetData>", b" " * 2_000_000 + b"<sheetData>")
    )
    assert len(padded) < 50_000
    batch = import_check(
        kind=ImportKind.CLIENTS, filename="c.xlsx", content=padded, user=administrator
    )
    assert batch.status == ImportStatus.REJECTED
    assert "unpacks to more than 1 MB" in _report_text(batch)


def test_an_ordinary_xlsx_is_still_read(administrator: User, kam: User) -> None:
    content = _workbook([["Registration number", "Name"], ["7707083893", "Volga"]])
    batch = import_check(
        kind=ImportKind.CLIENTS, filename="c.xlsx", content=content, user=administrator
    )
    assert batch.status == ImportStatus.CHECKED, _report_text(batch)
