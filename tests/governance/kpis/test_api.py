"""The KPI API and pages: who sees which snapshots and targets, hand entries through the API and
the page, and the committee's targets page."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.kpis.figures import kpi_entry_record
from governance.kpis.snapshots import snapshot_quarter
from governance.models import KpiEntry, KpiSnapshot, KpiTarget, Mandate
from tests.kpi_world import NOW, Q, World, build_world, make_catalogue
from tests.queries import SIGN_IN_QUERIES

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(kam, kam2) -> World:
    world = build_world(kam, kam2)
    snapshot_quarter(Q, now=NOW)
    return world


def scope_keys(response) -> set[str]:
    return {row["scope_key"] for row in response.json()["results"]}


@pytest.mark.parametrize("role", ["chair", "member", "director", "administrator"])
def test_the_committee_and_directors_see_every_snapshot(world, cast, client_as, role):
    http = client_as(cast[role])

    response = http.get("/api/kpi-snapshots/", {"period": Q, "kpi": world.kpis["revenue"].pk})

    assert response.status_code == 200
    assert len(scope_keys(response)) == 6
    assert http.get("/api/kpi-snapshots/", {"scope": "portfolio"}).status_code == 200


def test_a_kam_sees_only_own_scope_and_accounts(world, kam, client_as):
    http = client_as(kam)

    response = http.get("/api/kpi-snapshots/", {"period": Q, "kpi": world.kpis["revenue"].pk})

    assert response.status_code == 200
    assert scope_keys(response) == {
        f"kam:{kam.pk}",
        f"account:{world.a.pk}",
        f"account:{world.b.pk}",
    }
    revenue = {row["scope_key"]: row["value"] for row in response.json()["results"]}
    assert Decimal(revenue[f"kam:{kam.pk}"]) == Decimal(1500)


@pytest.mark.parametrize(
    "query",
    [{"scope": "portfolio"}, {"kam": "{kam2}"}],
)
def test_a_kam_is_refused_the_portfolio_and_other_kams(world, kam, kam2, client_as, query):
    query = {name: value.format(kam2=kam2.pk) for name, value in query.items()}

    response = client_as(kam).get("/api/kpi-snapshots/", query)

    assert response.status_code == 403


def test_kam2_cannot_see_kams_rows(world, kam, kam2, client_as):
    http = client_as(kam2)
    kams_row = KpiSnapshot.objects.filter(scope_key=f"kam:{kam.pk}").first()

    listed = http.get("/api/kpi-snapshots/", {"period": Q})

    assert all(key in {f"kam:{kam2.pk}", f"account:{world.c.pk}"} for key in scope_keys(listed))
    assert listed.json()["count"] == 9 * 2
    assert http.get(f"/api/kpi-snapshots/{kams_row.pk}/").status_code == 404
    assert http.get("/api/kpi-snapshots/", {"kam": kam.pk}).status_code == 403


def test_others_get_403(world, outsider, client_as):
    http = client_as(outsider)
    for url in ("/api/kpi-snapshots/", "/api/kpis/", "/api/kpi-targets/", "/api/kpi-entries/"):
        assert http.get(url).status_code == 403, url


def test_the_snapshot_list_in_a_fixed_number_of_queries(
    world, director, client_as, django_assert_num_queries
):
    http = client_as(director)

    with django_assert_num_queries(SIGN_IN_QUERIES + 2):  # count, page
        response = http.get("/api/kpi-snapshots/")

    assert response.json()["count"] == 54


def test_targets_a_kam_reads_own_the_committee_writes(world, kam, kam2, member, client_as):
    own = KpiTarget.objects.create(
        kpi=world.kpis["revenue"], mandate=world.mandate, period=Q, target=1400
    )
    KpiTarget.objects.create(kpi=world.kpis["revenue"], mandate=world.mandate2, period=Q, target=9)

    listed = client_as(kam).get("/api/kpi-targets/").json()["results"]
    assert [row["id"] for row in listed] == [own.pk]
    assert (
        client_as(kam)
        .patch(f"/api/kpi-targets/{own.pk}/", {"target": "1"}, content_type="application/json")
        .status_code
        == 403
    )

    http = client_as(member)
    changed = http.patch(
        f"/api/kpi-targets/{own.pk}/", {"target": "1500"}, content_type="application/json"
    )
    assert changed.status_code == 200
    own.refresh_from_db()
    assert own.target == Decimal(1500)
    # The mandate is in force: the change is on the record, with who made it.
    log = LogEntry.objects.get(object_id=str(world.mandate.pk))
    assert log.user == member and "1500" in log.change_message

    twin = http.post(
        "/api/kpi-targets/",
        {"kpi": world.kpis["revenue"].pk, "mandate": world.mandate.pk, "period": Q, "target": 5},
    )
    assert twin.status_code == 409
    assert twin.json() == {
        "detail": "period: This KPI already has a target for that quarter and account.",
        "code": "unique",
    }
    outside = http.post(
        "/api/kpi-targets/",
        {
            "kpi": world.kpis["revenue"].pk,
            "mandate": world.mandate.pk,
            "client": world.c.pk,
            "period": "2026-08-01",
            "target": 5,
        },
    )
    assert outside.status_code == 400
    assert set(outside.json()) == {"client", "period"}


def test_an_entry_through_the_api(world, director, client_as):
    http = client_as(director)
    payload = {"kpi": world.kpis["nps"].pk, "period": Q, "kam": world.kam.pk, "value": "81"}

    created = http.post("/api/kpi-entries/", payload)

    assert created.status_code == 201
    assert created.json()["entered_by"] == director.pk
    assert (
        KpiSnapshot.objects.get(scope_key=f"kam:{world.kam.pk}", kpi=world.kpis["nps"]).value == 81
    )

    refused = http.post("/api/kpi-entries/", {**payload, "value": "5000", "client": world.c.pk})
    assert refused.status_code == 400
    assert set(refused.json()) == {"value", "client"}
    # A computed KPI is none of those entered by hand: a reference to what is not there.
    computed = http.post("/api/kpi-entries/", {**payload, "kpi": world.kpis["revenue"].pk})
    assert computed.status_code == 404
    assert computed.json()["detail"].startswith("kpi: ")
    assert KpiEntry.objects.count() == 1


def test_an_entry_for_a_quarter_not_begun_is_a_409(world, director, client_as):
    """Well formed, refused by the calendar and not by what was typed: a conflict with how
    things stand (``code``: state), not a 400."""
    payload = {"kpi": world.kpis["nps"].pk, "period": "2099-01-01", "kam": world.kam.pk}

    early = client_as(director).post("/api/kpi-entries/", {**payload, "value": "81"})
    malformed = client_as(director).post("/api/kpi-entries/", {**payload, "value": "5000"})

    assert early.status_code == 409
    assert early.json() == {
        "detail": "period: This quarter has not started yet.",
        "code": "state",
    }
    # Out of bounds besides: what was typed is wrong, a 400 with every reason by field.
    assert malformed.status_code == 400
    assert set(malformed.json()) == {"period", "value"}
    assert not KpiEntry.objects.exists()


def test_a_kam_cannot_enter_actuals(world, kam, client_as):
    payload = {"kpi": world.kpis["nps"].pk, "period": Q, "kam": kam.pk, "value": "99"}

    assert client_as(kam).post("/api/kpi-entries/", payload).status_code == 403
    assert client_as(kam).get("/committee/kpis/entries/").status_code == 403


# Pages.


def test_the_entries_page_records_and_shows_the_history(world, director, member, client_as):
    kpi_entry_record(
        kpi=world.kpis["nps"], period=Q, kam=world.kam, client=None, value=Decimal(70),
        note="Survey of June", by=member,
    )  # fmt: skip
    http = client_as(director)

    response = http.post(
        "/committee/kpis/entries/",
        {"kpi": world.kpis["nps"].pk, "period": Q.isoformat(), "kam": world.kam.pk,
         "client": world.a.pk, "value": "88", "note": "Account review"},
        follow=True,
    )  # fmt: skip

    assert response.status_code == 200
    page = response.text
    assert "Recorded" in page
    assert "Account review" in page and "Survey of June" in page
    assert page.index("Account review") < page.index("Survey of June")  # newest first
    assert "2026 Q3" in page
    entry = KpiEntry.objects.first()
    assert (entry.entered_by, entry.client, entry.value) == (director, world.a, Decimal(88))


def test_the_entries_page_shows_the_services_refusal(world, director, client_as):
    response = client_as(director).post(
        "/committee/kpis/entries/",
        {"kpi": world.kpis["nps"].pk, "period": Q.isoformat(), "kam": world.kam.pk,
         "client": world.c.pk, "value": "5000"},
    )  # fmt: skip

    assert response.status_code == 200
    assert "not in the mandate" in response.text
    assert "between 0 and 1000" in response.text
    assert not KpiEntry.objects.exists()


def test_the_entries_page_in_a_fixed_number_of_queries(
    world, director, client_as, django_assert_num_queries
):
    for value in range(30):
        kpi_entry_record(
            kpi=world.kpis["nps"], period=Q, kam=world.kam, client=None, value=Decimal(value),
            note="", by=director,
        )  # fmt: skip
    http = client_as(director)
    http.get("/committee/kpis/entries/")

    with django_assert_num_queries(SIGN_IN_QUERIES + 5):
        response = http.get("/committee/kpis/entries/?page=2")

    assert response.status_code == 200
    assert response.text.count("<tr>") == 1 + 5


def test_the_committee_sets_a_drafts_targets(kam, member, client_as):

    kpis = make_catalogue()
    draft = Mandate.objects.create(kam=kam, title="Draft", valid_from=datetime.date(2027, 1, 1))
    http = client_as(member)
    url = f"/committee/mandates/{draft.pk}/targets/"
    assert "A draft" in http.get(url).text

    def form(rows: list[dict[str, object]]) -> dict[str, object]:
        data = {"targets-TOTAL_FORMS": len(rows), "targets-INITIAL_FORMS": 0}
        for number, row in enumerate(rows):
            data.update({f"targets-{number}-{name}": value for name, value in row.items()})
        return data

    twice = form([{"kpi": kpis["revenue"].pk, "period": "2027-01-01", "target": "100"}] * 2)
    assert "keep one" in http.post(url, twice).text
    wrong_day = form([{"kpi": kpis["revenue"].pk, "period": "2027-01-15", "target": "100"}])
    assert "first day" in http.post(url, wrong_day).text
    assert not KpiTarget.objects.exists()

    saved = http.post(
        url, form([{"kpi": kpis["revenue"].pk, "period": "2027-01-01", "target": "100"}])
    )

    assert saved.status_code == 302
    assert KpiTarget.objects.get().target == Decimal(100)
    assert not LogEntry.objects.exists()  # a draft's targets are prepared freely


def test_a_granted_mandates_targets_change_on_the_record(world, member, client_as):
    target = KpiTarget.objects.create(
        kpi=world.kpis["revenue"], mandate=world.mandate, period=Q, target=1400
    )
    http = client_as(member)
    url = f"/committee/mandates/{world.mandate.pk}/targets/"
    page = http.get(url).text
    assert "recorded with your name" in page

    response = http.post(
        url,
        {"targets-TOTAL_FORMS": 1, "targets-INITIAL_FORMS": 1, "targets-0-id": target.pk,
         "targets-0-kpi": target.kpi_id, "targets-0-period": Q.isoformat(),
         "targets-0-target": "1600"},
    )  # fmt: skip

    assert response.status_code == 302
    target.refresh_from_db()
    assert target.target == Decimal(1600)
    assert "1600" in LogEntry.objects.get(object_id=str(world.mandate.pk)).change_message


def targets_for_quarters(world: World, quarters: int) -> list[KpiTarget]:
    """Every KPI's target, for the whole mandate and for account A, in the first ``quarters``
    quarters of 2026: 18 rows a quarter."""
    periods = [datetime.date(2026, month, 1) for month in (1, 4, 7, 10)][:quarters]
    return KpiTarget.objects.bulk_create(
        KpiTarget(kpi=kpi, mandate=world.mandate, period=period, client=client, target=1)
        for kpi in world.kpis.values()
        for period in periods
        for client in (None, world.a)
    )


@pytest.mark.parametrize("quarters", [1, 4])
def test_the_targets_page_in_a_fixed_number_of_queries(
    world, member, client_as, django_assert_num_queries, quarters
):
    targets_for_quarters(world, quarters)
    http = client_as(member)
    url = f"/committee/mandates/{world.mandate.pk}/targets/"
    http.get(url)

    with django_assert_num_queries(SIGN_IN_QUERIES + 4):
        response = http.get(url)

    assert response.text.count('name="targets-') > 2 * 9 * quarters * 4


def targets_form(targets: list[KpiTarget], **changed: str) -> dict[str, object]:
    """The targets page as submitted: every target shown, ``changed`` by row number and field
    (``"0-target"``)."""
    data: dict[str, object] = {
        "targets-TOTAL_FORMS": len(targets),
        "targets-INITIAL_FORMS": len(targets),
    }
    for number, target in enumerate(targets):
        data.update({
            f"targets-{number}-id": target.pk, f"targets-{number}-kpi": target.kpi_id,
            f"targets-{number}-period": target.period.isoformat(),
            f"targets-{number}-client": target.client_id or "",
            f"targets-{number}-target": target.target,
        })  # fmt: skip
    data.update({f"targets-{name.replace('_', '-')}": value for name, value in changed.items()})
    return data


def test_saving_targets_costs_the_same_queries_however_many_rows(
    world, member, client_as, django_assert_num_queries
):
    """18 rows or 72, one changed, one removed, one added: the same statements."""
    http = client_as(member)
    url = f"/committee/mandates/{world.mandate.pk}/targets/"
    ContentType.objects.get_for_model(Mandate)  # kept by Django once read: not the page's cost
    counts = []
    for quarters in (1, 4):
        KpiTarget.objects.filter(mandate=world.mandate).delete()
        targets = targets_for_quarters(world, quarters)
        data = targets_form(targets, **{"0_target": "5", "1_DELETE": "on"})
        new = len(targets)
        data["targets-TOTAL_FORMS"] = new + 1
        data[f"targets-{new}-kpi"] = world.kpis["revenue"].pk
        data[f"targets-{new}-period"] = "2027-01-01"
        data[f"targets-{new}-target"] = "9"

        with CaptureQueriesContext(connection) as captured:
            response = http.post(url, data)

        assert response.status_code == 302
        assert KpiTarget.objects.filter(mandate=world.mandate).count() == len(targets)
        assert KpiTarget.objects.get(pk=targets[0].pk).target == 5
        assert not KpiTarget.objects.filter(pk=targets[1].pk).exists()
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
    # Signing in; the mandate, its targets, the KPIs and accounts offered; then, in a transaction,
    # the mandate locked to check it is not before the committee, the targets locked, the KPIs
    # named, the removal (found, deleted), the update, the insert and the record of the change,
    # with their savepoints.
    assert counts[0] == SIGN_IN_QUERIES + 16


def test_a_target_of_another_mandate_cannot_be_changed_from_this_one(world, member, client_as):
    foreign = KpiTarget.objects.create(
        kpi=world.kpis["revenue"], mandate=world.mandate2, period=Q, target=700
    )
    http = client_as(member)
    data = targets_form([foreign], **{"0_target": "1"})

    page = http.post(f"/committee/mandates/{world.mandate.pk}/targets/", data)

    assert page.status_code == 200
    assert "removed meanwhile" in page.text
    foreign.refresh_from_db()
    assert foreign.target == 700
    assert 'value="1"' in page.text  # what was typed is still on the page


def test_removing_and_adding_targets_on_the_page_is_on_the_record(world, member, client_as):
    kept, dropped = (
        KpiTarget.objects.create(kpi=world.kpis[code], mandate=world.mandate, period=Q, target=10)
        for code in ("revenue", "margin")
    )
    data = targets_form([kept, dropped], **{"1_DELETE": "on"})
    data["targets-TOTAL_FORMS"] = 3
    data.update({"targets-2-kpi": world.kpis["growth"].pk, "targets-2-period": Q.isoformat(),
                 "targets-2-client": world.a.pk, "targets-2-target": "3"})  # fmt: skip

    response = client_as(member).post(f"/committee/mandates/{world.mandate.pk}/targets/", data)

    assert response.status_code == 302
    assert set(
        KpiTarget.objects.filter(mandate=world.mandate).values_list("kpi__code", "client", "target")
    ) == {("revenue", None, 10), ("growth", world.a.pk, 3)}
    record = LogEntry.objects.get(object_id=str(world.mandate.pk)).change_message
    assert "removed Gross margin" in record and "set Growth" in record


def test_the_mandates_list_links_to_targets_and_entries(world, member, director, client_as):
    targets = f"/committee/mandates/{world.mandate.pk}/targets/"

    as_member = client_as(member).get("/committee/mandates/").text
    as_director = client_as(director).get("/committee/mandates/").text

    assert targets in as_member and "/committee/kpis/entries/" in as_member
    assert targets not in as_director and "/committee/kpis/entries/" in as_director


def test_a_twin_target_saved_between_the_check_and_the_write_is_a_409_not_a_500(
    world, member, client_as, monkeypatch
):
    """Two committee members adding the same target at once: the second one's check ran
    before the first one's row existed (simulated by skipping the check)."""
    KpiTarget.objects.create(kpi=world.kpis["revenue"], mandate=world.mandate, period=Q, target=1)
    monkeypatch.setattr("governance.kpis.api.kpi_target_errors", lambda **_kwargs: {})

    twin = client_as(member).post(
        "/api/kpi-targets/",
        {"kpi": world.kpis["revenue"].pk, "mandate": world.mandate.pk, "period": Q, "target": 5},
    )

    assert twin.status_code == 409
    assert twin.json() == {
        "detail": "period: This KPI already has a target for that quarter and account.",
        "code": "unique",
    }
    assert KpiTarget.objects.filter(mandate=world.mandate).count() == 1
