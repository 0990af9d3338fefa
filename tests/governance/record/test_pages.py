"""The record's page, export and API: the committee reads them; nobody else does."""

from __future__ import annotations

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from accounts.models import User
from governance.models import Budget, Proposal, RecordEntry
from governance.record.context import Origin, recording_as
from governance.record.governed import governed_tables
from governance.record.said import _column_label
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
    # The person picks a day on the company's calendar, not UTC's (after 21:00 in Moscow).
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


def test_every_column_the_record_shows_is_named_in_russian() -> None:
    """A column is said by its field's name, or, for a relation nobody named, by what it
    points to; never by the English name Django makes up from the field's ("created at").
    An abbreviation both languages write alike ("KPI", "URL") is its own name."""
    unnamed = {}
    with translation.override("ru"):
        for table in governed_tables():
            for field in table.model._meta.concrete_fields:
                if field.primary_key:
                    continue
                label = _column_label(field)
                if not re.search("[а-яё]", label, re.IGNORECASE) and not label.isupper():
                    unnamed[f"{table.table}.{field.column}"] = label
    assert unnamed == {}


def test_moments_days_numbers_and_stored_structures_read_as_the_reader_writes_them(
    client_as, chair: User, member: User
) -> None:
    """In Russian, a moment as «06.12.2026 09:46» in the company's time zone, a day as
    «01.10.2026» and a decimal with a comma, never as the triggers stored them
    ("2026-12-06T06:46:54.21+00:00", "2026-10-01", 300000.5); a structure stored as JSON
    is shown as code, as stored, never as Python writes a dict; a digest by its first twelve
    characters, whole in its tooltip."""
    client = ClientFactory()
    budget = Budget.objects.create(
        client=client, period=datetime.date(2026, 10, 1), allocated=Decimal("300000.50")
    )
    proposal = ProposalFactory(proposed_by=member, client=client)
    Proposal.objects.filter(pk=proposal.pk).update(
        evidence={"coverage": "0.52"}, version_digest="ab" * 32
    )
    http = client_as(chair)
    http.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"

    def entries(table: str, row: int) -> str:
        page = http.get(URL, {"table": table, "row": str(row)}).text
        return page.split('data-testid="record"')[1]

    said = entries("governance_budget", budget.pk)
    assert "<ins>01.10.2026</ins>" in said
    assert "<ins>300000,5</ins>" in said
    said = entries("governance_proposal", proposal.pk)
    created = timezone.localtime(Proposal.objects.get(pk=proposal.pk).created_at)
    assert f"<ins>{created:%d.%m.%Y %H:%M}</ins>" in said
    assert "<ins><code>{&quot;coverage&quot;: &quot;0.52&quot;}</code></ins>" in said
    assert f'<ins><code title="{"ab" * 32}">{"ab" * 6}…</code></ins>' in said
    assert "{&#x27;" not in said  # no Python dict
