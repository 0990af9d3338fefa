"""Demo data: a believable industrial supplier, its committee, KAMs and 200 clients.

Deterministic (a fixed random seed), set-based (bulk inserts) and idempotent: loading twice
changes nothing, and it refuses a database that already holds someone else's data.
"""

from __future__ import annotations

import datetime
import itertools
import random
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import QuerySet
from django.test.utils import override_settings
from django.utils import timezone, translation

from accounts.choices import filter_choices_rebuild
from accounts.models import (
    AccountTeamMember,
    Client,
    ClientFigure,
    ClientNeed,
    Segment,
    TeamRole,
    User,
)
from accounts.periods import months_before, previous_quarter, quarter_start, quarters_back
from accounts.roles import Role
from criteria.evaluation import evaluation_preview, run_all_chunks, run_start
from criteria.models import (
    USP,
    CriterionKind,
    Degree,
    EvaluationRun,
    NeedCoverage,
    RulerCriterion,
    RulerVersion,
    StrategicFitRating,
)
from criteria.services import ruler_adopt, ruler_draft_create
from governance.committee.board_pack import board_pack_request
from governance.committee.meetings import agenda_build, interest_declare, meeting_create
from governance.committee.proposals import proposal_close, proposal_create, proposal_open, vote_cast
from governance.committee.seats import SeatPlan, committee_setup
from governance.committee.tasks import draw_up_board_pack
from governance.kpis.counting import mandate_for_quarter
from governance.kpis.figures import kpi_entry_record
from governance.kpis.snapshots import snapshot_quarter
from governance.models import (
    Absence,
    Approver,
    BendLevel,
    Budget,
    Cadence,
    CommitteeRole,
    DepartmentObligation,
    DepartmentRequest,
    EscalationTier,
    Kpi,
    KpiSnapshot,
    KpiSource,
    KpiTarget,
    Mandate,
    MandateAccount,
    MandateStatus,
    MandateTeamMember,
    Policy,
    PolicyRule,
    Proposal,
    RelationshipMethod,
    SituationType,
    WebhookEndpoint,
    WebhookEventType,
)
from governance.shell.budgets import budget_spend
from governance.shell.departments import department_fulfil, department_request
from governance.shell.exception_requests import exception_decide, exception_file
from governance.shell.incidents import incident_close, incident_declare, incident_take
from skam.demo_texts import DemoTexts, demo_texts
from skam.demo_texts.base import POOL_SIZES

DEMO_PASSWORD = "demo"
# The demo's webhook endpoint, told of every event: ``make run`` starts the receiver listening
# there (``manage.py webhook_receiver``, on ``SKAM_DEMO_WEBHOOK_PORT``), which checks each
# delivery's signature with this secret. The secret is the demo's alone, printed in the README:
# never one for production.
DEMO_WEBHOOK_PATH = "/skam-events"
DEMO_WEBHOOK_SECRET = "demo-webhook-secret-not-for-production"
DEMO_EMAIL_DOMAIN = "demo.skam.local"
SEED = 20261127


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: str
    title: str
    committee_role: str | None = None
    is_chair: bool = False


# Who the demo's users are. The names and titles here are the English demo's (the smoke test
# logs in by them); the loader takes them from the language module it is given.
DEMO_USERS = (
    DemoUser(
        "chair",
        "Irina",
        "Volkova",
        Role.COMMITTEE_CHAIR,
        "CEO, committee chair",
        CommitteeRole.EXECUTIVE_DIRECTOR,
        is_chair=True,
    ),
    DemoUser(
        "member",
        "Pavel",
        "Smirnov",
        Role.COMMITTEE_MEMBER,
        "Sales director, committee member",
        CommitteeRole.SALES_DIRECTOR,
    ),
    DemoUser(
        "headkam",
        "Olga",
        "Kuznetsova",
        Role.COMMITTEE_MEMBER,
        "Head of the KAM department, committee member",
        CommitteeRole.HEAD_OF_KAM,
    ),
    DemoUser(
        "commercial",
        "Sergey",
        "Lebedev",
        Role.COMMITTEE_MEMBER,
        "Commercial director, committee member",
        CommitteeRole.COMMERCIAL_DIRECTOR,
    ),
    DemoUser("kam", "Anna", "Petrova", Role.KAM, "Key-account manager"),
    DemoUser("kam2", "Dmitry", "Ivanov", Role.KAM, "Key-account manager"),
    DemoUser("kam3", "Elena", "Sokolova", Role.KAM, "Key-account manager"),
    DemoUser("director", "Nikolai", "Morozov", Role.DIRECTOR, "Finance director (dashboards)"),
    DemoUser("admin", "Alexei", "Popov", Role.ADMINISTRATOR, "Administrator"),
)
# People on account teams who do not use SKAM themselves (no role, no password); their names
# are in the language modules.
TEAM_HELPERS = ("svc.orlov", "eng.fedorova", "fin.nikitin")

# The USPs, by the key the language modules name them with.
USPS = (
    "delivery",
    "engineer",
    "stock",
    "engineering",
    "deferred",
    "quality",
    "warranty",
    "edi",
    "consignment",
    "local",
    "training",
    "team",
)

# Needs a client may have: (need, the USP that answers it or None, usual weight range).
NEEDS = (
    ("delivery", "delivery", (5, 10)),
    ("engineer", "engineer", (3, 9)),
    ("stock", "stock", (4, 9)),
    ("engineering", "engineering", (2, 8)),
    ("deferred", "deferred", (3, 8)),
    ("quality", "quality", (4, 10)),
    ("warranty", "warranty", (2, 6)),
    ("edi", "edi", (1, 6)),
    ("consignment", "consignment", (2, 7)),
    ("local", "local", (3, 9)),
    ("training", "training", (1, 5)),
    ("team", "team", (2, 6)),
    ("price", None, (3, 10)),
    ("siberia", None, (1, 6)),
    ("leasing", None, (1, 5)),
)
SEGMENT_SCALE = {  # typical quarterly revenue, roubles
    Segment.ENTERPRISE: (40_000_000, 180_000_000),
    Segment.MID_MARKET: (8_000_000, 40_000_000),
    Segment.SMALL: (1_000_000, 8_000_000),
    Segment.PUBLIC: (5_000_000, 60_000_000),
}


def _draws(*what: object) -> random.Random:
    """The random draws for one thing the demo builds, named by keys in no language (a
    client's INN, a username, a KPI's code…): the same thing gets the same draws whatever the
    language and whatever order things are built in, so the demo is one company in every
    language. Never draw for something named by a word, nor in an order a word sets."""
    return random.Random(":".join(map(str, (SEED, *what))))


def _inn(rng: random.Random) -> str:
    """A 10-digit INN with a correct check digit (as a Russian company's has)."""
    digits = [rng.randint(0, 9) for _ in range(9)]
    digits[0] = rng.randint(1, 9)
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    check = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11 % 10
    return "".join(map(str, digits)) + str(check)


class DemoRefused(Exception):
    """The database already holds data that is not SKAM's demo."""


def demo_webhook_url() -> str:
    """Where the demo's receiver listens in this run: its port follows the run's
    (``SKAM_DEMO_WEBHOOK_PORT``, which `make run` derives from its PORT)."""
    return f"http://127.0.0.1:{settings.SKAM_DEMO_WEBHOOK_PORT}{DEMO_WEBHOOK_PATH}"


def demo_webhook_point() -> bool:
    """Point the demo's endpoint at this run's receiver, when the demo was loaded by a run on
    another port. True when it moved. Only the demo's own endpoint (its secret, on this
    machine) is touched."""
    url = demo_webhook_url()
    moved = (
        WebhookEndpoint.objects.filter(
            secret=DEMO_WEBHOOK_SECRET, url__startswith="http://127.0.0.1:"
        )
        .exclude(url=url)
        .update(url=url)
    )
    return moved > 0


def demo_is_loaded() -> bool:
    return User.objects.filter(username="chair", email=f"chair@{DEMO_EMAIL_DOMAIN}").exists()


def database_is_empty() -> bool:
    return not Client.objects.exists() and not User.objects.exists()


def demo_load(*, today: datetime.date | None = None, language: str | None = None) -> bool:
    """Load the demo company in ``language`` (``DEMO_LANGUAGE`` by default: "en" or "ru").
    Returns False when it was loaded already (nothing changes).

    Raises ``DemoRefused`` when the database holds other data.
    """
    texts = demo_texts(language or settings.DEMO_LANGUAGE)
    if demo_is_loaded():
        return False
    if not database_is_empty():
        raise DemoRefused(
            "The database already holds clients or users that are not the demo's; "
            "demo data is loaded only into an empty database."
        )
    today = today or timezone.localdate()
    # The demo's people are fictitious: what they would be mailed goes nowhere.
    # What the services write as they go (a proposal's evidence, a decision's title) is written
    # in the demo's language, as it would be by a company working in it.
    with (
        override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"),
        translation.override(texts.language),
        transaction.atomic(),
    ):
        users = _load_users(texts, today)
        WebhookEndpoint.objects.create(
            name=texts.say["webhook_endpoint"],
            url=demo_webhook_url(),
            secret=DEMO_WEBHOOK_SECRET,
            events=list(WebhookEventType.values),
            created_by=users["admin"],
        )
        usps = _load_usps(texts, today)
        _load_clients(texts, users, usps, today)
        _load_ruler(texts, users, today)
    return True


# The playbook: situation, who owns it, response hours (what it is called and what to do are
# in the language modules).
SITUATIONS = (
    ("quality", "eng.fedorova", 4),
    ("payment", "fin.nikitin", 24),
    ("competitor", "headkam", 72),
    ("crisis", "commercial", 48),
)


def _load_situations(texts: DemoTexts, users: dict[str, User], today: datetime.date) -> None:
    """The playbook of exceptional situations, three incidents in different states, and a
    member's planned absence with a deputy."""
    situations = SituationType.objects.bulk_create(
        SituationType(
            name=texts.situations[key][0],
            procedure=texts.situations[key][1],
            owner=users[owner],
            response_hours=hours,
        )
        for key, owner, hours in SITUATIONS
    )
    accounts = {
        username: Mandate.objects.get(kam=users[username], status="in_force")
        .accounts.order_by("pk")
        .first()
        .client_id
        for username in ("kam", "kam2")
    }
    incident_declare(
        kam=users["kam"],
        client_id=accounts["kam"],
        situation=situations[0],
        description=texts.say["incident_quality"],
    )
    in_hand = incident_declare(
        kam=users["kam2"],
        client_id=accounts["kam2"],
        situation=situations[2],
        description=texts.say["incident_competitor"],
    )
    incident_take(
        incident=in_hand, by=users["headkam"], text=texts.say["incident_competitor_taken"]
    )
    closed = incident_declare(
        kam=users["kam"],
        client_id=accounts["kam"],
        situation=situations[1],
        description=texts.say["incident_payment"],
    )
    incident_close(
        incident=closed,
        by=users["fin.nikitin"],
        resolution=texts.say["incident_payment_resolution"],
    )
    Absence.objects.create(
        user=users["headkam"],
        starts_on=today + datetime.timedelta(days=7),
        ends_on=today + datetime.timedelta(days=14),
        deputy=users["member"],
        note=texts.say["absence_note"],
    )


def _load_users(texts: DemoTexts, today: datetime.date) -> dict[str, User]:
    password = make_password(DEMO_PASSWORD)  # hashed once: hashing is slow on purpose
    groups = {group.name: group for group in Group.objects.all()}
    users = {}
    for demo in DEMO_USERS:
        users[demo.username] = User.objects.create(
            username=demo.username,
            first_name=texts.people[demo.username][0],
            last_name=texts.people[demo.username][1],
            email=f"{demo.username}@{DEMO_EMAIL_DOMAIN}",
            password=password,
            is_staff=demo.role == Role.ADMINISTRATOR,
        )
        users[demo.username].groups.add(groups[demo.role])
    for username in TEAM_HELPERS:
        first, last = texts.helpers[username]
        users[username] = User.objects.create(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@{DEMO_EMAIL_DOMAIN}",
            password=make_password(None),
        )
    # The first committee is seated the one way it can be: the set-up, recorded as the
    # administrator's.
    committee_setup(
        seats=[
            SeatPlan(users[demo.username], demo.committee_role, demo.is_chair)
            for demo in DEMO_USERS
            if demo.committee_role
        ],
        by=users["admin"],
        day=today.replace(year=today.year - 2, month=1, day=1),
    )
    return users


# USPs the company added lately: earlier evaluations did not count them, so the history of
# coverage shows the value chain improving.
RECENT_USPS = {"edi": 9, "consignment": 5, "training": 2}  # months ago


def _months_ago(today: datetime.date, months: int) -> datetime.date:
    return months_before(today, months).replace(day=1)


def _load_usps(texts: DemoTexts, today: datetime.date) -> dict[str, USP]:
    """The USP catalogue, by key."""
    usps = USP.objects.bulk_create(
        USP(
            name=texts.usps[key][0],
            description=texts.usps[key][1],
            since=_months_ago(today, RECENT_USPS.get(key, 72)),
        )
        for key in USPS
    )
    return dict(zip(USPS, usps, strict=True))


def _load_ruler(texts: DemoTexts, users: dict[str, User], today: datetime.date) -> None:
    """The ruler in force and a draft, three runs, and what the committee made of them."""
    in_force = ruler_draft_create(title=texts.say["ruler_title"])
    RulerCriterion.objects.bulk_create(
        [
            RulerCriterion(
                ruler=in_force,
                kind=CriterionKind.POTENTIAL_REVENUE,
                threshold=Decimal(150_000_000),
                is_gate=True,
            ),
            RulerCriterion(
                ruler=in_force, kind=CriterionKind.GROSS_MARGIN_PERCENT, threshold=20, weight=2
            ),
            RulerCriterion(
                ruler=in_force, kind=CriterionKind.REVENUE_GROWTH, threshold=5, weight=1
            ),
            RulerCriterion(ruler=in_force, kind=CriterionKind.STRATEGIC_FIT, threshold=4, weight=2),
        ]
    )
    ruler_adopt(ruler=in_force, by=users["admin"])
    draft = ruler_draft_create(title=texts.say["ruler_draft_title"], based_on=in_force)
    RulerVersion.objects.filter(pk=draft.pk).update(coverage_threshold=Decimal("0.80"))

    # Two past quarters and today, so every scorecard has a history.
    for as_of in (_months_ago(today, 6), _months_ago(today, 3)):
        run = run_start(requested_by=users["admin"], as_of=as_of)
        run_all_chunks(run=run)
    _load_committee_work(texts, users, today)
    run_all_chunks(run=run_start(requested_by=users["admin"], as_of=today))
    _load_mandates(texts, users, today)
    _load_situations(texts, users, today)
    _load_meeting(texts, users, today)
    _load_kpis(texts, users, today)


def _load_mandates(texts: DemoTexts, users: dict[str, User], today: datetime.date) -> None:
    """Escalation tiers, relationship methods, and a mandate for each KAM granted by vote."""
    EscalationTier.objects.bulk_create(
        [
            EscalationTier(order=1, up_to_deal_value=5_000_000, approver=Approver.HEAD_OF_KAM),
            EscalationTier(order=2, up_to_deal_value=50_000_000, approver=Approver.SALES_DIRECTOR),
            EscalationTier(order=3, up_to_deal_value=None, approver=Approver.COMMITTEE),
        ]
    )
    methods = RelationshipMethod.objects.bulk_create(
        RelationshipMethod(name=name) for name in texts.relationship_methods
    )
    members = [users[name] for name in ("chair", "member", "headkam", "commercial")]
    for index, username in enumerate(("kam", "kam2", "kam3")):
        kam = users[username]
        # In the order they were written, never by name: a name sorts differently in each
        # language, and the demo is the same company in every one.
        owned = Client.objects.filter(owner_kam=kam).order_by("pk")
        accounts = list(owned.filter(is_key=True)) or list(owned[:3])
        mandate = Mandate.objects.create(
            kam=kam,
            title=texts.say["mandate_title"].format(kam=kam.get_full_name()),
            valid_from=today.replace(month=1, day=1),
            valid_to=today.replace(month=12, day=31),
            max_discount_percent=Decimal(7),
            max_deal_value=Decimal(10_000_000),
            credit_limit=Decimal(20_000_000),
            max_payment_term_days=60,
            budget_spend_without_approval=Decimal(500_000),
        )
        mandate.methods.set(methods[: 2 + index % 3])
        MandateAccount.objects.bulk_create(
            MandateAccount(
                mandate=mandate,
                client=client,
                # The first account may go further on discount: a committee-set override.
                max_discount_percent=Decimal(10) if number == 0 else None,
            )
            for number, client in enumerate(accounts)
        )
        if username == "kam":
            MandateTeamMember.objects.create(
                mandate=mandate, user=users["svc.orlov"], role=texts.say["mandate_team_role"]
            )
        proposal = proposal_open(
            proposal=proposal_create(
                type="grant_mandate",
                title=texts.say["mandate_proposal_title"].format(kam=kam.get_full_name()),
                rationale=texts.say["mandate_proposal_rationale"],
                by=users["headkam"],
                mandate=mandate,
            ),
            deadline=timezone.now() + datetime.timedelta(days=7),
        )
        for member in members:
            vote_cast(proposal=proposal, member=member, choice="for")
        proposal_close(proposal=proposal, early=True)
    # The committee's budgets for this quarter, and what the KAMs spent so far.
    quarter = quarter_start(today)
    budgets = Budget.objects.bulk_create(
        Budget(client_id=account.client_id, period=quarter, allocated=Decimal(300_000))
        for account in MandateAccount.objects.filter(mandate__status="in_force").order_by("pk")
    )
    for number, budget in enumerate(budgets[:6]):
        owner = Client.objects.get(pk=budget.client_id).owner_kam
        budget_spend(
            kam=owner,
            budget=budget,
            amount=Decimal(20_000 + 15_000 * number),
            category="hospitality" if number % 2 else "events",
            spent_on=today,
            description=texts.say["spending"],
        )
    # What departments owe the KAMs, and two requests: one answered, one overdue.
    obligations = DepartmentObligation.objects.bulk_create(
        [
            DepartmentObligation(
                department="logistics",
                title=texts.obligations["shipment"],
                owner=users["svc.orlov"],
                response_hours=24,
            ),
            DepartmentObligation(
                department="finance",
                title=texts.obligations["credit"],
                owner=users["fin.nikitin"],
                response_hours=48,
            ),
        ]
    )
    first_account = Mandate.objects.get(kam=users["kam"], status="in_force").accounts.first()
    answered = department_request(
        kam=users["kam"],
        obligation=obligations[0],
        client_id=first_account.client_id,
        text=texts.say["department_answered"],
    )
    department_fulfil(request=answered, by=users["svc.orlov"])
    overdue = department_request(
        kam=users["kam"],
        obligation=obligations[1],
        client_id=first_account.client_id,
        text=texts.say["department_overdue"],
    )
    DepartmentRequest.objects.filter(pk=overdue.pk).update(
        due_at=timezone.now() - datetime.timedelta(hours=6)
    )
    # One exception waiting for the sales director, one the head of KAM granted already.
    waiting = ("kam", "9", "20000000", False)
    granted = ("kam2", "12", "3000000", True)
    for username, discount, deal, approve in (waiting, granted):
        kam = users[username]
        first = Mandate.objects.get(kam=kam, status="in_force").accounts.order_by("pk").first()
        request = exception_file(
            kam=kam,
            client_id=first.client_id,
            asked={"discount_percent": Decimal(discount), "deal_value": Decimal(deal)},
            justification=texts.say["exception_justification"],
        )
        if approve:
            exception_decide(
                request=request,
                by=users["headkam"],
                approve=True,
                comment=texts.say["exception_comment"],
            )


def _load_kpis(texts: DemoTexts, users: dict[str, User], today: datetime.date) -> None:
    """The KPI catalogue, each KAM's earlier mandate (so that KPIs have a history), hand-entered
    satisfaction scores, the snapshots of every demo quarter, and targets around the actuals."""

    catalogue = [
        ("revenue", "money", "higher", KpiSource.REVENUE),
        ("gross-margin", "money", "higher", KpiSource.GROSS_MARGIN),
        ("growth", "percent", "higher", KpiSource.GROWTH),
        ("key-share", "percent", "higher", KpiSource.KEY_SHARE),
        ("key-coverage", "percent", "higher", KpiSource.KEY_COVERAGE),
        ("exceptions", "count", "lower", KpiSource.EXCEPTIONS),
        ("breaches", "count", "lower", KpiSource.BREACHES),
        ("budget-used", "percent", "lower", KpiSource.BUDGET_USED),
        ("satisfaction", "percent", "higher", KpiSource.MANUAL),
    ]
    kpis = Kpi.objects.bulk_create(
        Kpi(code=code, name=texts.kpis[code], unit=unit, direction=direction, source=source)
        for code, unit, direction, source in catalogue
    )
    current = quarter_start(today)
    quarters = quarters_back(previous_quarter(current), 8)
    # Each KAM held a first mandate over the same accounts until this year's was granted.
    for mandate in Mandate.objects.filter(status=MandateStatus.IN_FORCE).order_by("pk"):
        first = Mandate.objects.create(
            kam=mandate.kam,
            title=texts.say["first_mandate"].format(title=mandate.title),
            status=MandateStatus.SUPERSEDED,
            valid_from=quarters[0],
            valid_to=mandate.valid_from - datetime.timedelta(days=1),
            max_discount_percent=Decimal(5),
            max_deal_value=Decimal(5_000_000),
            adopted_at=timezone.make_aware(
                datetime.datetime.combine(quarters[0], datetime.time(10))
            ),
        )
        MandateAccount.objects.bulk_create(
            MandateAccount(mandate=first, client_id=account.client_id)
            for account in mandate.accounts.all()
        )
    satisfaction = kpis[-1]
    for username in ("kam", "kam2", "kam3"):
        for quarter in quarters[-4:]:
            kpi_entry_record(
                kpi=satisfaction,
                period=quarter,
                kam=users[username],
                client=None,
                value=Decimal(_draws("satisfaction", username, quarter).randint(62, 92)),
                note=texts.say["survey_note"],
                by=users["headkam"],
            )
    for quarter in [*quarters, current]:
        snapshot_quarter(quarter)
    # Targets for the last four quarters and this one: around the KAM's actual, so that some
    # are met, some are to watch and some are missed; coverage against the method's 75 %.
    actuals = {
        (kpi_id, kam_id, period): value
        for kpi_id, kam_id, period, value in KpiSnapshot.objects.filter(
            scope="kam", period__in=quarters[-4:]
        ).values_list("kpi_id", "kam_id", "period", "value")
    }
    targets = []
    for username in ("kam", "kam2", "kam3"):
        kam = users[username]
        for quarter in [*quarters[-4:], current]:
            mandate = mandate_for_quarter(kam=kam, period=quarter)
            if mandate is None:
                continue
            basis = quarter if quarter != current else quarters[-1]
            for kpi in kpis:
                actual = actuals.get((kpi.pk, kam.pk, basis))
                if kpi.source == KpiSource.KEY_COVERAGE:
                    target = Decimal(75)
                elif kpi.source in (KpiSource.EXCEPTIONS, KpiSource.BREACHES):
                    target = Decimal(1)
                elif kpi.source == KpiSource.BUDGET_USED:
                    target = Decimal(90)
                elif actual is None:
                    continue
                else:
                    draws = _draws("target", username, quarter, kpi.code)
                    factor = Decimal(draws.choice(["0.9", "0.97", "1.05", "1.2"]))
                    target = (abs(actual) * factor).quantize(Decimal(1))
                    if kpi.source == KpiSource.KEY_SHARE:
                        target = min(target, Decimal(100))
                targets.append(KpiTarget(kpi=kpi, mandate=mandate, period=quarter, target=target))
    KpiTarget.objects.bulk_create(targets)


def _load_meeting(texts: DemoTexts, users: dict[str, User], today: datetime.date) -> None:
    """The next meeting, its agenda built from what is open, and one declared interest."""
    meeting = meeting_create(
        held_on=today + datetime.timedelta(days=7),
        starts_at=datetime.time(10, 0),
        title=texts.say["meeting_title"],
        by=users["chair"],
        location=texts.say["meeting_location"],
    )
    agenda_build(meeting=meeting)
    # Its board pack is queued: the worker `make run` starts draws it up once the demo is in.
    pack, _enqueue = board_pack_request(
        meeting=meeting, kind="pack", language=texts.language, by=users["chair"]
    )
    transaction.on_commit(lambda: draw_up_board_pack.delay(pack.pk))
    bet = Proposal.objects.filter(type="strategic_bet", state="open").first()
    if bet is not None:
        interest_declare(
            member=users["commercial"],
            client=bet.client,
            description=texts.say["interest"],
        )


def _load_policy(texts: DemoTexts, users: dict[str, User], members: list[User]) -> None:
    """The first policy, adopted by the committee under the default rule."""
    policy = Policy.objects.create(
        number=1,
        title=texts.say["policy_title"],
        horizon_months=12,
        key_clients_min=12,
        key_clients_max=25,
        key_sales_share_target=Decimal(35),
        bend_level=BendLevel.SIGNIFICANT,
        reevaluation_cadence=Cadence.NIGHTLY,
    )
    PolicyRule.objects.bulk_create(
        [
            PolicyRule(policy=policy, proposal_type="grant_key", quorum_percent=50),
            PolicyRule(
                policy=policy, proposal_type="revoke_key", quorum_percent=75, majority="two_thirds"
            ),
            PolicyRule(
                policy=policy,
                proposal_type="strategic_bet",
                quorum_percent=75,
                majority="two_thirds",
            ),
            PolicyRule(
                policy=policy, proposal_type="adopt_ruler", quorum_percent=75, majority="two_thirds"
            ),
            PolicyRule(
                policy=policy,
                proposal_type="adopt_policy",
                quorum_percent=100,
                majority="unanimous",
            ),
        ]
    )
    proposal = proposal_open(
        proposal=proposal_create(
            type="adopt_policy",
            title=texts.say["policy_proposal_title"],
            rationale=texts.say["policy_proposal_rationale"],
            by=users["chair"],
            policy=policy,
        ),
        deadline=timezone.now() + datetime.timedelta(days=7),
    )
    for member in members:
        vote_cast(proposal=proposal, member=member, choice="for")
    proposal_close(proposal=proposal, early=True)


def _verdict_today(clients: QuerySet[Client], meets: bool, count: int) -> list[Client]:
    """The first ``count`` of ``clients`` whose verdict today is still ``meets``: the committee
    weighs the last run's evidence, but the route a proposal takes (key status or a strategic
    bet) follows the client's verdict today, counting the USPs added since."""
    today = (client for client in clients if evaluation_preview(client=client).meets_ruler == meets)
    return list(itertools.islice(today, count))


def _load_committee_work(texts: DemoTexts, users: dict[str, User], today: datetime.date) -> None:
    """Key clients by the committee's decisions (voted through the same services as in the
    browser), one strategic bet below the threshold, and two proposals still open."""
    members = [users[name] for name in ("chair", "member", "headkam", "commercial")]
    _load_policy(texts, users, members)
    last = EvaluationRun.objects.filter(status="done").order_by("-pk").first()
    by_potential = Client.objects.filter(evaluations__run=last).order_by(
        "-evaluations__potential_revenue", "pk"
    )
    meeting = _verdict_today(by_potential.filter(evaluations__meets_ruler=True), True, 15)
    failing = _verdict_today(
        by_potential.filter(evaluations__meets_ruler=False).exclude(owner_kam=None), False, 2
    )
    deadline = timezone.now() + datetime.timedelta(days=7)

    # No title typed for a client's key status: SKAM says it from the type and the client, in
    # each reader's language ("Grant key status: …", «Присвоить статус ключевого: …»).
    def decided(client: Client, kind: str, review: datetime.date | None) -> None:
        proposal = proposal_open(
            proposal=proposal_create(
                type=kind,
                title="",
                rationale=texts.say["grant_rationale"],
                by=users["headkam"],
                client=client,
                review_date=review,
            ),
            deadline=deadline,
        )
        for member in members:
            vote_cast(proposal=proposal, member=member, choice="for")
        proposal_close(proposal=proposal, early=True)

    for client in meeting[:14]:
        decided(client, "grant_key", None)
    decided(
        failing[0],
        "strategic_bet",
        today + datetime.timedelta(days=180),
    )
    # Still open: the committee votes on these in the browser.
    open_grant = proposal_open(
        proposal=proposal_create(
            type="grant_key",
            title="",
            rationale=texts.say["open_grant_rationale"],
            by=users["headkam"],
            client=meeting[14],
        ),
        deadline=deadline,
    )
    vote_cast(proposal=open_grant, member=users["headkam"], choice="for")
    proposal_open(
        proposal=proposal_create(
            type="strategic_bet",
            title="",
            rationale=texts.say["open_bet_rationale"],
            by=users["commercial"],
            client=failing[1],
            review_date=today + datetime.timedelta(days=270),
        ),
        deadline=deadline,
    )


@dataclass(frozen=True)
class ClientDraw:
    """A client of the demo's register as drawn, in no language: positions in the language
    modules' pools (``POOL_SIZES``), never a word."""

    name: tuple[int, int, int]  # positions of its stem, trade and legal form
    inn: str
    segment: str
    industry: int
    region: int
    owner: str | None  # the owner KAM's username


DEMO_KAMS = ("kam", "kam2", "kam3")


def _register_draw() -> list[ClientDraw]:
    """The 200 clients of the register, in the order they are written. Drawn from positions
    and keys only, so every language writes the same clients in the same order."""
    rng = _draws("register")
    names: set[tuple[int, int, int]] = set()
    numbers: set[str] = set()
    drawn: list[ClientDraw] = []
    while len(drawn) < 200:
        name = (
            rng.randrange(POOL_SIZES["name_stems"]),
            rng.randrange(POOL_SIZES["name_trades"]),
            rng.randrange(POOL_SIZES["legal_forms"]),
        )
        number = _inn(rng)
        if name in names or number in numbers:
            continue
        names.add(name)
        numbers.add(number)
        index = len(drawn)
        segment = rng.choices(list(SEGMENT_SCALE), weights=(2, 4, 3, 1))[0]
        drawn.append(
            ClientDraw(
                name=name,
                inn=number,
                segment=segment,
                industry=rng.randrange(POOL_SIZES["industries"]),
                region=rng.randrange(POOL_SIZES["regions"]),
                # About one in eight clients has no KAM yet: prospects the register still holds.
                owner=None if index % 8 == 7 else DEMO_KAMS[index % len(DEMO_KAMS)],
            )
        )
    return drawn


def _load_clients(
    texts: DemoTexts, users: dict[str, User], usps: dict[str, USP], today: datetime.date
) -> None:
    """The register, each client's team, needs (with how far our USPs cover each), eight
    quarters of figures, and the chair's strategic-fit rating of the large ones."""
    drawn = _register_draw()
    Client.objects.bulk_create(
        Client(
            name=texts.client_name(
                texts.name_stems[client.name[0]],
                texts.name_trades[client.name[1]],
                texts.legal_forms[client.name[2]],
            ),
            registration_number=client.inn,
            segment=client.segment,
            industry=texts.industries[client.industry],
            region=texts.regions[client.region],
            owner_kam=users[client.owner] if client.owner else None,
        )
        for client in drawn
    )
    filter_choices_rebuild()
    clients = dict(Client.objects.values_list("registration_number", "pk"))

    team, needs, degrees, figures, ratings = [], [], [], [], []
    last_quarter = quarter_start(quarter_start(today) - datetime.timedelta(days=1))
    quarters = []
    period = last_quarter
    for _ in range(8):
        quarters.append(period)
        period = quarter_start(period - datetime.timedelta(days=1))
    for client in drawn:
        client_id, rng = clients[client.inn], _draws("client", client.inn)
        # Large accounts are worked by a team: the owner as lead, a second KAM, a specialist.
        if client.owner and client.segment == Segment.ENTERPRISE and rng.random() < 0.6:
            second = rng.choice([kam for kam in DEMO_KAMS if kam != client.owner])
            team += [
                AccountTeamMember(
                    client_id=client_id, user=users[client.owner], role=TeamRole.LEAD
                ),
                AccountTeamMember(client_id=client_id, user=users[second], role=TeamRole.KAM),
                AccountTeamMember(
                    client_id=client_id,
                    user=users[rng.choice(TEAM_HELPERS)],
                    role=rng.choice([TeamRole.TECHNICAL, TeamRole.SERVICE, TeamRole.FINANCE]),
                ),
            ]
        for need, usp, (low, high) in rng.sample(NEEDS, rng.randint(6, 11)):
            weight = rng.randint(low, high)
            needs.append(ClientNeed(client_id=client_id, name=texts.needs[need], weight=weight))
            if usp is None:
                degrees.append((None, Degree.NONE))
            else:
                degree = rng.choices([Degree.FULL, Degree.PARTIAL, Degree.NONE], weights=(7, 2, 1))
                degrees.append((usp, degree[0]))
        low, high = SEGMENT_SCALE[client.segment]
        base = Decimal(rng.randint(low, high))
        growth = Decimal(str(rng.uniform(-0.04, 0.08)))
        margin = Decimal(str(rng.uniform(0.12, 0.34)))
        wallet = Decimal(str(rng.uniform(5, 70)))
        for age, quarter in enumerate(reversed(quarters)):
            season = Decimal("0.9") if quarter.month == 1 else Decimal(1)
            revenue = (base * (1 + growth) ** age * season).quantize(Decimal(1))
            figures.append(
                ClientFigure(
                    client_id=client_id,
                    period=quarter,
                    revenue=revenue,
                    gross_margin=(revenue * margin).quantize(Decimal(1)),
                    potential_revenue=(revenue * 4 * Decimal(str(rng.uniform(1.1, 3.0)))).quantize(
                        Decimal(1)
                    ),
                    share_of_wallet=min(Decimal(95), wallet + age).quantize(Decimal("0.1")),
                )
            )
        if client.segment in (Segment.ENTERPRISE, Segment.PUBLIC):
            ratings.append(
                StrategicFitRating(
                    client_id=client_id, rating=rng.randint(2, 5), rated_by=users["chair"]
                )
            )
    AccountTeamMember.objects.bulk_create(team)
    ClientNeed.objects.bulk_create(needs)
    ClientFigure.objects.bulk_create(figures, batch_size=500)
    StrategicFitRating.objects.bulk_create(ratings)
    # How far our USPs cover each need, paired with the needs in the order they were written.
    NeedCoverage.objects.bulk_create(
        (
            NeedCoverage(need_id=need_id, usp=usps[usp], degree=degree)
            for need_id, (usp, degree) in zip(
                ClientNeed.objects.order_by("pk").values_list("pk", flat=True), degrees, strict=True
            )
            if degree
        ),
        batch_size=1000,
    )
