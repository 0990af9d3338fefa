"""The new-proposal flow: which questions can be put to the committee, what each one asks for,
the client picker with each client's coverage, and the route the ruler leaves open.

Reads only: the proposal is still created and opened by ``proposal_create`` and
``proposal_open``, which refuse what the ruler does not allow whatever a page showed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, OuterRef, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Client, User
from accounts.selectors import clients_visible_to
from criteria.evaluation import NoRulerInForce, evaluation_preview
from criteria.models import RulerVersion
from criteria.selectors import Scorecard, scorecard_for
from governance.committee.proposals import proposal_route_refusal
from governance.models import (
    CLIENT_PROPOSALS,
    Approver,
    Decision,
    ExceptionRequest,
    ExceptionState,
    Mandate,
    Policy,
    Proposal,
    ProposalState,
    ProposalType,
)
from governance.picker import clients_picked

# What each question asks for besides its title, rationale and deadline.
QUESTION_FIELDS: dict[str, tuple[str, ...]] = {
    ProposalType.GRANT_KEY: ("client",),
    ProposalType.STRATEGIC_BET: ("client", "review_date"),
    ProposalType.REVOKE_KEY: ("client",),
    ProposalType.ADOPT_RULER: ("ruler",),
    ProposalType.ADOPT_POLICY: ("policy",),
    ProposalType.GRANT_MANDATE: ("mandate",),
    ProposalType.SEAT_GIVE: ("nominee", "committee_role"),
    ProposalType.SEAT_END: ("nominee",),
    ProposalType.CHAIR: ("nominee",),
    ProposalType.DECIDE_EXCEPTION: ("exception_request",),
}
COMMON_FIELDS = ("title", "rationale", "deadline")


@dataclass(frozen=True)
class Question:
    type: str
    explanation: Promise

    @property
    def label(self) -> str:
        return ProposalType(self.type).label

    @property
    def is_about_a_client(self) -> bool:
        return self.type in CLIENT_PROPOSALS


# The questions in the order the first step offers them, each said in one line.
QUESTION_GROUPS: tuple[tuple[Promise, tuple[Question, ...]], ...] = (
    (
        gettext_lazy("A client's status"),
        (
            Question(
                ProposalType.GRANT_KEY,
                gettext_lazy(
                    "The client meets the ruler: our USPs cover its needs to the threshold, "
                    "and the committee makes it a key client."
                ),
            ),
            Question(
                ProposalType.STRATEGIC_BET,
                gettext_lazy(
                    "The client does not meet the ruler, but the committee bets on its future: "
                    "its own decision rule and a review date."
                ),
            ),
            Question(
                ProposalType.REVOKE_KEY,
                gettext_lazy(
                    "A key client no longer earns its status: the committee ends it "
                    "(or holds it as a strategic bet)."
                ),
            ),
        ),
    ),
    (
        gettext_lazy("The rules"),
        (
            Question(
                ProposalType.ADOPT_RULER,
                gettext_lazy(
                    "Put a draft ruler in force: the selection criteria, their weights and the "
                    "threshold; every client is evaluated again."
                ),
            ),
            Question(
                ProposalType.ADOPT_POLICY,
                gettext_lazy(
                    "Put a draft policy in force: the planning horizon, how many key clients, "
                    "their share of sales, how far we bend."
                ),
            ),
            Question(
                ProposalType.GRANT_MANDATE,
                gettext_lazy(
                    "Put a KAM's mandate in force: the management shell is drafted and compared "
                    "on the mandates page, and proposed from there."
                ),
            ),
        ),
    ),
    (
        gettext_lazy("The committee"),
        (
            Question(
                ProposalType.SEAT_GIVE,
                gettext_lazy("Give a person a seat on the committee, in a named capacity."),
            ),
            Question(ProposalType.SEAT_END, gettext_lazy("End a member's seat on the committee.")),
            Question(
                ProposalType.CHAIR,
                gettext_lazy("Hand the chair to another member of the committee."),
            ),
        ),
    ),
    (
        gettext_lazy("Exceptions"),
        (
            Question(
                ProposalType.DECIDE_EXCEPTION,
                gettext_lazy(
                    "A KAM's request to go past the mandate has reached the committee's tier: "
                    "a vote for approves it, a vote against rejects it. The KAM who asked "
                    "stands aside."
                ),
            ),
        ),
    ),
)
QUESTIONS: dict[str, Question] = {q.type: q for _group, qs in QUESTION_GROUPS for q in qs}


# Which of a proposal's fields a chosen subject goes into.
SUBJECT_FIELDS: tuple[tuple[type, str], ...] = (
    (Client, "client"),
    (RulerVersion, "ruler"),
    (Policy, "policy"),
    (Mandate, "mandate"),
    (User, "nominee"),
    (ExceptionRequest, "exception_request"),
)


def title_suggested(
    *, question: str, subject: object | None, revisiting: Decision | None = None
) -> str:
    """The title SKAM says for the proposal (``Proposal.auto_title``), in the active language,
    from its question and what it is about, or from the decision it revisits; empty while
    nothing is chosen. Kept unchanged, it is stored as data and each reader reads it in their
    own language (``proposal_create``); edited, it stays as typed."""
    proposal = Proposal(type=question, supersedes=revisiting)
    if revisiting is None:
        field = next((name for kind, name in SUBJECT_FIELDS if isinstance(subject, kind)), None)
        if field is None:
            return ""
        setattr(proposal, field, subject)
    return proposal.auto_title()


def exceptions_for_the_committee() -> QuerySet[ExceptionRequest]:
    """The requests the committee may be asked to decide: waiting at its tier, with no
    proposal before it yet; the oldest first."""
    open_proposal = Proposal.objects.filter(
        exception_request=OuterRef("pk"), state=ProposalState.OPEN
    )
    return (
        ExceptionRequest.objects.filter(state=ExceptionState.PENDING, approver=Approver.COMMITTEE)
        .exclude(Exists(open_proposal))
        .select_related("client", "requested_by")
        .order_by("created_at", "pk")
    )


def open_proposal_deciding(exception_request: str) -> Proposal | None:
    """The proposal before the committee that decides the request a link names (its id as
    typed in the link), if any: a link to propose it again leads there instead."""
    if not exception_request.isascii() or not exception_request.isdigit():
        return None
    if len(exception_request) > 18:  # past any id: no such request
        return None
    return Proposal.objects.filter(
        exception_request_id=int(exception_request), state=ProposalState.OPEN
    ).first()


@dataclass(frozen=True)
class PickerRow:
    """A client as the picker lists it, with the verdict of its last evaluation against the
    ruler in force (None: not evaluated against it yet)."""

    client: Client
    coverage_ratio: Decimal | None
    meets_ruler: bool | None
    open_proposal_id: int | None
    question: str

    @property
    def coverage_percent(self) -> Decimal | None:
        if self.coverage_ratio is None:
            return None
        return (self.coverage_ratio * 100).quantize(Decimal("0.1"))

    @property
    def route(self) -> str | None:
        """The question the ruler leaves open for this client, when it is not the one asked
        (None: the question asked is open, or the last evaluation cannot tell)."""
        return route_of(question=self.question, is_key=self.client.is_key, meets=self.meets_ruler)


def route_of(*, question: str, is_key: bool, meets: bool | None) -> str | None:
    """For a client question: the other question this client can be put under instead, or
    None when the one asked is the right one (or nothing tells). Revoking is always open to a
    key client; a client that fails the ruler is granted only as a strategic bet, and one
    that meets it is granted key status, not bet on."""
    if question == ProposalType.GRANT_KEY and meets is False:
        return ProposalType.STRATEGIC_BET
    if question == ProposalType.STRATEGIC_BET and meets is True and not is_key:
        return ProposalType.GRANT_KEY
    return None


@dataclass(frozen=True)
class Picker:
    rows: list[PickerRow]
    more: bool  # more clients match than are listed
    threshold_percent: Decimal | None  # the ruler in force's, None without one


def picker_clients(*, user: User, question: str, text: str) -> Picker:
    """The clients ``user`` may see that ``question`` can be about, matching ``text`` (name or
    registration number, the closest first), at most ``PICKER_LIMIT``: each with its coverage
    and verdict from its last evaluation against the ruler in force, and the proposal about it
    already before the committee, if any. Two queries, whatever the number of clients."""
    # The register's own search and its own rule of who sees which client.
    clients: QuerySet[Client] = clients_visible_to(user)
    if question == ProposalType.GRANT_KEY:
        clients = clients.filter(is_key=False)
    elif question == ProposalType.REVOKE_KEY:
        clients = clients.filter(is_key=True)
    found = clients_picked(clients=clients, text=text)
    rows = [
        PickerRow(
            client=row.client,
            coverage_ratio=row.coverage_ratio,
            meets_ruler=row.meets_ruler,
            open_proposal_id=row.open_proposal_id,
            question=question,
        )
        for row in found.rows
    ]
    return Picker(rows=rows, more=found.has_next, threshold_percent=found.threshold_percent)


@dataclass(frozen=True)
class ClientRoute:
    """A chosen client under a question: its live verdict against the ruler in force, why the
    question cannot be put (None: it can), and the question to put instead, if any."""

    client: Client
    card: Scorecard | None
    refusal: str | None
    instead: str | None
    open_proposal: Proposal | None


def client_route(*, question: str, client: Client) -> ClientRoute:
    """What the ruler and the register say about putting ``question`` about ``client`` now:
    the same checks ``proposal_create`` and ``proposal_open`` make, said before the form is
    filled in."""
    try:
        card = scorecard_for(evaluation_preview(client=client))
    except NoRulerInForce:
        card = None
    open_proposal = (
        Proposal.objects.filter(client=client, state=ProposalState.OPEN).order_by("pk").first()
    )
    refusal = None
    if question == ProposalType.GRANT_KEY and client.is_key:
        refusal = _("This client is a key client already.")
    elif question == ProposalType.REVOKE_KEY and not client.is_key:
        refusal = _("This client is not a key client.")
    else:
        refusal = proposal_route_refusal(type=question, client=client, card=card)
    if refusal is None and open_proposal is not None:
        refusal = _(
            "A proposal about %(client)s is already before the committee: one question about "
            "a client is voted at a time."
        ) % {"client": client}
    meets = card.evaluation.meets_ruler if card else None
    return ClientRoute(
        client=client,
        card=card,
        refusal=refusal,
        instead=route_of(question=question, is_key=client.is_key, meets=meets),
        open_proposal=open_proposal,
    )
