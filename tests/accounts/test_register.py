"""The client register: who sees which clients, the list page's search, filters, sorting and
pagination over htmx, the detail page and the edit forms."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Client, ClientNeed, FilterChoice, Segment, TeamRole
from accounts.pagination import RowCount, count_rows
from accounts.roles import Role
from accounts.selectors import clients_visible_to
from governance.committee.proposals import proposal_create
from tests.factories import (
    ClientFactory,
    FigureFactory,
    NeedFactory,
    TeamMemberFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_a_kam_sees_owned_and_team_accounts_only(kam, kam2, account_of_kam, account_of_kam2):
    shared = ClientFactory(owner_kam=kam2)
    TeamMemberFactory(client=shared, user=kam, role=TeamRole.KAM)

    assert set(clients_visible_to(kam)) == {account_of_kam, shared}
    assert set(clients_visible_to(kam2)) == {account_of_kam2, shared}


def test_committee_and_directors_see_every_client(chair, member, director, administrator):
    ClientFactory.create_batch(3)
    for user in (chair, member, director, administrator):
        assert clients_visible_to(user).count() == 3


def test_someone_without_a_role_sees_no_client(outsider):
    ClientFactory()
    assert not clients_visible_to(outsider).exists()


def test_list_searches_by_name_or_registration_number(client_as, chair):
    ClientFactory(name="Volga Steel Works JSC", registration_number="7701234567")
    ClientFactory(name="Ural Chemical Plant LLC", registration_number="6609876543")
    http = client_as(chair)

    by_name = http.get(reverse("accounts:client-list"), {"q": "volga"})
    by_number = http.get(reverse("accounts:client-list"), {"q": "66098"})

    assert "Volga Steel Works JSC" in by_name.text
    assert "Ural Chemical Plant LLC" not in by_name.text
    assert "Ural Chemical Plant LLC" in by_number.text
    assert "Volga Steel Works JSC" not in by_number.text


def test_search_treats_yo_and_ye_and_russian_and_latin_spellings_alike(client_as, chair):
    zvyozdny = ClientFactory(name="Звёздный завод АО")
    volga = ClientFactory(name="Volga Logistics LLC")
    ClientFactory(name="Ural Chemical Plant LLC")
    http = client_as(chair)

    def found(text: str) -> set[int]:
        return {row["id"] for row in http.get("/api/clients/", {"q": text}).json()["results"]}

    assert found("звездный") == {zvyozdny.pk}
    assert found("ЗВЁЗДН") == {zvyozdny.pk}
    assert found("zvezdnyi") == {zvyozdny.pk}
    assert found("волга") == {volga.pk}
    assert "Volga Logistics LLC" in http.get(reverse("accounts:client-list"), {"q": "Волга"}).text


def test_search_forgives_a_typo_and_puts_the_closest_match_first(client_as, chair):
    severstal = ClientFactory(name="Северсталь")
    ClientFactory(name="Kama Foods LLC")
    ClientFactory(name="Volga Steam Co")
    ClientFactory(name="Volga Steel")
    http = client_as(chair)

    def found(text: str) -> list[str]:
        return [row["name"] for row in http.get("/api/clients/", {"q": text}).json()["results"]]

    assert found("Северстль") == [severstal.name]
    # No name holds "volga steell": both come close, the closer first, though it sorts after
    # the other by name.
    assert found("volga steell") == ["Volga Steel", "Volga Steam Co"]
    # What holds the text typed is what is found, in the register's order.
    assert found("volga ste") == ["Volga Steam Co", "Volga Steel"]
    assert found("volga steel") == ["Volga Steel"]


def test_the_register_says_when_it_lists_the_closest_names(client_as, chair):
    ClientFactory(name="Volga Steel")
    http = client_as(chair)
    url = reverse("accounts:client-list")

    typo = http.get(url, {"q": "volga steell"}).text
    assert "Volga Steel" in typo
    assert "No name or registration number holds “volga steell”" in typo
    holds = http.get(url, {"q": "volga"}).text
    assert "Volga Steel" in holds and "closest-names" not in holds
    nothing = http.get(url, {"q": "zzzz"}).text
    assert "closest-names" not in nothing
    assert "No clients match." in nothing

    http.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    typo = http.get(url, {"q": "volga steell"}).text
    assert "Ни наименование, ни ИНН не содержат «volga steell»" in typo


def test_a_search_pages_through_its_matches_closest_first_in_the_lists_queries(
    client_as, chair, settings
):
    settings.SKAM_CLIENT_PAGE_SIZE = 3
    works = [ClientFactory(name=f"Volga Steel Works {n}") for n in range(4)]
    exact = ClientFactory(name="Volga Steel")
    ClientFactory(name="Ural Chemical Plant")
    http = client_as(chair)
    url = reverse("accounts:client-list")

    def names(response: object) -> list[str]:
        results = response.text.split('id="client-results"')[1]
        everyone = [exact, *works]
        return sorted((c.name for c in everyone if f">{c.name}<" in results), key=results.index)

    http.get(url)
    with CaptureQueriesContext(connection) as listed:
        http.get(url)
    with CaptureQueriesContext(connection) as searched:
        first = http.get(url, {"q": "volga steell"})  # a typo: the closest names, ranked
    second = http.get(url, {"q": "volga steell", "page": 2})

    # One more than the list: whether any name holds the text (none: the closest are ranked).
    assert len(searched.captured_queries) <= len(listed.captured_queries) + 1
    assert "Page 1 of 2" in first.text
    assert names(first) == ["Volga Steel", "Volga Steel Works 0", "Volga Steel Works 1"]
    assert names(second) == ["Volga Steel Works 2", "Volga Steel Works 3"]
    assert "Ural Chemical Plant" not in first.text + second.text
    # What holds the text is paged in the register's order.
    holding = [http.get(url, {"q": "volga steel", "page": n}) for n in (1, 2)]
    assert names(holding[0]) == ["Volga Steel", "Volga Steel Works 0", "Volga Steel Works 1"]
    assert names(holding[1]) == ["Volga Steel Works 2", "Volga Steel Works 3"]


def register_ids(http, **query) -> list[list[int]]:
    """The ids on every page of the register for ``query``, page by page."""
    pages, number = [], 1
    while True:
        response = http.get(reverse("accounts:client-list"), {**query, "page": number})
        assert response.status_code == 200
        pages.append(
            [int(pk) for pk in re.findall(r'<td><a href="/clients/(\d+)/">', response.text)]
        )
        if f"page={number + 1}" not in response.text:
            return pages
        number += 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram search")
def test_a_search_with_few_matches_reads_them_once_and_pages_as_one_with_many(
    client_as, chair, settings, monkeypatch
):
    """A search holding few names reads them once, by id (``FEW_MATCHES``), and takes its
    count, pages and order from them; one holding more reads the index for each. Both list
    the same clients on the same pages, in the name's order or another."""
    settings.SKAM_CLIENT_PAGE_SIZE = 2
    holding = ("Volga Steel B", "Volga Steel A", "New Volga Steel", "Volga Steel Works")
    for name in (*holding, "Volga-Steel C", "Steel of Volga", "Kama"):
        ClientFactory(name=name)
    http = client_as(chair)
    few = {
        ordering: register_ids(http, q="volga steel", ordering=ordering)
        for ordering in ("name", "-updated_at")
    }
    with CaptureQueriesContext(connection) as read:
        http.get(reverse("accounts:client-list"), {"q": "volga steel"})
    assert sum("LIKE" in query["sql"] for query in read.captured_queries) == 1

    monkeypatch.setattr("accounts.search.FEW_MATCHES", 1)
    many = {
        ordering: register_ids(http, q="volga steel", ordering=ordering)
        for ordering in ("name", "-updated_at")
    }
    assert many == few
    listed = [Client.objects.get(pk=pk).name for page in few["name"] for pk in page]
    assert listed == sorted(holding)


def test_the_search_chooses_among_what_the_other_filters_kept(client_as, chair):
    """Another industry's client holding the text does not leave this industry's list
    empty: the closest names are looked for among the clients the filters kept."""
    ClientFactory(name="Volga Steel", industry="Metals")
    ClientFactory(name="Volga Stel", industry="Retail")
    http = client_as(chair)

    def found(**filters: str) -> list[str]:
        answer = http.get("/api/clients/", {"q": "volga steel", **filters}).json()
        return [row["name"] for row in answer["results"]]

    assert found() == ["Volga Steel"]
    assert found(industry="Retail") == ["Volga Stel"]
    page = http.get(reverse("accounts:client-list"), {"q": "volga steel", "industry": "Retail"})
    assert "Volga Stel" in page.text and "closest-names" in page.text


@pytest.mark.parametrize("text", ["ь", "ЪЬ"])
def test_a_search_for_what_no_name_can_hold_lists_nothing_not_everything(client_as, chair, text):
    ClientFactory(name="Volga Steel")
    http = client_as(chair)

    answer = http.get("/api/clients/", {"q": text})
    page = http.get(reverse("accounts:client-list"), {"q": text})

    assert answer.status_code == 200
    assert answer.json()["results"] == [] and answer.json()["count"] == 0
    assert "No clients match." in page.text


def test_nothing_to_count_is_zero_without_a_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert count_rows(Client.objects.none()) == RowCount(0, estimated=False)


def test_the_search_column_follows_bulk_writes(chair):
    Client.objects.bulk_create([Client(name="Ёлка", registration_number="1234567890")])
    Client.objects.filter(registration_number="1234567890").update(name="Ёжик Ltd")

    assert Client.objects.get(registration_number="1234567890").search_name == "ezhik ltd"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's")
def test_the_search_indexes_keep_a_short_pending_list():
    """A search reads a trigram index's list of entries not yet merged whole: at the server's
    4 MB, a search during an import of 100,000 clients took a second instead of 20 ms."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname IN "
            "('accounts_client_search_name_trgm', 'accounts_client_registration_number_trgm')"
        )
        options = dict(cursor.fetchall())
    assert options == {
        "accounts_client_search_name_trgm": ["gin_pending_list_limit=256"],
        "accounts_client_registration_number_trgm": ["gin_pending_list_limit=256"],
    }


def test_list_filters_and_sorts(client_as, chair):
    ClientFactory(name="Alpha", segment=Segment.ENTERPRISE, region="Kazan")
    ClientFactory(name="Beta", segment=Segment.ENTERPRISE, region="Moscow")
    ClientFactory(name="Gamma", segment=Segment.SMALL, region="Kazan")
    http = client_as(chair)

    page = http.get(
        reverse("accounts:client-list"), {"segment": "enterprise", "ordering": "-name"}
    ).text

    assert page.index("Beta") < page.index("Alpha")
    assert "Gamma" not in page.split("client-results")[1]


def test_the_filter_offers_the_industries_and_regions_the_clients_have(
    client_as, chair, administrator, kam, kam2
):
    mine = ClientFactory(owner_kam=kam, industry="Mining", region="Kazan")
    ClientFactory(owner_kam=kam2, industry="Telecom", region="Perm")
    ClientFactory(owner_kam=kam2, industry="Telecom", region="Perm")
    on_my_team = ClientFactory(owner_kam=kam2, industry="Agriculture", region="Omsk")
    TeamMemberFactory(client=on_my_team, user=kam)

    def offered(user: object) -> str:
        return client_as(user).get(reverse("accounts:client-list")).text

    assert '<option value="Mining">' in offered(chair)
    assert '<option value="Telecom">' in offered(chair)
    # A KAM is offered the values the company's clients have, as kept: not recomputed from
    # their own accounts on every request. Choosing one they have no account in lists none.
    assert offered(kam).count("<option value=") == offered(chair).count("<option value=")
    assert '<option value="Telecom">' in offered(kam)
    assert '<option value="Agriculture">' in offered(kam)  # an account whose team the KAM is on
    telecom = client_as(kam).get(reverse("accounts:client-list"), {"industry": "Telecom"})
    assert "No clients match." in telecom.text

    client_as(administrator).post(
        reverse("accounts:client-edit", args=[mine.pk]),
        {
            "name": mine.name,
            "registration_number": mine.registration_number,
            "segment": mine.segment,
            "industry": "Energy",
            "region": "Kazan",
            "team-TOTAL_FORMS": "0",
            "team-INITIAL_FORMS": "0",
        },
    )
    client_as(administrator).delete(f"/api/clients/{ClientFactory(region='Tver').pk}/")

    page = offered(chair)
    assert '<option value="Energy">' in page
    assert '<option value="Mining">' not in page  # no client has it any more
    assert '<option value="Tver">' not in page
    regions = FilterChoice.objects.filter(kind="region").values_list("value", flat=True)
    assert list(regions) == ["Kazan", "Omsk", "Perm"]


def test_the_filter_keeps_its_choices_once_the_api_schema_was_built(client_as, chair):
    ClientFactory(industry="Mining")
    http = client_as(chair)

    assert http.get("/api/schema/", {"format": "json"}).status_code == 200
    assert '<option value="Mining">' in http.get(reverse("accounts:client-list")).text


def test_htmx_request_gets_only_the_results_region(client_as, chair):
    ClientFactory(name="Alpha")
    response = client_as(chair).get(
        reverse("accounts:client-list"), {"q": "alp"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="client-results"')
    assert "<html" not in response.text
    assert "Alpha" in response.text


def test_list_paginates_with_a_fixed_number_of_queries(
    client_as, chair, django_assert_max_num_queries, settings
):
    settings.SKAM_CLIENT_PAGE_SIZE = 10
    http = client_as(chair)
    ClientFactory.create_batch(5, owner_kam=None)
    with django_assert_max_num_queries(12) as few:
        http.get(reverse("accounts:client-list"))
    ClientFactory.create_batch(40)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = http.get(reverse("accounts:client-list"), {"page": 2})
    assert "Page 2 of 5" in response.text


def test_detail_shows_needs_figures_and_team(client_as, kam, kam2, account_of_kam):
    NeedFactory(client=account_of_kam, name="24-hour delivery", weight=9)
    FigureFactory(client=account_of_kam)
    TeamMemberFactory(client=account_of_kam, user=kam2, role=TeamRole.TECHNICAL)

    page = client_as(kam).get(account_of_kam.get_absolute_url()).text

    assert "24-hour delivery" in page
    assert "2026 Q3" in page
    assert "Technical specialist" in page


def test_a_kam_cannot_open_another_kams_account(client_as, kam, account_of_kam2):
    assert client_as(kam).get(account_of_kam2.get_absolute_url()).status_code == 404


def test_administrator_creates_a_client_with_a_team(client_as, administrator, kam, kam2):
    response = client_as(administrator).post(
        reverse("accounts:client-create"),
        {
            "name": "Kama Foods LLC",
            "registration_number": "1650000001",
            "segment": "enterprise",
            "industry": "Food processing",
            "region": "Kazan",
            "owner_kam": kam.pk,
            "notes": "",
            "team-TOTAL_FORMS": "1",
            "team-INITIAL_FORMS": "0",
            "team-0-user": kam2.pk,
            "team-0-role": "kam",
        },
    )
    client = Client.objects.get(registration_number="1650000001")
    assert response.status_code == 302
    assert client.owner_kam == kam
    assert list(client.team_members.values_list("user__username", flat=True)) == ["kam2"]


def test_client_form_rejects_a_duplicate_registration_number_and_keeps_the_input(
    client_as, administrator
):
    ClientFactory(registration_number="1650000001")
    response = client_as(administrator).post(
        reverse("accounts:client-create"),
        {
            "name": "Kama Foods LLC",
            "registration_number": "1650000001",
            "segment": "enterprise",
            "team-TOTAL_FORMS": "0",
            "team-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "Client with this Registration number already exists." in response.text
    assert 'value="Kama Foods LLC"' in response.text


def test_key_status_cannot_be_set_through_the_form(client_as, administrator, account_of_kam):
    client_as(administrator).post(
        reverse("accounts:client-edit", args=[account_of_kam.pk]),
        {
            "name": account_of_kam.name,
            "registration_number": account_of_kam.registration_number,
            "segment": "enterprise",
            "is_key": "on",
            "team-TOTAL_FORMS": "0",
            "team-INITIAL_FORMS": "0",
        },
    )
    account_of_kam.refresh_from_db()
    assert account_of_kam.segment == "enterprise"
    assert account_of_kam.is_key is False


def test_kam_edits_the_needs_of_own_account(client_as, kam, account_of_kam):
    need = NeedFactory(client=account_of_kam, name="Deferred payment", weight=3)
    response = client_as(kam).post(
        reverse("accounts:client-needs", args=[account_of_kam.pk]),
        {
            "needs-TOTAL_FORMS": "2",
            "needs-INITIAL_FORMS": "1",
            "needs-0-id": need.pk,
            "needs-0-name": "Deferred payment",
            "needs-0-weight": "7",
            "needs-1-name": "On-site engineer",
            "needs-1-weight": "4",
        },
    )
    assert response.status_code == 302
    assert dict(account_of_kam.needs.values_list("name", "weight")) == {
        "Deferred payment": 7,
        "On-site engineer": 4,
    }


def test_need_weight_above_ten_is_refused_with_a_message(client_as, kam, account_of_kam):
    response = client_as(kam).post(
        reverse("accounts:client-needs", args=[account_of_kam.pk]),
        {
            "needs-TOTAL_FORMS": "1",
            "needs-INITIAL_FORMS": "0",
            "needs-0-name": "Lowest price",
            "needs-0-weight": "11",
        },
    )
    assert response.status_code == 200
    assert "Ensure this value is less than or equal to 10." in response.text
    assert not ClientNeed.objects.exists()


@pytest.mark.django_db
def test_a_client_with_a_history_is_not_deleted_and_the_api_says_why(
    client_as, administrator, chair, kam
):
    client = ClientFactory(owner_kam=kam)
    FigureFactory(client=client)
    proposal_create(type="grant_key", title="Key", rationale="Why", by=chair, client=client)

    answer = client_as(administrator).delete(f"/api/clients/{client.pk}/")

    assert answer.status_code == 409
    assert "cannot be deleted" in answer.json()["detail"]
    assert "proposals" in answer.json()["detail"]
    assert Client.objects.filter(pk=client.pk).exists()
    assert client.figures.exists()  # the delete rolled back whole


# --- Formsets save in a fixed number of queries ----------------------------------------------


def _saved_in(http, url: str, data: dict[str, object]) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = http.post(url, data)
    assert response.status_code == 302, response.text
    return len(queries)


def _needs_data(client: Client, added: int) -> dict[str, object]:
    """Every need's weight changed, the first one deleted, ``added`` new ones."""
    needs = list(client.needs.order_by("pk"))
    data: dict[str, object] = {
        "needs-TOTAL_FORMS": len(needs) + added,
        "needs-INITIAL_FORMS": len(needs),
    }
    for index, need in enumerate(needs):
        data |= {
            f"needs-{index}-id": need.pk,
            f"needs-{index}-name": need.name,
            f"needs-{index}-weight": (need.weight + 1) % 11,
        }
    data["needs-0-DELETE"] = "on"
    for index in range(len(needs), len(needs) + added):
        data |= {f"needs-{index}-name": f"New need {index}", f"needs-{index}-weight": 3}
    return data


def test_the_needs_formset_saves_in_a_fixed_number_of_queries(client_as, kam):
    few, many = ClientFactory(owner_kam=kam), ClientFactory(owner_kam=kam)
    NeedFactory.create_batch(2, client=few)
    NeedFactory.create_batch(15, client=many)
    http = client_as(kam)

    def url(client: Client) -> str:
        return reverse("accounts:client-needs", args=[client.pk])

    assert _saved_in(http, url(few), _needs_data(few, 1)) == _saved_in(
        http, url(many), _needs_data(many, 6)
    )
    assert many.needs.count() == 15 - 1 + 6
    assert set(many.needs.values_list("weight", flat=True)) == {3, 6}


def _figures_data(client: Client, added: list[str]) -> dict[str, object]:
    figures = list(client.figures.order_by("-period"))
    data: dict[str, object] = {
        "figures-TOTAL_FORMS": len(figures) + len(added),
        "figures-INITIAL_FORMS": len(figures),
    }
    for index, figure in enumerate(figures):
        data |= {
            f"figures-{index}-id": figure.pk,
            f"figures-{index}-period": figure.period.isoformat(),
            f"figures-{index}-revenue": "2000000",
            f"figures-{index}-gross_margin": "300000",
            f"figures-{index}-potential_revenue": "5000000",
        }
    data["figures-0-DELETE"] = "on"
    for index, period in enumerate(added, start=len(figures)):
        data |= {
            f"figures-{index}-period": period,
            f"figures-{index}-revenue": "1",
            f"figures-{index}-gross_margin": "1",
            f"figures-{index}-potential_revenue": "1",
        }
    return data


def test_the_figures_formset_saves_in_a_fixed_number_of_queries(client_as, administrator):
    few, many = ClientFactory(), ClientFactory()
    quarters = [f"{year}-{month:02d}-01" for year in (2023, 2024, 2025) for month in (1, 4, 7, 10)]
    for period in quarters[:2]:
        FigureFactory(client=few, period=period)
    for period in quarters[:8]:
        FigureFactory(client=many, period=period)
    http = client_as(administrator)

    def url(client: Client) -> str:
        return reverse("accounts:client-figures", args=[client.pk])

    assert _saved_in(http, url(few), _figures_data(few, quarters[8:9])) == _saved_in(
        http, url(many), _figures_data(many, quarters[8:])
    )
    assert many.figures.count() == 8 - 1 + 4
    assert set(many.figures.values_list("revenue", flat=True)) == {Decimal(1), Decimal(2000000)}


def test_the_team_formset_saves_in_a_fixed_number_of_queries(client_as, administrator, kam):
    people = UserFactory.create_batch(8, role=Role.KAM)

    def saved(client: Client, members: int, added: int) -> int:
        for person in people[:members]:
            TeamMemberFactory(client=client, user=person, role=TeamRole.KAM)
        team = list(client.team_members.order_by("pk"))
        data: dict[str, object] = {
            "name": client.name,
            "registration_number": client.registration_number,
            "segment": client.segment,
            "industry": client.industry,
            "region": client.region,
            "owner_kam": kam.pk,
            "team-TOTAL_FORMS": len(team) + added,
            "team-INITIAL_FORMS": len(team),
            "team-0-DELETE": "on",
        }
        for index, member in enumerate(team):
            data |= {
                f"team-{index}-id": member.pk,
                f"team-{index}-user": member.user_id,
                f"team-{index}-role": TeamRole.TECHNICAL,
            }
        for index, person in enumerate(people[members : members + added], start=len(team)):
            data |= {f"team-{index}-user": person.pk, f"team-{index}-role": TeamRole.SERVICE}
        url = reverse("accounts:client-edit", args=[client.pk])
        return _saved_in(client_as(administrator), url, data)

    few, many = ClientFactory(), ClientFactory()
    assert saved(few, 2, 1) == saved(many, 5, 3)
    assert many.team_members.count() == 5 - 1 + 3
