"""The record's page, export and API: the committee reads them; nobody else does."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from accounts.models import Client, Segment, User
from governance.models import RecordEntry
from governance.record.context import Origin, recording_as
from tests.factories import ClientFactory, ProposalFactory
from tests.queries import SIGN_IN_QUERIES

pytestmark = pytest.mark.django_db
URL = "/committee/record/"


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("chair", 200),
        ("member", 200),
        ("kam", 403),
        ("kam2", 403),
        ("director", 403),
        ("administrator", 403),
        ("outsider", 403),
    ],
)
def test_only_the_committee_reads_the_record(cast, client_as, role: str, status: int) -> None:
    http = client_as(cast[role])
    assert http.get(URL).status_code == status
    assert http.get(URL, {"export": "csv"}).status_code == status
    assert http.get("/api/record/").status_code == status


def test_signed_out_is_sent_to_sign_in() -> None:
    response = HttpClient().get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_page_shows_who_changed_what_before_and_after(client_as, chair: User, kam: User):
    client = ClientFactory(name="Volga Steel", owner_kam=kam)
    client.name = "Volga Steel Works"
    client.save()
    page = client_as(chair).get(URL, {"table": "accounts_client", "row": str(client.pk)})
    assert page.status_code == 200
    assert page.context["page"].paginator.count == 2
    assert "<del>Volga Steel</del> → <ins>Volga Steel Works</ins>" in page.text


def test_filters_by_person_and_date(client_as, chair: User, member: User) -> None:
    with recording_as(Origin(path="page", actor_id=member.pk)):
        client = ClientFactory()
    page = client_as(chair).get(URL, {"actor": member.pk})
    assert page.context["page"].paginator.count == 1
    first = RecordEntry.objects.filter(row_pk=str(client.pk)).earliest("pk")
    # The person picks a day on the company's calendar, not UTC's (they differ after 21:00 in
    # Moscow).
    day = timezone.localdate(first.at).isoformat()
    page = client_as(chair).get(URL, {"since": day, "until": day})
    assert page.context["page"].paginator.count >= 1
    page = client_as(chair).get(URL, {"until": "2000-01-01"})
    assert page.context["page"].paginator.count == 0


def test_the_page_costs_the_same_for_many_entries(
    client_as, chair: User, django_assert_num_queries
) -> None:
    http = client_as(chair)
    http.get(URL)
    for _ in range(30):
        ClientFactory()
    # Sign-in, the people of the person filter, the count, the page of entries (each with its
    # person, joined).
    with django_assert_num_queries(SIGN_IN_QUERIES + 3):
        http.get(URL)


def test_the_page_speaks_russian(client_as, chair: User) -> None:
    http = client_as(chair)
    http.post(reverse("set_language"), {"language": "ru", "next": "/"})
    ClientFactory()
    page = http.get(URL)
    assert "Журнал изменений" in page.text
    assert "Создано" in page.text


def test_the_csv_export_neutralises_formulas(client_as, chair: User, member: User) -> None:
    member.first_name, member.last_name = "=1+2", ""
    member.save()
    with recording_as(Origin(path="page", actor_id=member.pk)):
        ClientFactory(notes="@SUM(A1)")
    response = client_as(chair).get(URL, {"export": "csv", "actor": member.pk})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "Entry"
    assert len(rows) == 1 + RecordEntry.objects.filter(actor=member).count()
    cells = [cell for row in rows[1:] for cell in row]
    assert "'=1+2" in cells
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)


def test_the_xlsx_export_neutralises_formulas(client_as, chair: User) -> None:
    http = client_as(chair)
    chair.first_name = "=cmd|' /C calc'!A0"
    chair.last_name = ""
    chair.save()
    with recording_as(Origin(path="api", origin="+ formula", actor_id=chair.pk)):
        ClientFactory(notes="-2+3")
    response = http.get(URL, {"export": "xlsx", "actor": chair.pk})
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [cell.value for row in sheet.iter_rows(min_row=2) for cell in row]
    assert "'=cmd|' /C calc'!A0" in values
    assert not any(
        isinstance(value, str) and value.startswith(("=", "+", "-", "@")) for value in values
    )


def test_the_api_lists_entries_by_object(client_as, chair: User) -> None:
    client = ClientFactory()
    response = client_as(chair).get(
        "/api/record/", {"table": "accounts_client", "row": str(client.pk)}
    )
    assert response.status_code == 200
    (entry,) = response.json()["results"]
    assert (entry["operation"], entry["after"]["name"]) == ("I", client.name)
    assert len(entry["hash"]) == 64


def test_a_proposals_page_links_the_committee_to_its_history(client_as, chair: User) -> None:
    proposal = ProposalFactory(proposed_by=chair)
    link = f"{URL}?table=governance_proposal&amp;row={proposal.pk}"
    assert link in client_as(chair).get(proposal.get_absolute_url()).text


def test_the_page_names_tables_columns_and_choices_in_the_reader_s_language(
    client_as, chair: User
) -> None:
    """Not "accounts_client", "segment", "enterprise": what the rows are, the field's name and
    the choice's label, in Russian; the database's names stay at hand as tooltips."""
    http = client_as(chair)
    http.post(reverse("set_language"), {"language": "ru", "next": "/"})
    client = ClientFactory(name="Volga", segment=Segment.ENTERPRISE)
    page = http.get(URL, {"table": "accounts_client", "row": str(client.pk)}).text
    with translation.override("ru"):
        table = str(Client._meta.verbose_name_plural)
        segment = str(Client._meta.get_field("segment").verbose_name)
        enterprise = str(Segment.ENTERPRISE.label)
    assert all(re.search("[а-яё]", word, re.I) for word in (table, segment, enterprise))
    assert f'<span title="accounts_client">{table}</span>' in page
    assert f'<dt title="segment">{segment}</dt>' in page
    assert f"<ins>{enterprise}</ins>" in page
    assert "<ins>enterprise</ins>" not in page
    assert "<ins>нет</ins>" in page and "<ins>False</ins>" not in page  # is_key
