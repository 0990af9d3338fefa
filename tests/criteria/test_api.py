"""The ruler's REST API: who sees which evaluations, coverage, review items and fit ratings (the
committee, directors and the administrator everything; a KAM their own clients'); who changes
USPs, coverage and rulers; the adoption of a draft and the immutability of an adopted version;
starting a re-evaluation (queued after the commit, never sent to a broker here); the messages
users see; and list endpoints whose query count does not grow with the number of rows."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from criteria.api import ruler_draft_change
from criteria.evaluation import run_all_chunks, run_start
from criteria.models import (
    USP,
    CriterionKind,
    Evaluation,
    EvaluationRun,
    NeedCoverage,
    ReviewItem,
    ReviewKind,
    RulerCriterion,
    RulerStatus,
    RulerVersion,
    RunStatus,
    StrategicFitRating,
)
from criteria.selectors import scorecard_for
from criteria.services import RulerNotDraft, fit_rate, ruler_adopt
from tests.factories import (
    ClientFactory,
    FigureFactory,
    NeedFactory,
    UserFactory,
    USPFactory,
)
from tests.queries import SIGN_IN_QUERIES

pytestmark = pytest.mark.django_db

AS_OF = datetime.date(2026, 10, 1)  # figures of 2026 Q3 are the last completed quarter
ADOPTED_IS_IMMUTABLE = "An adopted ruler version cannot be changed; draft a new version."
COMMITTEE_AND_ADMIN = ["chair", "member", "administrator"]
READ_ONLY_ROLES = ["kam", "kam2", "director"]


@pytest.fixture
def ruler() -> RulerVersion:
    """In force: 75 % coverage, and a potential revenue of at least 1 000 000 as a gate."""
    ruler = RulerVersion.objects.create(
        number=1, title="Ruler 2026", status=RulerStatus.IN_FORCE, adopted_at=timezone.now()
    )
    RulerCriterion.objects.create(
        ruler=ruler,
        kind=CriterionKind.POTENTIAL_REVENUE,
        threshold=Decimal(1_000_000),
        is_gate=True,
    )
    return ruler


@pytest.fixture
def delivery() -> USP:
    return USPFactory(name="24-hour delivery")


@pytest.fixture
def evaluated(ruler, delivery, account_of_kam, account_of_kam2, shared_account) -> EvaluationRun:
    """A finished run over three accounts.

    kam's: needs of weight 6 (met by a USP) and 4 (not met), 60 % covered, fails.
    kam2's: one need fully met but no figures, so the gate on potential revenue fails.
    The shared one: no needs at all, it cannot be scored.
    """
    met = NeedFactory(client=account_of_kam, name="Fast delivery", weight=6)
    NeedFactory(client=account_of_kam, name="On-site engineer", weight=4)
    NeedCoverage.objects.create(need=met, usp=delivery, degree=Decimal(1))
    FigureFactory(client=account_of_kam, period=datetime.date(2026, 7, 1))
    full = NeedFactory(client=account_of_kam2, name="Deferred payment", weight=5)
    NeedCoverage.objects.create(need=full, usp=delivery, degree=Decimal(1))
    return run_all_chunks(run=run_start(as_of=AS_OF))


@pytest.fixture
def queued(monkeypatch) -> list[tuple[object, ...]]:
    """What would be sent to the broker: nothing leaves the test."""
    sent: list[tuple[object, ...]] = []
    monkeypatch.setattr("criteria.tasks.reevaluate_all.delay", lambda *args: sent.append(args))
    return sent


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def post(http: HttpClient, path: str, data: dict[str, object] | None = None):
    return http.post(path, data or {}, content_type="application/json")


def patch(http: HttpClient, path: str, data: dict[str, object]):
    return http.patch(path, data, content_type="application/json")


def put(http: HttpClient, path: str, data: dict[str, object]):
    return http.put(path, data, content_type="application/json")


# --- Evaluations: who sees what --------------------------------------------------------------


def test_a_kam_sees_evaluations_of_own_and_team_accounts_only(
    client_as, kam, kam2, evaluated, account_of_kam, account_of_kam2, shared_account
):
    def clients(user: User) -> set[int]:
        rows = client_as(user).get("/api/evaluations/").json()["results"]
        return {row["client"] for row in rows}

    assert clients(kam) == {account_of_kam.pk, shared_account.pk}
    assert clients(kam2) == {account_of_kam2.pk, shared_account.pk}


@pytest.mark.parametrize("role", ["chair", "member", "director", "administrator"])
def test_committee_directors_and_administrator_see_every_evaluation(
    client_as, cast, role, evaluated
):
    assert ids(client_as(cast[role]).get("/api/evaluations/")) == set(
        Evaluation.objects.values_list("pk", flat=True)
    )


def test_another_kams_evaluation_is_a_404_like_a_missing_one(
    client_as, kam, evaluated, account_of_kam2
):
    other = Evaluation.objects.get(client=account_of_kam2)
    http = client_as(kam)

    foreign = http.get(f"/api/evaluations/{other.pk}/")
    absent = http.get(f"/api/evaluations/{other.pk + 1000}/")

    assert foreign.status_code == absent.status_code == 404
    assert foreign.json() == absent.json()


def test_someone_without_a_role_sees_nothing_of_the_ruler(client_as, outsider, evaluated):
    http = client_as(outsider)
    for path in (
        "/api/usps/",
        "/api/coverages/",
        "/api/rulers/",
        "/api/evaluations/",
        "/api/runs/",
        "/api/review-items/",
        "/api/fit-ratings/",
    ):
        response = http.get(path)
        assert response.status_code == 403, path
        assert "results" not in response.json()


def test_an_evaluation_explains_its_verdict_in_plain_words(
    client_as, kam, evaluated, account_of_kam
):
    evaluation = Evaluation.objects.get(client=account_of_kam)

    body = client_as(kam).get(f"/api/evaluations/{evaluation.pk}/").json()

    assert body["explanation"] == (
        "Does not meet the ruler: covered 60.0 % of 75.0 %; unmet: On-site engineer (weight 4)."
    )
    assert body["explanation"] == scorecard_for(evaluation).verdict_text()
    assert body["coverage_ratio"] == "0.600000"
    assert body["meets_ruler"] is False
    assert body["was_key"] is False
    assert body["score"] is None
    assert body["potential_revenue"] == "5000000.00"
    assert body["criteria"] == [
        {
            "kind": "potential_revenue",
            "label": "Potential revenue over the horizon at least 1,000,000",
            "is_gate": True,
            "weight": 1,
            "value": "5000000.00",
            "passed": True,
        }
    ]
    needs = dict(account_of_kam.needs.values_list("name", "pk"))
    assert sorted(body["breakdown"], key=lambda row: row["name"]) == [
        {
            "need": needs["Fast delivery"],
            "name": "Fast delivery",
            "weight": 6,
            "degree": "1.000",
            "usps": [USP.objects.get().pk],
        },
        {
            "need": needs["On-site engineer"],
            "name": "On-site engineer",
            "weight": 4,
            "degree": "0.000",
            "usps": [],
        },
    ]


def test_a_failed_gate_and_a_client_without_needs_are_explained(
    client_as, chair, evaluated, account_of_kam2, shared_account
):
    http = client_as(chair)
    gated = Evaluation.objects.get(client=account_of_kam2)
    bare = Evaluation.objects.get(client=shared_account)

    gated_body = http.get(f"/api/evaluations/{gated.pk}/").json()
    bare_body = http.get(f"/api/evaluations/{bare.pk}/").json()

    assert gated_body["explanation"] == (
        "Does not meet the ruler: gate not passed: "
        "Potential revenue over the horizon at least 1,000,000."
    )
    assert gated_body["criteria"][0]["passed"] is False
    assert gated_body["criteria"][0]["value"] is None
    assert bare_body["explanation"] == (
        "Cannot be scored: no needs with a weight are recorded for this client."
    )
    assert bare_body["coverage_ratio"] is None


def test_the_list_carries_the_figures_but_not_the_explanation(client_as, chair, evaluated):
    row = client_as(chair).get("/api/evaluations/").json()["results"][0]

    assert "explanation" not in row
    assert {"coverage_ratio", "score", "meets_ruler", "was_key", "breakdown", "revenue_4q"} <= set(
        row
    )


def test_evaluations_are_filtered_by_client_run_and_verdict(
    client_as, chair, evaluated, account_of_kam, delivery
):
    # A second run, after which kam's client meets the ruler: the on-site engineer is covered.
    engineer = account_of_kam.needs.get(name="On-site engineer")
    NeedCoverage.objects.create(need=engineer, usp=delivery, degree=Decimal(1))
    second = run_all_chunks(run=run_start(as_of=AS_OF))
    http = client_as(chair)

    of_client = http.get("/api/evaluations/", {"client": account_of_kam.pk}).json()["results"]
    of_run = ids(http.get("/api/evaluations/", {"run": evaluated.pk}))
    meeting = http.get("/api/evaluations/", {"meets_ruler": "true"}).json()["results"]

    assert [row["run"] for row in of_client] == [second.pk, evaluated.pk]
    assert [row["meets_ruler"] for row in of_client] == [True, False]
    assert of_run == set(evaluated.evaluations.values_list("pk", flat=True))
    assert [(row["client"], row["run"]) for row in meeting] == [(account_of_kam.pk, second.pk)]


def test_filtering_by_another_kams_client_is_refused_like_a_missing_client(
    client_as, kam, evaluated, account_of_kam2
):
    http = client_as(kam)
    for path in ("/api/evaluations/", "/api/coverages/"):
        other = http.get(path, {"client": account_of_kam2.pk})
        absent = http.get(path, {"client": account_of_kam2.pk + 1000})
        assert other.status_code == absent.status_code == 404
        assert other.json()["detail"] == f"No client {account_of_kam2.pk} among those you may see."


# --- USPs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["chair", "member", "kam", "kam2", "director", "administrator"])
def test_every_role_reads_the_usps(client_as, cast, role, delivery):
    assert ids(client_as(cast[role]).get("/api/usps/")) == {delivery.pk}


def test_the_administrator_creates_and_retires_a_usp(client_as, administrator):
    http = client_as(administrator)

    created = post(http, "/api/usps/", {"name": "On-site engineer", "since": "2024-01-01"})
    retired = patch(http, f"/api/usps/{created.json()['id']}/", {"retired_on": "2026-06-30"})

    assert created.status_code == 201
    assert created.json()["is_active"] is True
    assert retired.status_code == 200
    assert retired.json()["is_active"] is False
    assert USP.objects.get().retired_on == datetime.date(2026, 6, 30)


@pytest.mark.parametrize("role", ["chair", "member", "kam", "director"])
def test_only_the_administrator_keeps_the_usps(client_as, cast, role, delivery):
    http = client_as(cast[role])

    assert post(http, "/api/usps/", {"name": "X", "since": "2024-01-01"}).status_code == 403
    assert patch(http, f"/api/usps/{delivery.pk}/", {"name": "Y"}).status_code == 403
    assert list(USP.objects.values_list("name", flat=True)) == ["24-hour delivery"]


@pytest.mark.parametrize("role", ["administrator", "chair", "kam"])
def test_a_usp_is_retired_never_deleted(client_as, cast, role, delivery):
    response = client_as(cast[role]).delete(f"/api/usps/{delivery.pk}/")

    assert response.status_code == 405
    assert response.json() == {
        "detail": "A USP is retired, never deleted: set its retired_on date instead."
    }
    assert USP.objects.filter(pk=delivery.pk).exists()


def test_a_usp_name_taken_is_a_409(client_as, administrator, delivery):
    response = post(
        client_as(administrator), "/api/usps/", {"name": "24-hour delivery", "since": "2024-01-01"}
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": "name: USP with this name already exists.",
        "code": "unique",
    }
    assert USP.objects.count() == 1


def test_a_usp_is_not_retired_before_it_was_offered(client_as, administrator, delivery):
    http = client_as(administrator)
    # Both dates in the body: the body breaks the rule.
    response = patch(
        http, f"/api/usps/{delivery.pk}/", {"since": "2020-01-01", "retired_on": "2019-12-31"}
    )
    assert response.status_code == 400
    assert response.json() == {"retired_on": ["A USP cannot be retired before it was offered."]}
    # Only the retirement sent, before the stored date it was offered: the USP's state refuses it.
    response = patch(http, f"/api/usps/{delivery.pk}/", {"retired_on": "2019-12-31"})
    assert response.status_code == 409
    assert response.json() == {
        "detail": "retired_on: A USP cannot be retired before it was offered.",
        "code": "state",
    }
    delivery.refresh_from_db()
    assert delivery.retired_on is None


# --- Coverage --------------------------------------------------------------------------------


def test_a_kam_sees_coverage_of_own_accounts_only(
    client_as, kam, chair, delivery, account_of_kam, account_of_kam2, shared_account
):
    own = NeedCoverage.objects.create(
        need=NeedFactory(client=account_of_kam), usp=delivery, degree=1
    )
    team = NeedCoverage.objects.create(
        need=NeedFactory(client=shared_account), usp=delivery, degree="0.5"
    )
    other = NeedCoverage.objects.create(
        need=NeedFactory(client=account_of_kam2), usp=delivery, degree=1
    )

    assert ids(client_as(kam).get("/api/coverages/")) == {own.pk, team.pk}
    assert client_as(kam).get(f"/api/coverages/{other.pk}/").status_code == 404
    assert ids(client_as(chair).get("/api/coverages/")) == {own.pk, team.pk, other.pk}


def test_coverage_is_filtered_by_client_and_need(
    client_as, chair, delivery, account_of_kam, account_of_kam2
):
    need = NeedFactory(client=account_of_kam)
    wanted = NeedCoverage.objects.create(need=need, usp=delivery, degree=1)
    other_need = NeedCoverage.objects.create(
        need=NeedFactory(client=account_of_kam), usp=delivery, degree=1
    )
    NeedCoverage.objects.create(need=NeedFactory(client=account_of_kam2), usp=delivery, degree=1)
    http = client_as(chair)

    assert ids(http.get("/api/coverages/", {"need": need.pk})) == {wanted.pk}
    assert ids(http.get("/api/coverages/", {"client": account_of_kam.pk})) == {
        wanted.pk,
        other_need.pk,
    }


@pytest.mark.parametrize("role", COMMITTEE_AND_ADMIN)
def test_the_committee_and_administrator_keep_coverage(
    client_as, cast, role, delivery, account_of_kam
):
    need = NeedFactory(client=account_of_kam, name="Fast delivery")
    http = client_as(cast[role])

    created = post(http, "/api/coverages/", {"need": need.pk, "usp": delivery.pk, "degree": "0.5"})
    path = f"/api/coverages/{created.json()['id']}/"
    changed = patch(http, path, {"degree": "1"})

    assert created.status_code == 201
    assert created.json() | {"id": 0, "updated_at": ""} == {
        "id": 0,
        "client": account_of_kam.pk,
        "need": need.pk,
        "need_name": "Fast delivery",
        "usp": delivery.pk,
        "usp_name": "24-hour delivery",
        "degree": "0.500",
        "updated_at": "",
    }
    assert changed.status_code == 200
    assert NeedCoverage.objects.get().degree == 1
    assert http.delete(path).status_code == 204
    assert not NeedCoverage.objects.exists()


@pytest.mark.parametrize("role", READ_ONLY_ROLES)
def test_kams_and_directors_change_no_coverage(client_as, cast, role, delivery, account_of_kam):
    need = NeedFactory(client=account_of_kam)
    coverage = NeedCoverage.objects.create(need=need, usp=delivery, degree="0.5")
    other_usp = USPFactory()
    http = client_as(cast[role])

    created = post(http, "/api/coverages/", {"need": need.pk, "usp": other_usp.pk, "degree": 1})
    changed = patch(http, f"/api/coverages/{coverage.pk}/", {"degree": "1"})
    deleted = http.delete(f"/api/coverages/{coverage.pk}/")

    assert (created.status_code, changed.status_code, deleted.status_code) == (403, 403, 403)
    assert list(NeedCoverage.objects.values_list("degree", flat=True)) == [Decimal("0.5")]


@pytest.mark.parametrize("degree", ["1.5", "-0.1"])
def test_a_degree_is_a_share_from_zero_to_one(client_as, chair, delivery, account_of_kam, degree):
    need = NeedFactory(client=account_of_kam)
    response = post(
        client_as(chair), "/api/coverages/", {"need": need.pk, "usp": delivery.pk, "degree": degree}
    )
    assert response.status_code == 400
    assert response.json() == {"degree": ["A degree is a share from 0 to 1."]}
    assert not NeedCoverage.objects.exists()


def test_a_usp_covers_a_need_once(client_as, chair, delivery, account_of_kam):
    need = NeedFactory(client=account_of_kam)
    NeedCoverage.objects.create(need=need, usp=delivery, degree="0.5")

    response = post(
        client_as(chair), "/api/coverages/", {"need": need.pk, "usp": delivery.pk, "degree": "1"}
    )

    assert response.status_code == 409
    assert response.json() == {
        "detail": "This USP already covers this need: change that coverage instead.",
        "code": "unique",
    }
    assert NeedCoverage.objects.get().degree == Decimal("0.5")


def test_a_retired_usp_covers_no_new_need(client_as, chair, account_of_kam):
    retired = USPFactory(retired_on=datetime.date(2025, 12, 31))
    need = NeedFactory(client=account_of_kam)

    response = post(
        client_as(chair), "/api/coverages/", {"need": need.pk, "usp": retired.pk, "degree": "1"}
    )

    assert response.status_code == 404
    assert response.json() == {
        "detail": f"usp: USP {retired.pk} does not exist or has been retired."
    }


def test_coverage_is_written_only_for_needs_of_visible_clients(
    client_as, delivery, account_of_kam, account_of_kam2
):
    """A KAM who was also given the right to keep coverage keeps it for own accounts only."""
    keeper = UserFactory(username="keeper", role="kam")
    account_of_kam.owner_kam = keeper
    account_of_kam.save()
    keeper.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_needcoverage", "change_needcoverage"])
    )
    own = NeedFactory(client=account_of_kam)
    foreign = NeedFactory(client=account_of_kam2)
    http = client_as(keeper)

    allowed = post(http, "/api/coverages/", {"need": own.pk, "usp": delivery.pk, "degree": "1"})
    refused = post(http, "/api/coverages/", {"need": foreign.pk, "usp": delivery.pk, "degree": 1})

    assert allowed.status_code == 201
    assert refused.status_code == 404
    assert refused.json() == {
        "detail": f"need: Need {foreign.pk} does not exist or belongs to an account you may not "
        "work on."
    }
    assert list(NeedCoverage.objects.values_list("need_id", flat=True)) == [own.pk]


# --- Rulers ----------------------------------------------------------------------------------

CRITERIA = [
    {
        "kind": "potential_revenue",
        "direction": "at_least",
        "threshold": "1000000.00",
        "is_gate": True,
    },
    {"kind": "strategic_fit", "threshold": "4", "weight": 2},
]


@pytest.mark.parametrize("role", ["chair", "member", "kam", "kam2", "director", "administrator"])
def test_every_role_with_the_ruler_reads_its_versions(client_as, cast, role, ruler):
    body = client_as(cast[role]).get(f"/api/rulers/{ruler.pk}/").json()

    assert body["status"] == "in_force"
    assert [c["kind"] for c in body["criteria"]] == ["potential_revenue"]
    assert body["criteria"][0]["label"] == "Potential revenue over the horizon at least 1,000,000"


@pytest.mark.parametrize("role", COMMITTEE_AND_ADMIN)
def test_the_committee_and_administrator_draft_a_version_with_criteria(
    client_as, cast, role, ruler
):
    response = post(
        client_as(cast[role]),
        "/api/rulers/",
        {"title": "Ruler 2027", "coverage_threshold": "0.8", "criteria": CRITERIA},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["number"], body["status"], body["coverage_threshold"]) == (2, "draft", "0.8000")
    assert {(c["kind"], c["threshold"], c["is_gate"], c["weight"]) for c in body["criteria"]} == {
        ("potential_revenue", "1000000.00", True, 1),
        ("strategic_fit", "4.00", False, 2),
    }
    assert "based_on" not in body
    assert RulerVersion.objects.get(status=RulerStatus.IN_FORCE) == ruler


def test_a_draft_based_on_a_version_copies_its_settings_and_criteria(client_as, chair, ruler):
    RulerVersion.objects.filter(pk=ruler.pk).update(horizon_months=24)

    body = post(
        client_as(chair), "/api/rulers/", {"title": "Ruler 2027", "based_on": ruler.pk}
    ).json()

    assert body["horizon_months"] == 24
    assert [(c["kind"], c["threshold"]) for c in body["criteria"]] == [
        ("potential_revenue", "1000000.00")
    ]
    assert RulerCriterion.objects.filter(ruler_id=body["id"]).count() == 1
    assert ruler.criteria.count() == 1


@pytest.mark.parametrize("role", READ_ONLY_ROLES)
def test_kams_and_directors_draft_and_change_no_ruler(client_as, cast, role, ruler):
    draft = RulerVersion.objects.create(number=2, title="Draft")
    http = client_as(cast[role])

    assert post(http, "/api/rulers/", {"title": "Mine"}).status_code == 403
    assert patch(http, f"/api/rulers/{draft.pk}/", {"title": "Mine"}).status_code == 403
    assert list(RulerVersion.objects.values_list("typed_title", flat=True)) == [
        "Draft",
        "Ruler 2026",
    ]


def test_a_draft_is_changed_and_its_criteria_replaced(client_as, chair, ruler):
    draft = post(client_as(chair), "/api/rulers/", {"title": "Ruler 2027", "based_on": ruler.pk})
    path = f"/api/rulers/{draft.json()['id']}/"
    http = client_as(chair)

    titled = patch(http, path, {"title": "Ruler 2027, second reading"})
    replaced = patch(http, path, {"criteria": CRITERIA[1:]})

    assert titled.status_code == 200
    assert [c["kind"] for c in titled.json()["criteria"]] == ["potential_revenue"]
    assert replaced.status_code == 200
    assert replaced.json()["title"] == "Ruler 2027, second reading"
    assert [c["kind"] for c in replaced.json()["criteria"]] == ["strategic_fit"]
    assert RulerCriterion.objects.filter(ruler_id=draft.json()["id"]).count() == 1


def test_a_ruler_is_sent_as_json_only(client_as, chair):
    """A form cannot carry the nested criteria: a form-encoded draft is refused (415), not
    created without them; the schema offers JSON only."""
    http = client_as(chair)
    form = http.post("/api/rulers/", {"title": "By form", "criteria": [CRITERIA[1]]})
    schema = http.get("/api/schema/", {"format": "json"}).json()

    assert form.status_code == 415
    assert not RulerVersion.objects.exists()
    for path, method in (("/api/rulers/", "post"), ("/api/rulers/{id}/", "patch")):
        assert list(schema["paths"][path][method]["requestBody"]["content"]) == ["application/json"]


def test_a_criterion_appears_once_per_version(client_as, chair):
    response = post(
        client_as(chair),
        "/api/rulers/",
        {"title": "Twice", "criteria": [CRITERIA[1], {**CRITERIA[1], "threshold": "3"}]},
    )
    assert response.status_code == 400
    # On the item that repeats the kind.
    assert response.json() == {
        "criteria": [
            {},
            {"kind": ["Each kind of criterion can appear only once in a ruler version."]},
        ]
    }
    assert not RulerVersion.objects.exists()


def test_a_ruler_version_is_checked_like_the_model(client_as, chair):
    response = post(
        client_as(chair),
        "/api/rulers/",
        {
            "title": "Bad",
            "coverage_threshold": "1.5",
            "criteria": [{"kind": "nonsense", "threshold": "1"}],
        },
    )
    assert response.status_code == 400
    assert set(response.json()) == {"coverage_threshold", "criteria"}
    assert not RulerVersion.objects.exists()


def test_a_draft_cannot_be_based_on_another_after_it_was_created(client_as, chair, ruler):
    draft = RulerVersion.objects.create(number=2, title="Draft")
    response = patch(client_as(chair), f"/api/rulers/{draft.pk}/", {"based_on": ruler.pk})
    assert response.status_code == 400
    assert response.json() == {
        "based_on": ["A version can only be based on another when it is created."]
    }


@pytest.mark.parametrize("status", [RulerStatus.IN_FORCE, RulerStatus.SUPERSEDED])
def test_an_adopted_version_cannot_be_changed(client_as, administrator, ruler, status):
    RulerVersion.objects.filter(pk=ruler.pk).update(status=status)
    http = client_as(administrator)
    path = f"/api/rulers/{ruler.pk}/"

    patched = patch(http, path, {"title": "Rewritten", "criteria": []})
    replaced = put(http, path, {"title": "Rewritten", "criteria": []})

    for response in (patched, replaced):
        assert response.status_code == 409
        assert response.json() == {"detail": ADOPTED_IS_IMMUTABLE, "code": "state"}
    ruler.refresh_from_db()
    assert ruler.title == "Ruler 2026"
    assert ruler.criteria.count() == 1


def test_a_draft_adopted_while_a_change_was_on_its_way_is_not_changed(administrator, ruler):
    """The change checks the status again under a row lock, after the request's first look."""
    seen_as_draft = RulerVersion.objects.create(number=2, title="Ruler 2027")
    ruler_adopt(ruler=seen_as_draft, by=administrator)

    with pytest.raises(RulerNotDraft):
        ruler_draft_change(ruler=seen_as_draft, changes={"title": "Late"}, criteria=[])

    assert RulerVersion.objects.get(number=2).title == "Ruler 2027"


@pytest.mark.parametrize("role", ["chair", "member", "kam", "director", "administrator"])
def test_nobody_puts_a_ruler_in_force_through_the_api(client_as, cast, role, ruler):
    """Only the committee's decision puts a version in force: the API has no way to do it."""
    draft = RulerVersion.objects.create(number=2, title="Ruler 2027")
    http = client_as(cast[role])

    adopt = post(http, f"/api/rulers/{draft.pk}/adopt/")
    status = patch(http, f"/api/rulers/{draft.pk}/", {"status": "in_force"})

    assert adopt.status_code == 404
    assert status.status_code in (200, 403)  # status is read-only: ignored, or not theirs
    assert RulerVersion.objects.get(status=RulerStatus.IN_FORCE) == ruler
    assert RulerVersion.objects.get(pk=draft.pk).status == RulerStatus.DRAFT


# --- Runs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", COMMITTEE_AND_ADMIN)
def test_starting_a_run_queues_the_re_evaluation_after_the_commit(
    client_as, cast, role, ruler, queued, django_capture_on_commit_callbacks
):
    user = cast[role]
    http = client_as(user)  # signing in is not what is watched here
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(http, "/api/runs/")
        assert queued == []  # not before the run is committed

    assert response.status_code == 201
    run = EvaluationRun.objects.get()
    assert response.json()["id"] == run.pk
    assert (run.status, run.requested_by, run.ruler) == (RunStatus.PENDING, user, ruler)
    assert response.json()["progress_percent"] == 0
    assert len(callbacks) == 1
    callbacks[0]()
    assert queued == [(user.pk,)]


def test_starting_a_run_while_one_is_in_progress_answers_with_that_run(
    client_as, chair, member, ruler, queued, django_capture_on_commit_callbacks
):
    running = run_start(as_of=AS_OF)
    http = client_as(member)  # signing in is not what is watched here
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post(http, "/api/runs/")

    assert response.status_code == 200
    assert response.json()["id"] == running.pk
    assert EvaluationRun.objects.count() == 1
    assert callbacks == []
    assert queued == []


def test_no_run_starts_without_a_ruler_in_force(
    client_as, administrator, queued, django_capture_on_commit_callbacks
):
    RulerVersion.objects.create(number=1, title="Only a draft")
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client_as(administrator), "/api/runs/")

    assert response.status_code == 409
    assert response.json() == {
        "detail": "No ruler version is in force yet: adopt one first.",
        "code": "state",
    }
    assert not EvaluationRun.objects.exists()
    assert queued == []


@pytest.mark.parametrize("role", READ_ONLY_ROLES)
def test_kams_and_directors_start_no_run(client_as, cast, role, ruler, queued):
    assert post(client_as(cast[role]), "/api/runs/").status_code == 403
    assert not EvaluationRun.objects.exists()


def test_a_run_shows_its_progress_and_duration(client_as, director, evaluated):
    EvaluationRun.objects.filter(pk=evaluated.pk).update(
        started_at=datetime.datetime(2026, 10, 1, 2, 0, tzinfo=datetime.UTC),
        finished_at=datetime.datetime(2026, 10, 1, 2, 1, 30, tzinfo=datetime.UTC),
    )

    body = client_as(director).get(f"/api/runs/{evaluated.pk}/").json()

    assert body["status"] == "done"
    assert body["progress_percent"] == 100
    assert body["clients_evaluated"] == 3
    assert body["verdict_changes"] == 0
    assert body["duration_seconds"] == 90.0
    assert body["ruler_number"] == 1


@pytest.mark.parametrize("role", ["kam", "kam2"])
def test_kams_see_no_runs(client_as, cast, role, evaluated):
    assert client_as(cast[role]).get("/api/runs/").status_code == 403
    assert client_as(cast[role]).get(f"/api/runs/{evaluated.pk}/").status_code == 403


# --- Review items ----------------------------------------------------------------------------


@pytest.fixture
def review_items(evaluated, account_of_kam, account_of_kam2) -> dict[str, ReviewItem]:
    now = timezone.now()
    return {
        "open": ReviewItem.objects.create(
            client=account_of_kam,
            kind=ReviewKind.KEY_BUT_FAILS,
            opened_by_run=evaluated,
            opened_at=now,
        ),
        "closed": ReviewItem.objects.create(
            client=account_of_kam2,
            kind=ReviewKind.MEETS_BUT_NOT_KEY,
            opened_by_run=evaluated,
            opened_at=now - datetime.timedelta(days=30),
            closed_at=now,
        ),
    }


def test_review_items_are_the_open_ones_unless_asked(client_as, chair, review_items):
    http = client_as(chair)
    open_item, closed_item = review_items["open"].pk, review_items["closed"].pk

    assert ids(http.get("/api/review-items/")) == {open_item}
    assert ids(http.get("/api/review-items/", {"state": "open"})) == {open_item}
    assert ids(http.get("/api/review-items/", {"state": "closed"})) == {closed_item}
    assert ids(http.get("/api/review-items/", {"state": "all"})) == {open_item, closed_item}
    # A closed item still opens by its id.
    closed = http.get(f"/api/review-items/{closed_item}/").json()
    assert (closed["is_open"], closed["kind_label"]) == (
        False,
        "Meets the ruler but is not a key client",
    )


def test_a_nonsense_state_is_refused(client_as, chair, review_items):
    response = client_as(chair).get("/api/review-items/", {"state": "nonsense"})
    assert response.status_code == 400
    assert set(response.json()) == {"state"}


@pytest.mark.parametrize(("role", "status"), [("director", 200), ("kam", 403), ("kam2", 403)])
def test_review_items_are_the_committees_and_directors(client_as, cast, role, status, review_items):
    assert client_as(cast[role]).get("/api/review-items/").status_code == status


def test_review_items_follow_the_clients_a_user_sees(
    client_as, review_items, account_of_kam, account_of_kam2
):
    """A role given the right to see review items sees those of its own accounts only."""
    reader = UserFactory(username="reader", role="kam")
    reader.user_permissions.add(Permission.objects.get(codename="view_reviewitem"))
    account_of_kam2.owner_kam = reader
    account_of_kam2.save()

    response = client_as(reader).get("/api/review-items/", {"state": "all"})

    assert ids(response) == {review_items["closed"].pk}
    assert client_as(reader).get(f"/api/review-items/{review_items['open'].pk}/").status_code == 404


# --- Fit ratings -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", COMMITTEE_AND_ADMIN)
def test_the_committee_rates_strategic_fit(client_as, cast, role, account_of_kam):
    response = post(
        client_as(cast[role]),
        "/api/fit-ratings/",
        {"client": account_of_kam.pk, "rating": 4, "comment": "Core of the steel strategy."},
    )

    assert response.status_code == 201
    assert response.json()["rated_by"] == cast[role].pk
    rating = StrategicFitRating.objects.get()
    assert (rating.client, rating.rating, rating.rated_by) == (account_of_kam, 4, cast[role])


@pytest.mark.parametrize("rating", [0, 6])
def test_a_rating_is_from_one_to_five(client_as, chair, account_of_kam, rating):
    response = post(
        client_as(chair), "/api/fit-ratings/", {"client": account_of_kam.pk, "rating": rating}
    )
    assert response.status_code == 400
    assert response.json() == {"rating": ["A rating is a whole number from 1 to 5."]}
    assert not StrategicFitRating.objects.exists()


def test_a_rating_names_an_existing_client(client_as, chair, account_of_kam):
    missing = account_of_kam.pk + 1000
    response = post(client_as(chair), "/api/fit-ratings/", {"client": missing, "rating": 3})
    assert response.status_code == 404
    assert response.json() == {
        "detail": f"client: Client {missing} does not exist or is not one of the accounts you may "
        "work on."
    }


@pytest.mark.parametrize("role", READ_ONLY_ROLES)
def test_kams_and_directors_rate_nothing(client_as, cast, role, account_of_kam):
    response = post(
        client_as(cast[role]), "/api/fit-ratings/", {"client": account_of_kam.pk, "rating": 5}
    )
    assert response.status_code == 403
    assert not StrategicFitRating.objects.exists()


def test_fit_ratings_are_listed_and_filtered_by_client(
    client_as, chair, director, account_of_kam, account_of_kam2
):
    own = fit_rate(client=account_of_kam, rating=4, by=chair)
    fit_rate(client=account_of_kam2, rating=2, by=chair)

    assert len(ids(client_as(director).get("/api/fit-ratings/"))) == 2
    assert ids(client_as(director).get("/api/fit-ratings/", {"client": account_of_kam.pk})) == {
        own.pk
    }
    assert client_as(chair).get(f"/api/fit-ratings/{own.pk}/").json()["rated_by_name"] == str(chair)


# --- Odd query strings -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/usps/?search=%00&ordering=nonsense&page=abc",
        "/api/coverages/?client=abc&need=abc&usp=abc&ordering=nonsense",
        "/api/rulers/?status=nonsense&page=999",
        "/api/evaluations/?client=abc&run=abc&meets_ruler=maybe&ordering=-nonsense",
        "/api/runs/?status=nonsense",
        "/api/review-items/?state=&client=abc&kind=nonsense",
        "/api/fit-ratings/?client=abc",
    ],
)
@pytest.mark.parametrize("role", ["chair", "kam"])
def test_odd_query_strings_are_refused_not_a_server_error(client_as, cast, role, url, evaluated):
    status = client_as(cast[role]).get(url).status_code
    assert status < 500


# --- Query counts ----------------------------------------------------------------------------


def add_rows(count: int, kam: User, ruler: RulerVersion, usp: USP) -> None:
    """``count`` of each: accounts of kam, each with a covered need, an evaluation, an open
    review item and a fit rating; finished runs; superseded ruler versions with a criterion;
    USPs."""
    runs = EvaluationRun.objects.bulk_create(
        EvaluationRun(ruler=ruler, as_of=AS_OF, status=RunStatus.DONE, in_progress=None)
        for _ in range(count)
    )
    now = timezone.now()
    clients = ClientFactory.create_batch(count, owner_kam=kam)
    for client in clients:
        NeedCoverage.objects.create(need=NeedFactory(client=client), usp=usp, degree=1)
        StrategicFitRating.objects.create(client=client, rating=3, rated_by=kam)
    Evaluation.objects.bulk_create(
        Evaluation(
            run=runs[0],
            client=client,
            ruler=ruler,
            meets_ruler=False,
            was_key=True,
            created_at=now,
            breakdown=[[1, "Need", 5, 1, [usp.pk]]],
        )
        for client in clients
    )
    ReviewItem.objects.bulk_create(
        ReviewItem(
            client=client, kind=ReviewKind.KEY_BUT_FAILS, opened_by_run=runs[0], opened_at=now
        )
        for client in clients
    )
    first = RulerVersion.objects.order_by("-number").values_list("number", flat=True)[0] + 1
    versions = RulerVersion.objects.bulk_create(
        RulerVersion(number=first + n, title=f"Old {n}", status=RulerStatus.SUPERSEDED)
        for n in range(count)
    )
    RulerCriterion.objects.bulk_create(
        RulerCriterion(ruler=version, kind=CriterionKind.REVENUE_4Q, threshold=1)
        for version in versions
    )
    USPFactory.create_batch(count)


# Queries per list, however many rows: signing in (``SIGN_IN_QUERIES``) comes first; then each
# endpoint's count and page. Rulers add the prefetch of their criteria. (``before``: the rows
# there are before any are added: the ruler in force, the USP it was given.)
@pytest.mark.parametrize(
    ("path", "role", "before", "queries"),
    [
        ("/api/usps/", "chair", 1, SIGN_IN_QUERIES + 2),
        ("/api/coverages/", "chair", 0, SIGN_IN_QUERIES + 2),
        ("/api/coverages/", "kam", 0, SIGN_IN_QUERIES + 2),
        ("/api/rulers/", "chair", 1, SIGN_IN_QUERIES + 2 + 1),
        ("/api/rulers/", "kam", 1, SIGN_IN_QUERIES + 2 + 1),
        ("/api/evaluations/", "chair", 0, SIGN_IN_QUERIES + 2),
        ("/api/evaluations/", "kam", 0, SIGN_IN_QUERIES + 2),
        ("/api/runs/", "chair", 0, SIGN_IN_QUERIES + 2),
        ("/api/review-items/", "chair", 0, SIGN_IN_QUERIES + 2),
        ("/api/fit-ratings/", "chair", 0, SIGN_IN_QUERIES + 2),
    ],
)
def test_list_endpoints_run_a_fixed_number_of_queries(
    client_as, cast, kam, ruler, delivery, path, role, before, queries
):
    http = client_as(cast[role])
    add_rows(3, kam, ruler, delivery)
    with CaptureQueriesContext(connection) as few:
        assert http.get(path).json()["count"] == before + 3

    add_rows(27, kam, ruler, delivery)
    with CaptureQueriesContext(connection) as many:
        assert http.get(path).json()["count"] == before + 30

    assert len(many) == len(few) == queries, [q["sql"] for q in many.captured_queries]
