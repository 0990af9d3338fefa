"""The management shell beyond limits: deputies deciding while an approver is away, reminders
of deadlines, exceptional situations from declaration to closure, the committee's budgets, and
the same records over the API."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from accounts.models import Client
from accounts.periods import quarter_start
from accounts.refusals import NotAllowed
from accounts.roles import Role
from governance.mail import mail_deliver_due
from governance.models import (
    Absence,
    Approver,
    Budget,
    CommitteeMember,
    DepartmentObligation,
    EscalationTier,
    ExceptionRequest,
    ExceptionState,
    Incident,
    IncidentState,
    Kpi,
    KpiTarget,
    Mandate,
    MandateAccount,
    SituationType,
)
from governance.recipients import approver_roles_of, approvers_for
from governance.shell.budgets import budget_allocate, budget_spend
from governance.shell.departments import department_request
from governance.shell.exception_requests import exception_decide, exception_file, may_decide
from governance.shell.incidents import (
    IncidentMoved,
    incident_close,
    incident_declare,
    incident_note,
    incident_take,
)
from governance.shell.mandates import NotInMandate, mandate_adopt
from governance.shell.notifications import remind_mandate_deadlines
from tests.factories import ClientFactory, UserFactory

# The clock is set to noon in Moscow on TODAY (time-machine): absences, deadlines and budgets
# count from it, and no test may meet a quarter's end or midnight halfway through.
TODAY = datetime.date(2026, 11, 18)
pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(f"{TODAY}T12:00+03:00")]


@pytest.fixture
def shell(kam, chair, member, director, account_of_kam):
    """Head of KAM (member) decides deals up to 5 M, the sales director (director's seat is
    none: the chair's) above; kam's mandate covers one account."""
    EscalationTier.objects.create(order=1, up_to_deal_value=5_000_000, approver="head_of_kam")
    EscalationTier.objects.create(order=2, up_to_deal_value=None, approver="sales_director")
    CommitteeMember.objects.create(
        user=chair, committee_role="executive_director", is_chair=True, active_from=TODAY
    )
    CommitteeMember.objects.create(user=member, committee_role="head_of_kam", active_from=TODAY)
    mandate = Mandate.objects.create(
        kam=kam,
        title="Mandate",
        valid_from=TODAY,
        max_discount_percent=Decimal(5),
        budget_spend_without_approval=Decimal(10_000),
    )
    MandateAccount.objects.create(mandate=mandate, client=account_of_kam)
    return mandate_adopt(mandate=mandate)


@pytest.fixture
def commercial(shell):
    """A third member, seated as commercial director: one the tiers' rule could name deputy."""
    person = UserFactory(username="commercial", role=Role.COMMITTEE_MEMBER)
    CommitteeMember.objects.create(
        user=person, committee_role="commercial_director", active_from=TODAY
    )
    return person


def _small_exception(kam, client) -> ExceptionRequest:
    return exception_file(
        kam=kam,
        client_id=client.pk,
        asked={"discount_percent": Decimal(8), "deal_value": Decimal(1_000_000)},
        justification="Tender",
    )


# Deputies -------------------------------------------------------------------------------------


def test_a_deputy_decides_while_the_approver_is_away_and_not_otherwise(
    kam, member, commercial, account_of_kam, shell
):
    request = _small_exception(kam, account_of_kam)
    assert request.approver == Approver.HEAD_OF_KAM
    assert "head_of_kam" not in approver_roles_of(commercial)

    Absence.objects.create(
        user=member, starts_on=TODAY, ends_on=TODAY + datetime.timedelta(days=3), deputy=commercial
    )
    assert "head_of_kam" in approver_roles_of(commercial)
    assert commercial in approvers_for(Approver.HEAD_OF_KAM)
    # Before and after the absence, the deputy has nothing to decide.
    assert "head_of_kam" not in approver_roles_of(
        commercial, day=TODAY + datetime.timedelta(days=4)
    )
    assert "head_of_kam" not in approver_roles_of(
        commercial, day=TODAY - datetime.timedelta(days=1)
    )


def test_an_absence_naming_someone_without_a_seat_gives_them_nothing(
    kam, member, director, account_of_kam, shell
):
    """Rows written past the services (or before the rule) cannot make a director or a KAM an
    approver: only a seated member decides."""
    Absence.objects.create(user=member, starts_on=TODAY, ends_on=TODAY, deputy=director)
    assert approver_roles_of(director) == set()
    assert director not in approvers_for(Approver.HEAD_OF_KAM)


def test_the_deputy_decides_on_the_exceptions_page(
    client_as, kam, member, commercial, account_of_kam, shell
):
    request = _small_exception(kam, account_of_kam)
    url = reverse("governance:exception-decide", args=[request.pk])
    # The commercial director's seat is not the head of KAM's: without an absence naming
    # them, the page refuses.
    assert client_as(commercial).post(url, {"decision": "approve"}).status_code == 403
    Absence.objects.create(user=member, starts_on=TODAY, ends_on=TODAY, deputy=commercial)
    page = client_as(commercial).get(reverse("governance:exception-list"))
    assert f'action="{url}"' in page.text
    assert client_as(commercial).post(url, {"decision": "approve"}).status_code == 302
    request.refresh_from_db()
    assert (request.state, request.decided_by) == (ExceptionState.APPROVED, commercial)


def test_a_member_records_their_absence_and_ends_it(client_as, member, commercial, shell):
    http = client_as(member)
    response = http.post(
        reverse("governance:absence-list"),
        {
            "starts_on": TODAY.isoformat(),
            "ends_on": (TODAY - datetime.timedelta(days=1)).isoformat(),
            "deputy": member.pk,
        },
    )
    assert response.status_code == 200
    assert "The absence must end on or after its first day." in response.text
    assert "Select a valid choice" in response.text  # oneself is not offered as deputy
    assert not Absence.objects.exists()

    response = http.post(
        reverse("governance:absence-list"),
        {
            "starts_on": TODAY.isoformat(),
            "ends_on": (TODAY + datetime.timedelta(days=5)).isoformat(),
            "deputy": commercial.pk,
        },
        follow=True,
    )
    assert "Absence recorded" in response.text
    absence = Absence.objects.get()
    assert "head_of_kam" in approver_roles_of(commercial)

    http.post(reverse("governance:absence-end", args=[absence.pk]))
    assert "head_of_kam" not in approver_roles_of(commercial)


def test_a_member_cannot_record_someone_elses_absence(client_as, chair, member, commercial, shell):
    """Who is away is the signed-in member: a "user" sent along is not read."""
    client_as(member).post(
        reverse("governance:absence-list"),
        {
            "user": chair.pk,
            "starts_on": TODAY.isoformat(),
            "ends_on": TODAY.isoformat(),
            "deputy": commercial.pk,
        },
    )
    assert list(Absence.objects.values_list("user", flat=True)) == [member.pk]


# Reminders ------------------------------------------------------------------------------------


def test_filing_an_exception_mails_the_tiers_approvers(
    kam, member, account_of_kam, shell, django_capture_on_commit_callbacks
):
    member.email = "head.kam@example.com"
    member.save()
    with django_capture_on_commit_callbacks(execute=True):
        _small_exception(kam, account_of_kam)
    mail_deliver_due()  # the worker, after the commit
    assert [m.to for m in mail.outbox] == [["head.kam@example.com"]]
    assert str(account_of_kam) in mail.outbox[0].subject


def test_reminders_go_once_when_deadlines_are_near(kam, member, account_of_kam, shell):
    member.email = "head.kam@example.com"
    member.save()
    owner = UserFactory(username="logistics.head", email="logistics@example.com")
    obligation = DepartmentObligation.objects.create(
        department="logistics", title="Urgent shipment", owner=owner, response_hours=4
    )
    far = _small_exception(kam, account_of_kam)  # due in two days: not yet
    near = _small_exception(kam, account_of_kam)
    ExceptionRequest.objects.filter(pk=near.pk).update(
        respond_by=timezone.now() + datetime.timedelta(hours=2)
    )
    department_request(kam=kam, obligation=obligation, client_id=account_of_kam.pk, text="Ship")
    decided = _small_exception(kam, account_of_kam)
    exception_decide(request=decided, by=member, approve=True)
    ExceptionRequest.objects.filter(pk=decided.pk).update(respond_by=timezone.now())
    mail_deliver_due()  # what was told so far
    mail.outbox.clear()

    assert remind_mandate_deadlines() == 2
    mail_deliver_due()
    assert sorted(m.to[0] for m in mail.outbox) == [
        "head.kam@example.com",
        "logistics@example.com",
    ]
    assert remind_mandate_deadlines() == 0  # once per item
    assert mail_deliver_due() == 0
    far.refresh_from_db()
    assert far.reminded_at is None


# Incidents ------------------------------------------------------------------------------------


@pytest.fixture
def situation(db) -> SituationType:
    return SituationType.objects.create(
        name="Quality failure",
        procedure="Call the client within the hour; send the quality engineer.",
        owner=UserFactory(username="quality.head", email="quality@example.com"),
        response_hours=4,
    )


def test_an_incident_is_routed_to_the_owner_and_tracked_to_closure(
    kam, account_of_kam, shell, situation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        incident = incident_declare(
            kam=kam, client_id=account_of_kam.pk, situation=situation, description="Defects"
        )
    mail_deliver_due()
    assert incident.owner == situation.owner
    late = incident.respond_by - incident.declared_at - datetime.timedelta(hours=4)
    assert abs(late) < datetime.timedelta(seconds=5)
    assert mail.outbox[0].to == ["quality@example.com"]

    with pytest.raises(PermissionDenied):
        incident_take(incident=incident, by=kam)  # the KAM declares; the owner handles
    incident_note(incident=incident, by=kam, text="Client calls twice a day")
    incident_take(incident=incident, by=situation.owner)
    with pytest.raises(IncidentMoved):
        incident_take(incident=incident, by=situation.owner)
    with pytest.raises(ValidationError):
        incident_close(incident=incident, by=situation.owner, resolution=" ")
    incident_close(incident=incident, by=situation.owner, resolution="Batch replaced")

    incident.refresh_from_db()
    assert incident.state == IncidentState.CLOSED
    assert [u.text_said for u in incident.updates.all()] == [
        "Client calls twice a day",
        "Taken in hand.",
        "Batch replaced",
    ]
    with translation.override("ru"):  # nothing typed: said in the reader's language
        assert incident.updates.all()[1].text_said == "Взято в работу."
    with pytest.raises(IncidentMoved):
        incident_close(incident=incident, by=situation.owner, resolution="Again")


def test_an_incident_outside_the_mandate_or_with_no_description_is_refused(
    kam, account_of_kam, account_of_kam2, shell, situation
):
    with pytest.raises(NotInMandate):
        incident_declare(
            kam=kam, client_id=account_of_kam2.pk, situation=situation, description="x"
        )
    with pytest.raises(ValidationError):
        incident_declare(kam=kam, client_id=account_of_kam.pk, situation=situation, description="")
    assert not Incident.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_handlers_closing_at_once_leave_one_resolution(
    kam, chair, account_of_kam, shell, situation
):
    incident = incident_declare(
        kam=kam, client_id=account_of_kam.pk, situation=situation, description="Defects"
    )
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def act(user, text):
        try:
            barrier.wait()
            incident_close(incident=incident, by=user, resolution=text)
            outcomes.append("closed")
        except IncidentMoved:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=act, args=(chair, "By the chair")),
        threading.Thread(target=act, args=(situation.owner, "By the owner")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["closed", "refused"]
    assert incident.updates.count() == 1


def test_the_kam_declares_on_the_page_and_sees_it_on_my_mandate(
    client_as, kam, kam2, account_of_kam, shell, situation
):
    http = client_as(kam)
    form = http.get(reverse("governance:incident-new"))
    assert situation.procedure in form.text
    empty = http.post(
        reverse("governance:incident-new"),
        {"situation": situation.pk, "client": account_of_kam.pk, "description": ""},
    )
    assert "This field is required." in empty.text
    response = http.post(
        reverse("governance:incident-new"),
        {"situation": situation.pk, "client": account_of_kam.pk, "description": "Defects"},
        follow=True,
    )
    assert "Incident declared" in response.text
    incident = Incident.objects.get()
    assert response.request["PATH_INFO"] == incident.get_absolute_url()
    mine = http.get(reverse("governance:my-mandate")).text
    assert "Quality failure" in mine.split('data-testid="mandate-incidents"')[1]
    assert client_as(kam2).get(incident.get_absolute_url()).status_code == 404


def test_the_owner_sees_their_incidents_and_closes_one_on_its_page(
    client_as, kam, account_of_kam, shell, situation
):
    incident = incident_declare(
        kam=kam, client_id=account_of_kam.pk, situation=situation, description="Defects"
    )
    http = client_as(situation.owner)
    listing = http.get(reverse("governance:incident-list"))
    assert incident.get_absolute_url() in listing.text
    http.post(reverse("governance:incident-close", args=[incident.pk]), {"text": "Replaced"})
    page = http.get(incident.get_absolute_url())
    assert 'data-testid="resolution">Replaced' in page.text
    assert incident.get_absolute_url() not in http.get(reverse("governance:incident-list")).text
    closed = http.get(reverse("governance:incident-list") + "?state=closed")
    assert incident.get_absolute_url() in closed.text


# Budgets --------------------------------------------------------------------------------------


def test_the_committee_allocates_a_key_clients_budget_and_never_below_spent(
    client_as, kam, member, account_of_kam, shell
):
    Client.objects.filter(pk=account_of_kam.pk).update(is_key=True)
    account_of_kam.refresh_from_db()
    http = client_as(member)
    url = reverse("governance:budget-list")
    http.post(url, {"client": account_of_kam.pk, "period": TODAY.isoformat(), "allocated": "50000"})
    budget = Budget.objects.get()
    assert (budget.period, budget.allocated) == (quarter_start(TODAY), Decimal(50_000))
    budget_spend(
        kam=kam,
        budget=budget,
        amount=Decimal(8_000),
        category="travel",
        spent_on=TODAY,
        description="Visit",
    )
    refused = http.post(
        url, {"client": account_of_kam.pk, "period": TODAY.isoformat(), "allocated": "5000"}
    )
    assert "is spent already; allocate at least that." in refused.text
    budget.refresh_from_db()
    assert budget.allocated == Decimal(50_000)
    page = http.get(url)
    assert 'data-testid="remaining">42,000' in page.text or (
        'data-testid="remaining">42 000' in page.text
    )


def test_a_budget_goes_to_key_clients_only(account_of_kam2, member):
    with pytest.raises(ValidationError, match="key clients only"):
        budget_allocate(client=account_of_kam2, period=TODAY, allocated=Decimal(1), by=member)


def test_the_api_answers_what_the_state_of_things_refuses_409(
    kam, member, account_of_kam, account_of_kam2, shell, situation
):
    """Well-formed and permitted, refused because of how things stand: 409 with the reason and
    its field, coded ``state``; a request malformed besides is a 400 by field, as ever."""
    allocate = {"client": account_of_kam2.pk, "period": TODAY.isoformat(), "allocated": "100"}
    not_key = _api(member).post("/api/budgets/", allocate, format="json")
    assert not_key.status_code == 409
    assert not_key.json() == {
        "detail": "client: Budgets are allocated to key clients only.",
        "code": "state",
    }
    malformed = _api(member).post("/api/budgets/", {**allocate, "allocated": "-1"}, format="json")
    assert malformed.status_code == 400
    assert set(malformed.json()) == {"allocated"}

    Client.objects.filter(pk=account_of_kam.pk).update(is_key=True)
    budget = Budget.objects.create(
        client=account_of_kam, period=quarter_start(TODAY), allocated=Decimal(10_000)
    )
    budget_spend(
        kam=kam,
        budget=budget,
        amount=Decimal(8_000),
        category="travel",
        spent_on=TODAY,
        description="Visit",
    )
    below_spent = _api(member).post(
        "/api/budgets/", {**allocate, "client": account_of_kam.pk}, format="json"
    )
    assert below_spent.status_code == 409
    assert below_spent.json()["code"] == "state"
    assert below_spent.json()["detail"].startswith("allocated: ")
    budget.refresh_from_db()
    assert budget.allocated == Decimal(10_000)

    SituationType.objects.filter(pk=situation.pk).update(is_active=False)
    retired = _api(kam).post(
        "/api/incidents/",
        {"situation": situation.pk, "client": account_of_kam.pk, "description": "Defects"},
        format="json",
    )
    assert retired.status_code == 409
    assert retired.json() == {
        "detail": "situation: This situation is no longer in the playbook.",
        "code": "state",
    }
    assert not Incident.objects.exists()


def test_my_mandate_shows_how_much_of_each_accounts_budget_is_used(
    client_as, kam, member, account_of_kam, shell
):
    budget = Budget.objects.create(
        client=account_of_kam, period=quarter_start(TODAY), allocated=Decimal(30_000)
    )
    budget_spend(
        kam=kam,
        budget=budget,
        amount=Decimal(7_000),
        category="events",
        spent_on=TODAY,
        description="Seminar",
    )
    exception_decide(request=_small_exception(kam, account_of_kam), by=member, approve=True)
    page = client_as(kam).get(reverse("governance:my-mandate")).text
    used = page.split('data-testid="budget-used">')[1].split("</td>")[0]
    assert used.replace("\xa0", " ").replace(",", " ") in ("7 000 / 30 000",)
    assert page.split('data-testid="granted">')[1].startswith("1<")


# The API --------------------------------------------------------------------------------------


def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_the_api_files_decides_and_refuses_twice(kam, member, account_of_kam, shell):
    filed = _api(kam).post(
        "/api/exception-requests/",
        {"client": account_of_kam.pk, "discount_percent": "8", "justification": "Tender"},
        format="json",
    )
    assert filed.status_code == 201
    assert filed.json()["approver"] == "head_of_kam"
    pk = filed.json()["id"]
    within = _api(kam).post(
        "/api/exception-requests/",
        {"client": account_of_kam.pk, "discount_percent": "2", "justification": "x"},
        format="json",
    )
    assert within.status_code == 409
    assert within.json()["code"] == "state"
    assert "within your mandate" in within.json()["detail"]
    decided = _api(member).post(
        f"/api/exception-requests/{pk}/decide/", {"approve": True}, format="json"
    )
    assert decided.json()["state"] == "approved"
    again = _api(member).post(
        f"/api/exception-requests/{pk}/decide/", {"approve": False}, format="json"
    )
    assert again.status_code == 409
    assert _api(kam).post(f"/api/exception-requests/{pk}/withdraw/").status_code == 409


def test_the_api_narrows_a_kam_to_their_own_records(kam, kam2, account_of_kam, shell, situation):
    _small_exception(kam, account_of_kam)
    incident_declare(kam=kam, client_id=account_of_kam.pk, situation=situation, description="x")
    assert _api(kam).get("/api/exception-requests/").json()["count"] == 1
    assert _api(kam2).get("/api/exception-requests/").json()["count"] == 0
    assert _api(kam).get("/api/incidents/").json()["count"] == 1
    assert _api(kam2).get("/api/incidents/").json()["count"] == 0


def test_the_api_tracks_an_incident_to_closure(kam, account_of_kam, shell, situation):
    declared = _api(kam).post(
        "/api/incidents/",
        {"situation": situation.pk, "client": account_of_kam.pk, "description": "Defects"},
        format="json",
    )
    assert declared.status_code == 201
    pk = declared.json()["id"]
    owner = _api(situation.owner)
    assert owner.post(f"/api/incidents/{pk}/take/", {}, format="json").json()["state"] == (
        "in_hand"
    )
    blank = owner.post(f"/api/incidents/{pk}/close/", {"text": ""}, format="json")
    assert blank.status_code == 400
    closed = owner.post(f"/api/incidents/{pk}/close/", {"text": "Replaced"}, format="json")
    assert closed.json()["state"] == "closed"
    assert [u["text"] for u in closed.json()["updates"]] == ["Taken in hand.", "Replaced"]
    assert owner.post(f"/api/incidents/{pk}/close/", {"text": "x"}, format="json").status_code == (
        409
    )


def test_the_api_refuses_spending_past_the_threshold_without_an_exception(
    kam, account_of_kam, shell
):
    budget = Budget.objects.create(
        client=account_of_kam, period=quarter_start(TODAY), allocated=Decimal(100_000)
    )
    refused = _api(kam).post(
        "/api/spending/",
        {
            "budget": budget.pk,
            "amount": "20000",
            "category": "events",
            "spent_on": TODAY.isoformat(),
            "description": "Conference",
        },
        format="json",
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "state"
    assert "exception: Spending over" in refused.json()["detail"]
    assert "needs an exception approved" in refused.json()["detail"]
    assert not budget.spending.exists()


def test_my_mandate_costs_the_same_queries_for_two_accounts_or_eight(
    client_as, kam, member, account_of_kam, shell, situation
):

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client_as(kam).get(reverse("governance:my-mandate")).status_code == 200
        return len(captured)

    def add_accounts(count: int) -> None:
        for _ in range(count):
            client = ClientFactory(owner_kam=kam)
            MandateAccount.objects.create(mandate=shell, client=client)
            Budget.objects.create(client=client, period=quarter_start(TODAY), allocated=1000)
            incident_declare(kam=kam, client_id=client.pk, situation=situation, description="x")
            exception_decide(request=_small_exception(kam, client), by=member, approve=True)

    add_accounts(1)
    few = queries()
    add_accounts(6)
    assert queries() == few


# Drift of the shell ---------------------------------------------------------------------------


def test_the_drift_panel_shows_lapsed_mandates_missing_targets_and_late_incidents(
    client_as, chair, kam, account_of_kam, account_of_kam2, shell, situation
):

    Client.objects.filter(pk__in=[account_of_kam.pk, account_of_kam2.pk]).update(is_key=True)
    late = incident_declare(
        kam=kam, client_id=account_of_kam.pk, situation=situation, description="Defects"
    )
    Incident.objects.filter(pk=late.pk).update(respond_by=timezone.now() - datetime.timedelta(1))
    page = client_as(chair).get(reverse("governance:drift")).text

    outside = page.split('data-testid="outside-mandates"')[1].split("</ul>")[0]
    assert account_of_kam2.name in outside and account_of_kam.name not in outside
    assert str(shell) in page.split('data-testid="without-targets"')[1].split("</ul>")[0]
    assert "Quality failure" in page.split('data-testid="incidents-overdue"')[1]

    # Targets set: the mandate leaves that list.
    kpi = Kpi.objects.create(code="revenue", name="Revenue", unit="money", source="revenue")
    KpiTarget.objects.create(kpi=kpi, mandate=shell, period=quarter_start(TODAY), target=1)
    assert (
        'data-testid="without-targets"'
        not in client_as(chair).get(reverse("governance:drift")).text
    )
    # The mandate expired: its account falls outside any mandate.
    Mandate.objects.filter(pk=shell.pk).update(
        valid_from=TODAY - datetime.timedelta(days=90), valid_to=TODAY - datetime.timedelta(days=1)
    )
    page = client_as(chair).get(reverse("governance:drift")).text
    assert account_of_kam.name in page.split('data-testid="outside-mandates"')[1].split("</ul>")[0]


def test_the_api_shows_a_kam_their_mandate_with_its_limits_and_accounts(
    kam, kam2, director, account_of_kam, shell
):
    mine = _api(kam).get("/api/mandates/").json()
    assert mine["count"] == 1
    mandate = mine["results"][0]
    assert mandate["max_discount_percent"] == "5.00"
    assert [a["client"] for a in mandate["accounts"]] == [account_of_kam.pk]
    assert _api(kam2).get("/api/mandates/").json()["count"] == 0
    assert _api(kam2).get(f"/api/mandates/{shell.pk}/").status_code == 404
    assert _api(director).get(f"/api/mandates/{shell.pk}/").status_code == 200


def test_the_exceptions_page_costs_the_same_queries_for_two_requests_or_twenty(
    client_as, kam, member, account_of_kam, shell
):

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            page = client_as(member).get(reverse("governance:exception-list"))
        assert page.status_code == 200
        return len(captured)

    for _ in range(2):
        _small_exception(kam, account_of_kam)
    few = queries()
    for _ in range(18):
        _small_exception(kam, account_of_kam)
    assert queries() == few


def test_nobody_decides_their_own_exception_request_even_as_a_deputy(
    client_as, kam, member, account_of_kam, shell
):
    """A KAM named deputy of the head of KAM holds the tier of their own request: the service,
    the page and the API all refuse them, and the request waits for someone else."""
    # Written past the services (which refuse a deputy without a seat): even so, nothing.
    Absence.objects.create(user=member, starts_on=TODAY, ends_on=TODAY, deputy=kam)
    request = _small_exception(kam, account_of_kam)
    assert "head_of_kam" not in approver_roles_of(kam)
    assert not may_decide(user=kam, request=request)

    with pytest.raises(NotAllowed, match="own request"):
        exception_decide(request=request, by=kam, approve=True)
    page = client_as(kam).post(
        reverse("governance:exception-decide", args=[request.pk]), {"decision": "approve"}
    )
    api = client_as(kam).post(
        f"/api/exception-requests/{request.pk}/decide/",
        {"approve": True},
        content_type="application/json",
    )

    assert page.status_code == 403
    assert api.status_code in (403, 404)  # 404 where the deputy may not even list requests
    request.refresh_from_db()
    assert (request.state, request.decided_by) == (ExceptionState.PENDING, None)
