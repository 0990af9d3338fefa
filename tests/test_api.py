"""The REST API: who sees which clients, needs and figures; token authentication; pagination and
filters; the rules on writes (a KAM keeps their own accounts' needs, the administrator keeps
clients and figures, nobody sets key status); the OpenAPI schema and its offline docs; and list
endpoints whose query count does not grow with the number of rows."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from drf_spectacular.validation import validate_schema
from knox.crypto import hash_token
from knox.models import AuthToken

from accounts import pagination
from accounts.api import ClientViewSet
from accounts.models import Client, ClientFigure, ClientNeed, Segment, TeamRole, User
from tests.factories import (
    PASSWORD,
    ClientFactory,
    FigureFactory,
    NeedFactory,
    TeamMemberFactory,
)
from tests.queries import SIGN_IN_QUERIES

pytestmark = pytest.mark.django_db


def ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


def post(http: HttpClient, path: str, data: dict[str, object]):
    return http.post(path, data, content_type="application/json")


def patch(http: HttpClient, path: str, data: dict[str, object]):
    return http.patch(path, data, content_type="application/json")


# --- Who sees what -------------------------------------------------------------------------


def test_a_kam_lists_exactly_own_and_team_accounts(
    client_as, kam, kam2, account_of_kam, account_of_kam2, shared_account
):
    ClientFactory(name="Nobody's Client LLC", owner_kam=None)

    as_kam = client_as(kam).get("/api/clients/").json()
    as_kam2 = client_as(kam2).get("/api/clients/").json()

    assert as_kam["count"] == 2
    assert {row["id"] for row in as_kam["results"]} == {account_of_kam.pk, shared_account.pk}
    assert as_kam2["count"] == 2
    assert {row["id"] for row in as_kam2["results"]} == {account_of_kam2.pk, shared_account.pk}


@pytest.mark.parametrize("role", ["chair", "member", "director", "administrator"])
def test_committee_directors_and_administrator_list_every_client(
    client_as, cast, role, account_of_kam, account_of_kam2, shared_account
):
    ClientFactory(owner_kam=None)
    assert client_as(cast[role]).get("/api/clients/").json()["count"] == 4


def test_someone_without_a_role_gets_nothing(client_as, outsider, account_of_kam):
    NeedFactory(client=account_of_kam)
    FigureFactory(client=account_of_kam)
    http = client_as(outsider)

    for path in ("/api/clients/", "/api/needs/", "/api/figures/"):
        response = http.get(path)
        assert response.status_code == 403
        assert "results" not in response.json()


def test_a_kam_lists_needs_and_figures_of_own_and_team_accounts_only(
    client_as, kam, account_of_kam, account_of_kam2, shared_account
):
    own = NeedFactory(client=account_of_kam)
    team = NeedFactory(client=shared_account)
    NeedFactory(client=account_of_kam2)
    own_figure = FigureFactory(client=account_of_kam)
    team_figure = FigureFactory(client=shared_account)
    FigureFactory(client=account_of_kam2)
    http = client_as(kam)

    assert ids(http.get("/api/needs/")) == {own.pk, team.pk}
    assert ids(http.get("/api/figures/")) == {own_figure.pk, team_figure.pk}


def test_another_kams_client_is_a_404_just_like_a_missing_one(client_as, kam, account_of_kam2):
    http = client_as(kam)
    need = NeedFactory(client=account_of_kam2)
    figure = FigureFactory(client=account_of_kam2)
    missing = account_of_kam2.pk + 1000

    other = http.get(f"/api/clients/{account_of_kam2.pk}/")
    absent = http.get(f"/api/clients/{missing}/")

    assert other.status_code == absent.status_code == 404
    assert other.json() == absent.json()
    assert http.get(f"/api/needs/{need.pk}/").status_code == 404
    assert http.get(f"/api/figures/{figure.pk}/").status_code == 404


def test_a_kam_cannot_change_or_delete_another_kams_need(client_as, kam, account_of_kam2):
    need = NeedFactory(client=account_of_kam2, name="Deferred payment", weight=5)
    http = client_as(kam)

    assert patch(http, f"/api/needs/{need.pk}/", {"weight": 1}).status_code == 404
    assert http.delete(f"/api/needs/{need.pk}/").status_code == 404
    need.refresh_from_db()
    assert need.weight == 5


# --- Token authentication ------------------------------------------------------------------


def test_a_token_authenticates_api_calls(kam, account_of_kam, account_of_kam2):
    _token, key = AuthToken.objects.create(user=kam)

    response = HttpClient().get("/api/clients/", headers={"Authorization": f"Token {key}"})

    assert response.status_code == 200
    assert ids(response) == {account_of_kam.pk}


def test_a_wrong_token_is_refused(kam, account_of_kam):
    """401 with the scheme to use (was "401 or 403": without credentials DRF answered 403)."""
    AuthToken.objects.create(user=kam)
    response = HttpClient().get("/api/clients/", headers={"Authorization": "Token not-a-token"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert "results" not in response.json()


def test_a_token_is_obtained_with_username_and_password(kam, account_of_kam):
    anonymous = HttpClient()

    response = anonymous.post("/api/auth/token/", {"username": "kam", "password": PASSWORD})
    key = response.json()["token"]
    listing = anonymous.get("/api/clients/", headers={"Authorization": f"Token {key}"})

    assert response.status_code == 200
    assert response.json()["expiry"]
    # Kept as its digest only (the test used to read the key back from the table).
    assert AuthToken.objects.get(user=kam).digest == hash_token(key)
    assert not AuthToken.objects.filter(digest=key).exists()
    assert ids(listing) == {account_of_kam.pk}


def test_no_credentials_is_a_401_that_names_the_scheme(account_of_kam):
    """Signed out: 401 with ``WWW-Authenticate`` (DRF answers 403 when the first
    authentication class names no scheme), on a read and on a write alike."""
    anonymous = HttpClient()
    for response in (
        anonymous.get("/api/clients/"),
        anonymous.post("/api/needs/", {"client": account_of_kam.pk, "name": "x"}),
    ):
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"
    assert not ClientNeed.objects.exists()


def test_no_token_for_a_wrong_password(kam):
    response = HttpClient().post("/api/auth/token/", {"username": "kam", "password": "guess"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["detail"] == "Unable to log in with provided credentials."
    assert not AuthToken.objects.exists()


# --- Pagination and filters ----------------------------------------------------------------


def test_lists_are_paginated_by_fifty(client_as, chair):
    ClientFactory.create_batch(51)
    http = client_as(chair)

    first = http.get("/api/clients/").json()
    second = http.get(first["next"]).json()
    back = http.get(second["previous"]).json()

    assert first["count"] == 51
    assert first["count_is_estimate"] is False
    assert len(first["results"]) == 50
    assert first["previous"] is None
    assert "cursor=" in first["next"]  # the clients' list pages by cursor, not by number
    assert len(second["results"]) == 1
    assert second["next"] is None
    assert second["previous"] is not None
    assert back["results"] == first["results"]


def walk_pages(http: HttpClient, url: str, *, size: int = 2) -> list[int]:
    """The ids of every page of an API list, following its cursors, ``size`` rows a page."""
    paging = ClientViewSet.pagination_class
    paging.page_size, seen = size, []
    try:
        while url:
            page = http.get(url).json()
            seen += [row["id"] for row in page["results"]]
            url = page["next"]
    finally:
        paging.page_size = 50
    return seen


@pytest.mark.parametrize(
    "ordering", ["name", "-name", "segment", "-segment", "owner_kam", "-owner_kam", "-updated_at"]
)
def test_cursor_pages_walk_every_ordering_without_repeating_or_skipping(
    client_as, chair, kam, kam2, ordering
):
    for index in range(7):
        ClientFactory(
            segment=("enterprise", "small")[index % 2], owner_kam=(kam, kam2, None)[index % 3]
        )
    http = client_as(chair)
    expected = [
        row["id"] for row in http.get("/api/clients/", {"ordering": ordering}).json()["results"]
    ]

    seen = walk_pages(http, "/api/clients/?ordering=" + ordering)

    assert seen == expected
    assert len(set(seen)) == 7


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # What holds the text, in the register's order.
        ("volga steel", ["Volga Steel", "Volga Steel Works 0", "Volga Steel Works 1"]),
        # Nothing holds the typo: the closest names, the closest first.
        ("volga steell", ["Volga Steel", "Volga Steel Works 0", "Volga Steel Works 1"]),
    ],
)
def test_a_search_pages_by_cursor_forward_and_back(client_as, chair, text, expected):
    for name in ("Volga Steel Works 1", "Volga Steel", "Volga Steel Works 0", "Kama Foods"):
        ClientFactory(name=name)
    paging = ClientViewSet.pagination_class
    http = client_as(chair)
    paging.page_size = 2
    try:
        first = http.get("/api/clients/", {"q": text}).json()
        second = http.get(first["next"]).json()
        back = http.get(second["previous"]).json()
    finally:
        paging.page_size = 50

    assert first["count"] == 3
    assert [row["name"] for row in first["results"] + second["results"]] == expected
    assert second["next"] is None
    assert back["results"] == first["results"]


@pytest.mark.parametrize("ordering", ["owner_kam", "-owner_kam", "-updated_at", "updated_at"])
def test_previous_links_walk_back_every_row_the_next_links_walked(
    client_as, chair, kam, kam2, ordering
):
    """Back from the last page by ``previous``, the same rows in the same order: clients with
    no owner (NULL) included, and times that differ by microseconds."""
    for index in range(7):
        ClientFactory(owner_kam=(kam, kam2, None)[index % 3])
    http = client_as(chair)
    paging = ClientViewSet.pagination_class
    paging.page_size, forward, back = 2, [], []
    try:
        url, last = f"/api/clients/?ordering={ordering}", None
        while url:
            last = http.get(url).json()
            forward += [row["id"] for row in last["results"]]
            url = last["next"]
        pages = [[row["id"] for row in last["results"]]]
        url = last["previous"]
        while url:
            page = http.get(url).json()
            pages.insert(0, [row["id"] for row in page["results"]])
            url = page["previous"]
        back = [pk for page in pages for pk in page]
    finally:
        paging.page_size = 50

    assert len(forward) == 7
    assert back == forward


def test_a_deep_cursor_page_starts_the_index_at_the_cursor(client_as, chair):
    """Ordered by name, the page after a cursor asks for ``name >= <the cursor's name>``, which
    the (name, id) index starts at, rather than reading every client before it; an ordering
    whose first column may be NULL (the owner KAM) cannot say so, and still pages right."""
    ClientFactory.create_batch(3)
    http = client_as(chair)
    cursor = http.get("/api/clients/", {"ordering": "name"}).json()["next"]
    assert cursor is None  # one page: make one
    paging = ClientViewSet.pagination_class
    paging.page_size = 1
    try:
        following = http.get("/api/clients/", {"ordering": "name"}).json()["next"]
        with CaptureQueriesContext(connection) as queries:
            assert http.get(following).status_code == 200
    finally:
        paging.page_size = 50
    page_query = next(q["sql"] for q in queries if q["sql"].endswith("LIMIT 2"))
    assert re.search(r'"accounts_client"\."name" >= ', page_query)
    assert "IS NULL" not in page_query  # neither the name nor the id can be NULL


def test_a_kams_cursor_pages_walk_own_and_team_accounts_without_the_bound(client_as, kam, kam2):
    """A KAM's list holds their team's accounts as ``id = ANY(ARRAY(…))``, beside which the
    cursor's bound would send PostgreSQL along the name index to its end: it is left out,
    and the pages still walk every account once, in order."""
    mine = [ClientFactory(owner_kam=kam) for _ in range(3)]
    on_team = [ClientFactory(owner_kam=kam2) for _ in range(2)]
    for client in on_team:
        TeamMemberFactory(client=client, user=kam)
    ClientFactory(owner_kam=kam2)  # not the KAM's
    expected = [c.pk for c in sorted(mine + on_team, key=lambda c: (c.name, c.pk))]
    http = client_as(kam)
    with CaptureQueriesContext(connection) as queries:
        seen = walk_pages(http, "/api/clients/?ordering=name")

    assert seen == expected
    pages = [q["sql"] for q in queries.captured_queries if q["sql"].endswith("LIMIT 3")]
    after_a_cursor = [sql for sql in pages if re.search(r'"accounts_client"\."name" > ', sql)]
    assert len(after_a_cursor) == 2  # the second and third pages
    assert not any(re.search(r'"accounts_client"\."name" >= ', sql) for sql in pages)


@pytest.mark.parametrize("ordering", ["owner_kam", "-owner_kam"])
def test_a_kams_sort_by_owner_walks_pages_and_the_register_as_the_column_orders(
    client_as, kam, kam2, ordering
):
    """A KAM's sort by owner reads the kept name through an expression no index serves; it
    orders as the column does, an account with no owner included, on the page and the API."""
    mine = [ClientFactory(owner_kam=kam) for _ in range(3)]
    on_team = [ClientFactory(owner_kam=kam2) for _ in range(2)] + [ClientFactory(owner_kam=None)]
    for client in on_team:
        TeamMemberFactory(client=client, user=kam)
    column = "-owner_kam_last_name" if ordering.startswith("-") else "owner_kam_last_name"
    expected = list(
        Client.objects.filter(pk__in=[c.pk for c in mine + on_team])
        .order_by(column, "-pk" if ordering.startswith("-") else "pk")
        .values_list("pk", flat=True)
    )
    http = client_as(kam)

    assert walk_pages(http, f"/api/clients/?ordering={ordering}") == expected
    listed = http.get(reverse("accounts:client-list"), {"ordering": ordering}).text
    names = [Client.objects.get(pk=pk).name for pk in expected]
    assert sorted(names, key=listed.index) == names


def test_an_unreadable_cursor_is_a_404(client_as, chair):
    assert client_as(chair).get("/api/clients/", {"cursor": "not-a-cursor"}).status_code == 404


def test_a_large_count_is_an_estimate_and_says_so(client_as, chair, monkeypatch):
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 3)
    ClientFactory.create_batch(5)

    answer = client_as(chair).get("/api/clients/").json()
    page = client_as(chair).get(reverse("accounts:client-list")).text

    assert answer["count_is_estimate"] is True
    assert answer["count"] >= 4
    assert "(an estimate)" in page


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the estimate is PostgreSQL's")
def test_a_page_costs_the_same_queries_whether_its_count_is_exact_or_estimated(
    client_as, chair, monkeypatch
):
    ClientFactory.create_batch(5)
    http = client_as(chair)
    costs = {}
    for limit in (10_000, 3):
        monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", limit)
        http.get(reverse("accounts:client-list"))
        with CaptureQueriesContext(connection) as page:
            text = http.get(reverse("accounts:client-list")).text
        with CaptureQueriesContext(connection) as api:
            body = http.get("/api/clients/").json()
        costs[limit] = (len(page.captured_queries), len(api.captured_queries))
        assert ("(an estimate)" in text) is (limit == 3)
        assert body["count_is_estimate"] is (limit == 3)

    assert costs[3] == costs[10_000]


def test_clients_are_searched_by_name_or_registration_number(client_as, chair):
    volga = ClientFactory(name="Volga Steel Works JSC", registration_number="7701234567")
    ural = ClientFactory(name="Ural Chemical Plant LLC", registration_number="6609876543")
    http = client_as(chair)

    assert ids(http.get("/api/clients/", {"q": "volga"})) == {volga.pk}
    assert ids(http.get("/api/clients/", {"q": "66098"})) == {ural.pk}


def test_clients_are_filtered_by_segment_and_sorted(client_as, chair):
    ClientFactory(name="Alpha", segment=Segment.ENTERPRISE)
    ClientFactory(name="Beta", segment=Segment.ENTERPRISE)
    ClientFactory(name="Gamma", segment=Segment.SMALL)

    rows = (
        client_as(chair)
        .get("/api/clients/", {"segment": "enterprise", "ordering": "-name"})
        .json()["results"]
    )

    assert [row["name"] for row in rows] == ["Beta", "Alpha"]


def test_a_kam_filters_by_segment_within_own_accounts_only(
    client_as, kam, account_of_kam, account_of_kam2
):
    Client.objects.update(segment=Segment.PUBLIC)
    assert ids(client_as(kam).get("/api/clients/", {"segment": "public"})) == {account_of_kam.pk}


def test_needs_are_filtered_by_client(client_as, chair, account_of_kam, account_of_kam2):
    wanted = NeedFactory(client=account_of_kam)
    NeedFactory(client=account_of_kam2)
    response = client_as(chair).get("/api/needs/", {"client": account_of_kam.pk})
    assert ids(response) == {wanted.pk}


def test_filtering_by_another_kams_client_is_refused_like_a_missing_client(
    client_as, kam, account_of_kam2
):
    NeedFactory(client=account_of_kam2)
    http = client_as(kam)

    other = http.get("/api/needs/", {"client": account_of_kam2.pk})
    absent = http.get("/api/needs/", {"client": account_of_kam2.pk + 1000})

    # A 404 that names the parameter, the same for both.
    assert other.status_code == absent.status_code == 404
    assert other.json()["detail"] == f"No client {account_of_kam2.pk} among those you may see."
    assert absent.json()["detail"].startswith("No client ")


# --- Writes: needs -------------------------------------------------------------------------


def test_a_kam_adds_a_need_to_own_and_team_accounts(client_as, kam, account_of_kam, shared_account):
    http = client_as(kam)

    own = post(
        http, "/api/needs/", {"client": account_of_kam.pk, "name": "24-hour delivery", "weight": 9}
    )
    team = post(http, "/api/needs/", {"client": shared_account.pk, "name": "Deferred payment"})

    assert own.status_code == 201
    assert own.json()["weight"] == 9
    assert team.status_code == 201
    assert set(ClientNeed.objects.values_list("client_id", "name")) == {
        (account_of_kam.pk, "24-hour delivery"),
        (shared_account.pk, "Deferred payment"),
    }


def test_a_kam_cannot_add_a_need_to_another_kams_client(client_as, kam, account_of_kam2):
    response = post(
        client_as(kam),
        "/api/needs/",
        {"client": account_of_kam2.pk, "name": "24-hour delivery", "weight": 9},
    )

    assert response.status_code == 404
    assert response.json()["detail"] == (
        f"client: Client {account_of_kam2.pk} does not exist or is not one of the accounts you "
        "may work on."
    )
    assert not ClientNeed.objects.exists()


def test_a_need_name_is_used_once_per_client(client_as, kam, account_of_kam):
    NeedFactory(client=account_of_kam, name="24-hour delivery")
    response = post(
        client_as(kam), "/api/needs/", {"client": account_of_kam.pk, "name": "24-hour delivery"}
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": "This client already has a need with this name.",
        "code": "unique",
    }
    assert ClientNeed.objects.count() == 1


@pytest.mark.parametrize(
    ("weight", "message"),
    [
        (11, "Ensure this value is less than or equal to 10."),
        (-1, "Ensure this value is greater than or equal to 0."),
    ],
)
def test_a_need_weight_is_between_zero_and_ten(client_as, kam, account_of_kam, weight, message):
    response = post(
        client_as(kam),
        "/api/needs/",
        {"client": account_of_kam.pk, "name": "Lowest price", "weight": weight},
    )
    assert response.status_code == 400
    assert response.json() == {"weight": [message]}
    assert not ClientNeed.objects.exists()


def test_a_kam_changes_and_deletes_needs_of_own_account(client_as, kam, account_of_kam):
    need = NeedFactory(client=account_of_kam, name="Deferred payment", weight=3)
    doomed = NeedFactory(client=account_of_kam, name="Free samples")
    http = client_as(kam)

    changed = patch(http, f"/api/needs/{need.pk}/", {"weight": 7})
    deleted = http.delete(f"/api/needs/{doomed.pk}/")

    assert changed.status_code == 200
    assert deleted.status_code == 204
    assert list(account_of_kam.needs.values_list("name", "weight")) == [("Deferred payment", 7)]


def test_a_kam_cannot_move_a_need_to_another_kams_client(
    client_as, kam, account_of_kam, account_of_kam2
):
    need = NeedFactory(client=account_of_kam)
    response = patch(client_as(kam), f"/api/needs/{need.pk}/", {"client": account_of_kam2.pk})
    assert response.status_code == 404
    need.refresh_from_db()
    assert need.client == account_of_kam


@pytest.mark.parametrize("role", ["chair", "member", "director"])
def test_committee_and_directors_change_nothing(client_as, cast, role, account_of_kam):
    need = NeedFactory(client=account_of_kam)
    http = client_as(cast[role])

    assert post(http, "/api/needs/", {"client": account_of_kam.pk, "name": "x"}).status_code == 403
    assert patch(http, f"/api/needs/{need.pk}/", {"weight": 1}).status_code == 403
    assert patch(http, f"/api/clients/{account_of_kam.pk}/", {"notes": "x"}).status_code == 403
    assert http.delete(f"/api/clients/{account_of_kam.pk}/").status_code == 403
    assert Client.objects.filter(pk=account_of_kam.pk, notes="").exists()


# --- Writes: clients and figures -----------------------------------------------------------

NEW_CLIENT = {
    "name": "Kama Foods LLC",
    "registration_number": "1650000001",
    "segment": "enterprise",
    "industry": "Food processing",
    "region": "Kazan",
}

NEW_FIGURE = {
    "period": "2026-04-01",
    "revenue": "1200000.00",
    "gross_margin": "300000.00",
    "potential_revenue": "5000000.00",
    "share_of_wallet": "25.00",
}


def test_a_kam_cannot_create_a_client_or_a_figure(client_as, kam, account_of_kam):
    http = client_as(kam)

    client = post(http, "/api/clients/", NEW_CLIENT)
    figure = post(http, "/api/figures/", {**NEW_FIGURE, "client": account_of_kam.pk})
    edit = patch(http, f"/api/clients/{account_of_kam.pk}/", {"name": "Renamed"})

    assert (client.status_code, figure.status_code, edit.status_code) == (403, 403, 403)
    assert list(Client.objects.values_list("name", flat=True)) == [account_of_kam.name]
    assert not ClientFigure.objects.exists()


def test_the_administrator_creates_a_client(client_as, administrator, kam):
    response = post(client_as(administrator), "/api/clients/", {**NEW_CLIENT, "owner_kam": kam.pk})

    assert response.status_code == 201
    body = response.json()
    assert body["owner_kam"] == kam.pk
    assert body["owner_kam_name"] == str(kam)
    assert body["team"] == []
    client = Client.objects.get(registration_number="1650000001")
    assert (client.name, client.owner_kam) == ("Kama Foods LLC", kam)


def test_a_registration_number_taken_is_a_409(client_as, administrator, account_of_kam):
    """One like it exists: a conflict with how things stand, coded ``unique``, not a 400."""
    taken = {**NEW_CLIENT, "registration_number": account_of_kam.registration_number}

    response = post(client_as(administrator), "/api/clients/", taken)
    beside_a_missing_kam = post(
        client_as(administrator), "/api/clients/", {**taken, "owner_kam": 2**40}
    )

    assert response.status_code == 409
    assert response.json() == {
        "detail": "registration_number: client with this registration number already exists.",
        "code": "unique",
    }
    # A reference to what is not there comes first: 404, naming both.
    assert beside_a_missing_kam.status_code == 404
    assert "owner_kam: " in beside_a_missing_kam.json()["detail"]
    assert "registration_number: " in beside_a_missing_kam.json()["detail"]
    assert Client.objects.count() == 1


def test_the_owner_kam_must_be_a_kam(client_as, administrator, director):
    response = post(
        client_as(administrator), "/api/clients/", {**NEW_CLIENT, "owner_kam": director.pk}
    )
    # No KAM has that id: a reference to what is not there, as an id that names nobody.
    assert response.status_code == 404
    assert response.json()["detail"].startswith("owner_kam: ")


def test_the_administrator_creates_a_figure(client_as, administrator, account_of_kam):
    response = post(
        client_as(administrator), "/api/figures/", {**NEW_FIGURE, "client": account_of_kam.pk}
    )

    assert response.status_code == 201
    assert response.json()["period_label"] == "2026 Q2"
    assert response.json()["margin_percent"] == "25.0"
    assert account_of_kam.figures.get().revenue == 1200000


def test_a_form_sends_no_share_of_wallet_as_an_empty_value(
    client_as, administrator, account_of_kam
):
    """A form cannot say null: an empty share of wallet is none, and the schema says so."""
    http = client_as(administrator)
    response = http.post(
        "/api/figures/", {**NEW_FIGURE, "client": account_of_kam.pk, "share_of_wallet": ""}
    )
    assert response.status_code == 201
    assert response.json()["share_of_wallet"] is None
    assert account_of_kam.figures.get().share_of_wallet is None

    schema = http.get("/api/schema/", {"format": "json"}).json()
    content = schema["paths"]["/api/figures/"]["post"]["requestBody"]["content"]
    form = schema["components"]["schemas"][
        content["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    ]
    assert {"type": "string", "maxLength": 0} in form["properties"]["share_of_wallet"]["anyOf"]


def test_no_revenue_gives_no_margin_percentage_as_the_schema_allows(
    client_as, administrator, account_of_kam
):
    http = client_as(administrator)
    response = post(
        http, "/api/figures/", {**NEW_FIGURE, "client": account_of_kam.pk, "revenue": "0"}
    )
    assert response.status_code == 201
    assert response.json()["margin_percent"] is None
    schema = http.get("/api/schema/", {"format": "json"}).json()
    answer = schema["components"]["schemas"]["ClientFigure"]["properties"]["margin_percent"]
    assert answer["nullable"] is True


def test_a_figure_period_is_the_first_day_of_a_quarter(client_as, administrator, account_of_kam):
    response = post(
        client_as(administrator),
        "/api/figures/",
        {**NEW_FIGURE, "client": account_of_kam.pk, "period": "2026-05-15"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "period": ["A period is a quarter: give its first day (1 Jan, 1 Apr, 1 Jul or 1 Oct)."]
    }
    assert not ClientFigure.objects.exists()


def test_one_figure_per_client_and_quarter(client_as, administrator, account_of_kam):
    FigureFactory(client=account_of_kam, period="2026-04-01")
    response = post(
        client_as(administrator), "/api/figures/", {**NEW_FIGURE, "client": account_of_kam.pk}
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": "This client already has figures for this quarter.",
        "code": "unique",
    }


def test_a_huge_margin_percentage_is_shown_not_a_server_error(client_as, chair, account_of_kam):
    FigureFactory(client=account_of_kam, revenue="1.00", gross_margin="-1000000.00")
    response = client_as(chair).get("/api/figures/")
    assert response.status_code == 200
    assert response.json()["results"][0]["margin_percent"] == "-100000000.0"


def test_key_status_cannot_be_set_through_the_api(client_as, administrator, account_of_kam):
    http = client_as(administrator)

    created = post(http, "/api/clients/", {**NEW_CLIENT, "is_key": True})
    changed = patch(http, f"/api/clients/{account_of_kam.pk}/", {"is_key": True, "notes": "x"})

    assert created.status_code == 201
    assert created.json()["is_key"] is False
    assert changed.status_code == 200
    assert changed.json()["is_key"] is False
    assert not Client.objects.filter(is_key=True).exists()
    assert Client.objects.get(pk=account_of_kam.pk).notes == "x"


# --- Schema and docs -----------------------------------------------------------------------


def test_the_openapi_schema_is_valid(client_as, chair):
    response = client_as(chair).get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = json.loads(response.content)
    validate_schema(schema)  # raises on anything that is not OpenAPI 3
    assert {"/api/clients/", "/api/clients/{id}/", "/api/needs/", "/api/figures/"} <= set(
        schema["paths"]
    )
    assert "/api/auth/token/" in schema["paths"]


def test_the_api_docs_load_offline(client_as, chair, settings):
    page = client_as(chair).get("/api/docs/")

    assert page.status_code == 200
    html = page.content.decode()
    for remote in ("cdn.", "unpkg", "jsdelivr"):
        assert remote not in html
    assets = re.findall(r'(?:src|href)="(/static/drf_spectacular_sidecar/[^"]+)"', html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    assert any(asset.endswith("swagger-ui.css") for asset in assets)
    # ...and every one of them ships in our static files.
    for asset in assets:
        assert finders.find(asset.removeprefix(settings.STATIC_URL)), asset


# --- Query counts --------------------------------------------------------------------------


def add_accounts(count: int, kam: User, kam2: User) -> None:
    """Accounts of kam with kam2 on the team, each with a need and a figure."""
    for client in ClientFactory.create_batch(count, owner_kam=kam):
        TeamMemberFactory(client=client, user=kam2, role=TeamRole.TECHNICAL)
        NeedFactory(client=client)
        FigureFactory(client=client)


# Queries per list, however many rows: signing in (``SIGN_IN_QUERIES``) comes first; then each
# endpoint's count and page. Clients add the prefetch of the teams with their people (the
# industries and regions the filter offers are read only when it is used).
@pytest.mark.parametrize(
    ("path", "role", "queries"),
    [
        ("/api/clients/", "chair", SIGN_IN_QUERIES + 2 + 2),
        ("/api/clients/", "kam", SIGN_IN_QUERIES + 2 + 2),
        ("/api/needs/", "chair", SIGN_IN_QUERIES + 2),
        ("/api/needs/", "kam", SIGN_IN_QUERIES + 2),
        ("/api/figures/", "chair", SIGN_IN_QUERIES + 2),
        ("/api/figures/", "kam", SIGN_IN_QUERIES + 2),
    ],
)
def test_list_endpoints_run_a_fixed_number_of_queries(
    client_as, cast, kam, kam2, path, role, queries
):
    http = client_as(cast[role])
    add_accounts(3, kam, kam2)
    with CaptureQueriesContext(connection) as few:
        assert http.get(path).json()["count"] == 3

    add_accounts(27, kam, kam2)
    with CaptureQueriesContext(connection) as many:
        assert http.get(path).json()["count"] == 30

    assert len(many) == len(few) == queries, [q["sql"] for q in many.captured_queries]
