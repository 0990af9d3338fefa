"""A KAM sees the accounts they work on as a team member, whichever way the team was written:
a form or the ORM, bulk writes as imports make them, SQL; and stops seeing them once taken off
the team. On PostgreSQL the database keeps each client's team on the client (``team_ids``,
migration ``accounts/0015``) for the register's visibility; a write of the client from a copy
read before the team changed must not bring the old team back, and the record, which holds the
team's own rows, gains no entry for the client's copy."""

from __future__ import annotations

import pytest
from django.db import connection

from accounts.models import AccountTeamMember, Client, TeamRole
from accounts.roles import Role
from governance.models import RecordEntry
from governance.record.verify import record_verify
from tests.factories import ClientFactory, TeamMemberFactory, UserFactory

pytestmark = pytest.mark.django_db


def names_seen(http) -> list[str]:
    response = http.get("/api/clients/")
    assert response.status_code == 200
    return sorted(row["name"] for row in response.json()["results"])


def page_lists(http, name: str) -> bool:
    response = http.get("/clients/")
    assert response.status_code == 200
    return name in response.content.decode()


@pytest.fixture
def other_kam():
    return UserFactory(username="other", last_name="Other", role=Role.KAM)


def test_a_kam_sees_an_account_from_joining_its_team_until_leaving_it(
    client_as, kam, other_kam
) -> None:
    theirs = ClientFactory(name="Theirs", owner_kam=other_kam)
    ClientFactory(name="Mine", owner_kam=kam)
    http = client_as(kam)
    assert names_seen(http) == ["Mine"]

    member = TeamMemberFactory(client=theirs, user=kam, role=TeamRole.TECHNICAL)
    assert names_seen(http) == ["Mine", "Theirs"]
    assert page_lists(http, "Theirs")
    assert http.get(f"/clients/{theirs.pk}/").status_code == 200

    member.delete()
    assert names_seen(http) == ["Mine"]
    assert not page_lists(http, "Theirs")
    assert http.get(f"/clients/{theirs.pk}/").status_code == 404


def test_bulk_and_sql_writes_of_the_team_are_seen(client_as, kam, other_kam) -> None:
    first = ClientFactory(name="First", owner_kam=other_kam)
    second = ClientFactory(name="Second", owner_kam=other_kam)
    third = ClientFactory(name="Third", owner_kam=other_kam)
    http = client_as(kam)

    # As an import writes: in bulk, then moved in bulk to another account.
    AccountTeamMember.objects.bulk_create(
        [AccountTeamMember(client=first, user=kam, role=TeamRole.SERVICE)]
    )
    assert names_seen(http) == ["First"]
    AccountTeamMember.objects.filter(client=first, user=kam).update(client=second)
    assert names_seen(http) == ["Second"]

    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {AccountTeamMember._meta.db_table} (client_id, user_id, role) "
            "VALUES (%s, %s, %s)",
            [third.pk, kam.pk, TeamRole.TECHNICAL],
        )
    assert names_seen(http) == ["Second", "Third"]
    AccountTeamMember.objects.filter(user=kam).delete()
    assert names_seen(http) == []


def test_saving_a_client_read_before_the_team_changed_keeps_the_new_team(
    client_as, kam, other_kam
) -> None:
    theirs = ClientFactory(name="Theirs", owner_kam=other_kam)
    stale = Client.objects.get(pk=theirs.pk)
    TeamMemberFactory(client=theirs, user=kam, role=TeamRole.TECHNICAL)

    stale.notes = "Edited from a page opened before the KAM joined the team."
    stale.save()

    assert names_seen(client_as(kam)) == ["Theirs"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the record is PostgreSQL's")
def test_the_team_kept_on_the_client_adds_nothing_to_the_record(kam, other_kam) -> None:
    theirs = ClientFactory(name="Theirs", owner_kam=other_kam)
    client_entries = RecordEntry.objects.filter(
        table_name=Client._meta.db_table, row_pk=str(theirs.pk)
    )
    before = client_entries.count()

    member = TeamMemberFactory(client=theirs, user=kam, role=TeamRole.TECHNICAL)
    member_pk = member.pk
    member.delete()

    assert client_entries.count() == before
    team_entries = RecordEntry.objects.filter(table_name=AccountTeamMember._meta.db_table)
    assert team_entries.filter(row_pk=str(member_pk)).count() == 2  # joined, then left
    assert record_verify().broken is None
