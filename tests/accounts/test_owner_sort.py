"""Sorting the register by owner KAM: by the owner's last name, whichever way the owner was set
and after a KAM changes their name, for the committee (an index of the name each client keeps)
and for a KAM (their own accounts) alike."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from accounts.models import Client, TeamRole
from accounts.roles import Role
from tests.factories import ClientFactory, TeamMemberFactory, UserFactory

pytestmark = pytest.mark.django_db


def listed(http, ordering: str) -> list[str]:
    response = http.get("/api/clients/", {"ordering": ordering})
    assert response.status_code == 200
    return [row["name"] for row in response.json()["results"]]


@pytest.fixture
def owners() -> dict[str, object]:
    return {
        "antonov": UserFactory(username="antonov", last_name="Antonov", role=Role.KAM),
        "zhukov": UserFactory(username="zhukov", last_name="Zhukov", role=Role.KAM),
    }


def test_the_committee_sees_clients_in_order_of_their_owners_last_name(
    client_as, chair, owners
) -> None:
    ClientFactory(name="Of Zhukov", owner_kam=owners["zhukov"])
    ClientFactory(name="Of Antonov", owner_kam=owners["antonov"])
    ClientFactory(name="Of nobody", owner_kam=None)
    http = client_as(chair)

    assert listed(http, "owner_kam") == ["Of Antonov", "Of Zhukov", "Of nobody"]
    assert listed(http, "-owner_kam") == ["Of nobody", "Of Zhukov", "Of Antonov"]


def test_the_order_follows_a_new_owner_and_a_kam_who_changes_their_name(
    client_as, chair, owners
) -> None:
    zhukovs = ClientFactory(name="First", owner_kam=owners["zhukov"])
    ClientFactory(name="Second", owner_kam=owners["antonov"])
    http = client_as(chair)
    assert listed(http, "owner_kam") == ["Second", "First"]

    # Handed over in bulk (as an import or an admin action writes), then renamed.
    Client.objects.filter(pk=zhukovs.pk).update(owner_kam=owners["antonov"])
    assert Client.objects.get(pk=zhukovs.pk).owner_kam_last_name == "Antonov"
    owners["zhukov"].last_name = "Abramov"
    owners["zhukov"].save()
    ClientFactory(name="Third", owner_kam=owners["zhukov"])

    assert listed(http, "owner_kam") == ["Third", "First", "Second"]
    owners["antonov"].last_name = "Yakovlev"
    owners["antonov"].save()
    assert listed(http, "owner_kam") == ["Third", "First", "Second"]
    assert listed(http, "-owner_kam") == ["Second", "First", "Third"]
    assert set(Client.objects.values_list("owner_kam_last_name", flat=True)) == {
        "Abramov",
        "Yakovlev",
    }


def test_a_kam_sees_their_own_accounts_in_the_same_order(client_as, owners) -> None:
    kam = owners["antonov"]
    ClientFactory(name="Mine", owner_kam=kam)
    on_team = ClientFactory(name="Zhukov's, on my team", owner_kam=owners["zhukov"])
    TeamMemberFactory(client=on_team, user=kam, role=TeamRole.TECHNICAL)
    ClientFactory(name="Not mine", owner_kam=owners["zhukov"])

    assert listed(client_as(kam), "-owner_kam") == ["Zhukov's, on my team", "Mine"]


def page_ids(http, ordering: str) -> list[int]:
    """Every client on every page of the register in this order, page after page."""
    ids, number = [], 1
    while True:
        response = http.get("/clients/", {"ordering": ordering, "page": number})
        assert response.status_code == 200
        ids += [int(pk) for pk in re.findall(r'<td><a href="/clients/(\d+)/">', response.text)]
        if f"page={number + 1}" not in response.text:
            return ids
        number += 1


def test_a_kams_pages_by_owner_hold_each_account_once_in_order(client_as, owners, settings):
    """A KAM's pages sorted by owner are read in parts (their own accounts, and their teams'),
    then merged: across pages, every account they see comes once, in the owner's name's order,
    ties by id, the accounts with no owner where the database puts a missing name."""
    settings.SKAM_CLIENT_PAGE_SIZE = 3
    kam = UserFactory(username="petrov", last_name="Petrov", role=Role.KAM)
    namesake = UserFactory(username="petrov2", last_name="Petrov", role=Role.KAM)
    own = [ClientFactory(name=f"Own {number}", owner_kam=kam) for number in range(5)]
    TeamMemberFactory(client=own[0], user=kam, role=TeamRole.SERVICE)  # and in its team
    for owner in (owners["antonov"], owners["zhukov"], namesake, None, owners["zhukov"]):
        on_team = ClientFactory(name="On the team", owner_kam=owner)
        TeamMemberFactory(client=on_team, user=kam, role=TeamRole.TECHNICAL)
        ClientFactory(name="Not theirs", owner_kam=owner)
    seen = Client.objects.exclude(name="Not theirs")
    nulls_last = connection.vendor == "postgresql"  # PostgreSQL; SQLite puts NULL first

    def key(client: Client) -> tuple:
        name = client.owner_kam_last_name
        return ((name is None) == nulls_last, name or "", client.pk)

    ascending = [client.pk for client in sorted(seen, key=key)]
    http = client_as(kam)

    assert page_ids(http, "owner_kam") == ascending
    assert page_ids(http, "-owner_kam") == ascending[::-1]
