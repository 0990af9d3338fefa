"""The committee's work: proposing, voting, closing, and applying what was decided.

Races are closed in the database: a vote and a close both take the proposal's row lock, so a vote
arriving while the proposal closes is either in the closing tally or refused, never lost.
"""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction
from django.db.models import Count, Exists, F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Client, User
from accounts.refusals import ChangedMeanwhile, NotAllowed
from accounts.roles import Role
from accounts.validators import single_line
from criteria.evaluation import NoRulerInForce, evaluation_preview
from criteria.models import RulerStatus
from criteria.selectors import Scorecard, scorecard_for
from criteria.services import review_items_settle, ruler_adopt
from criteria.tasks import enqueue, reevaluate_all
from governance.committee.exceptions import exception_apply, exception_freeze, exception_refusals
from governance.committee.notifications import notify_opened, notify_outcome
from governance.committee.seats import seat_decision_apply, seat_refusals
from governance.committee.versions import (
    decision_digest,
    policy_adopt,
    version_check,
    version_freeze,
    version_of,
    version_thaw,
)
from governance.kpis.snapshots import snapshot_current_quarter
from governance.models import (
    CLIENT_PROPOSALS,
    DEFAULT_RULE,
    SEAT_PROPOSALS,
    CommitteeMember,
    Decision,
    ExceptionRequest,
    NamedVotesReaders,
    Policy,
    PolicyStatus,
    Proposal,
    ProposalState,
    ProposalType,
    Recusal,
    Tally,
    Vote,
    VoteChoice,
)
from governance.permissions import ADD_VOTE, VIEW_DECISION, VIEW_PROPOSAL
from governance.recipients import entitled_members, has_stake, stake_in
from governance.shell.budgets import budgets_from_mandate
from governance.shell.mandates import mandate_adopt
from governance.webhooks import webhook_decision_adopted

logger = logging.getLogger(__name__)


class NotEntitled(NotAllowed):
    """The user may not vote on this proposal (not a member, or recused)."""


class ProposalNotOpen(ChangedMeanwhile):
    """The proposal is not open (any more)."""


def proposals_visible_to(user: User) -> QuerySet[Proposal]:
    """The proposals ``user`` may see: every one for those who follow the committee (its
    members, directors, the administrator); none for anyone else."""
    if not user.has_perm(VIEW_PROPOSAL):
        return Proposal.objects.none()
    return Proposal.objects.all()


def named_votes_visible_to(user: User) -> bool:
    """Whether ``user`` reads how each member voted and their comments: the committee always;
    directors when the policy in force says so (by default, with no policy in force); nobody
    else — the administrator included. The tally itself is everyone's who follows the
    committee."""
    if user.has_perm(ADD_VOTE):
        return True
    if not user.groups.filter(name=Role.DIRECTOR).exists():
        return False
    read_by = (
        Policy.objects.filter(status=PolicyStatus.IN_FORCE)
        .values_list("named_votes_read_by", flat=True)
        .first()
    )
    return (read_by or NamedVotesReaders.COMMITTEE_AND_DIRECTORS) == (
        NamedVotesReaders.COMMITTEE_AND_DIRECTORS
    )


def decisions_visible_to(user: User) -> QuerySet[Decision]:
    """The decisions ``user`` may see: the whole register for those who follow the committee;
    none for anyone else."""
    if not user.has_perm(VIEW_DECISION):
        return Decision.objects.none()
    return Decision.objects.all()


def _count_of(queryset: QuerySet) -> Subquery:
    """``SELECT COUNT(*)`` of ``queryset`` as a subquery (no GROUP BY: always one row)."""
    return Subquery(
        queryset.order_by()
        .annotate(n=Func(F("pk"), function="COUNT", output_field=IntegerField()))
        .values("n"),
        output_field=IntegerField(),
    )


def proposals_with_tally(
    queryset: QuerySet[Proposal], *, day: datetime.date | None = None
) -> QuerySet[Proposal]:
    """``queryset`` annotated with the counts ``tally_of`` needs, so that a list of proposals
    costs no query per proposal: the current votes by choice, and the base — the number of
    members entitled on ``day`` (with a seat, active, not recused), as ``entitled_members``."""
    day = day or timezone.localdate()
    current = Vote.objects.filter(proposal=OuterRef("pk"), is_current=True)
    seated = CommitteeMember.objects.active_on(day).filter(user=OuterRef("pk"))
    recused = Recusal.objects.filter(proposal=OuterRef(OuterRef("pk")), member=OuterRef("pk"))
    entitled = User.objects.filter(
        Exists(seated), ~Exists(recused), ~stake_in(OuterRef(OuterRef("pk"))), is_active=True
    )
    return queryset.annotate(
        n_for=_count_of(current.filter(choice=VoteChoice.FOR)),
        n_against=_count_of(current.filter(choice=VoteChoice.AGAINST)),
        n_abstain=_count_of(current.filter(choice=VoteChoice.ABSTAIN)),
        n_entitled=_count_of(entitled),
    )


def proposals_needing_vote(
    user: User, *, now: datetime.datetime | None = None
) -> QuerySet[Proposal]:
    """Open proposals, before their deadline, on which ``user`` is entitled to vote (a seat
    today, active, not recused, as ``entitled_members``) and has cast no vote; the nearest
    deadline first."""
    now = now or timezone.now()
    seated = CommitteeMember.objects.active_on(timezone.localdate(now)).filter(user=user)
    if not user.is_active or not seated.exists():
        return Proposal.objects.none()
    return (
        Proposal.objects.filter(state=ProposalState.OPEN)
        .filter(Q(deadline__isnull=True) | Q(deadline__gt=now))
        .exclude(Exists(Recusal.objects.filter(proposal=OuterRef("pk"), member=user)))
        .exclude(Exists(Vote.objects.filter(proposal=OuterRef("pk"), member=user, is_current=True)))
        .order_by(F("deadline").asc(nulls_last=True), "pk")
    )


def proposals_with_my_vote(queryset: QuerySet[Proposal], *, user: User) -> QuerySet[Proposal]:
    """``queryset`` annotated with ``my_vote``: the choice of ``user``'s current vote, or
    None (one subquery, no query per proposal)."""
    mine = Vote.objects.filter(proposal=OuterRef("pk"), member=user, is_current=True)
    return queryset.annotate(my_vote=Subquery(mine.values("choice")[:1]))


def tally_of(proposal: Proposal, *, day: datetime.date | None = None) -> Tally:
    """The current votes of a proposal under its rule, with the members entitled on ``day``
    (today by default) as the base: the final tally once closed; no query for a proposal from
    ``proposals_with_tally``, two otherwise."""
    if proposal.final_tally:
        counts = proposal.final_tally
        return Tally(
            counts["for"], counts["against"], counts["abstain"], counts["base"], proposal.rule
        )
    if day is None and hasattr(proposal, "n_entitled"):
        return Tally(
            proposal.n_for,
            proposal.n_against,
            proposal.n_abstain,
            proposal.n_entitled,
            proposal.rule,
        )
    counts = Vote.objects.filter(proposal=proposal, is_current=True).aggregate(
        votes_for=Count("pk", filter=Q(choice=VoteChoice.FOR)),
        against=Count("pk", filter=Q(choice=VoteChoice.AGAINST)),
        abstain=Count("pk", filter=Q(choice=VoteChoice.ABSTAIN)),
    )
    return Tally(
        base=len(entitled_members(proposal=proposal, day=day)), rule=proposal.rule, **counts
    )


def _past_deadline(proposal: Proposal, *, at: datetime.datetime | None = None) -> bool:
    return proposal.deadline is not None and proposal.deadline <= (at or timezone.now())


def _route_refusal(type: str, client: Client) -> str | None:
    """Why the ruler does not let this question be put about this client, or None.

    A client that meets the ruler is proposed for key status; one that does not can only be
    proposed as a strategic bet (its own rule, a review date). Revoking is always open: a key
    client that fails the ruler is revoked or held as a bet, and the committee may revoke for
    reasons the ruler does not see. With no ruler in force, nothing is steered."""
    if type not in (ProposalType.GRANT_KEY, ProposalType.STRATEGIC_BET):
        return None
    try:
        card = scorecard_for(evaluation_preview(client=client))
    except NoRulerInForce:
        return None
    return proposal_route_refusal(type=type, client=client, card=card)


def proposal_route_refusal(*, type: str, client: Client, card: Scorecard | None) -> str | None:
    """``_route_refusal`` for a client whose live scorecard is at hand (None: no ruler in
    force), so that a page which shows the scorecard says the same refusal without measuring
    the client twice."""
    if card is None or type not in (ProposalType.GRANT_KEY, ProposalType.STRATEGIC_BET):
        return None
    if type == ProposalType.GRANT_KEY and not card.evaluation.meets_ruler:
        return _(
            "%(client)s: %(verdict)s It can be proposed only as a strategic bet, with a review "
            "date."
        ) % {"client": client, "verdict": card.verdict_text()}
    if type == ProposalType.STRATEGIC_BET and card.evaluation.meets_ruler:
        return _("%(client)s meets the ruler: propose key status rather than a strategic bet.") % {
            "client": client
        }
    return None


def proposal_create(
    *,
    type: str,
    title: str = "",
    rationale: str,
    by: User,
    client: Client | None = None,
    ruler: object | None = None,
    policy: Policy | None = None,
    mandate: object | None = None,
    review_date: datetime.date | None = None,
    supersedes: Decision | None = None,
    nominee: User | None = None,
    committee_role: str = "",
    exception_request: ExceptionRequest | None = None,
) -> Proposal:
    """A draft proposal, checked against the state of what it would change. ``title`` is
    kept as typed; a blank one, or the one SKAM says for it (the new-proposal flow's
    suggestion, in any of the site's languages), titles the proposal from its type and subject
    or the decision it revisits, said in each reader's language (``Proposal.title``)."""
    errors: dict[str, str] = {}
    try:
        single_line(title)  # the form says the same; the title goes into letters' subjects
    except ValidationError as exc:
        errors["title"] = exc.messages[0]
    if type in SEAT_PROPOSALS:
        errors.update(seat_refusals(type=type, nominee=nominee, committee_role=committee_role))
    if type in CLIENT_PROPOSALS and client is None:
        errors["client"] = _("A proposal about key status names its client.")
    if type == ProposalType.GRANT_KEY and client is not None and client.is_key:
        errors["client"] = _("This client is a key client already.")
    if type == ProposalType.REVOKE_KEY and client is not None and not client.is_key:
        errors["client"] = _("This client is not a key client.")
    if type in CLIENT_PROPOSALS and client is not None and "client" not in errors:
        refusal = _route_refusal(type, client)
        if refusal:
            errors["type"] = refusal
    if type == ProposalType.STRATEGIC_BET and review_date is None:
        errors["review_date"] = _("A strategic bet needs a review date.")
    if type == ProposalType.ADOPT_RULER and (ruler is None or ruler.status != RulerStatus.DRAFT):
        errors["ruler"] = _("Name a draft ruler version to adopt.")
    if type == ProposalType.ADOPT_POLICY and (
        policy is None or policy.status != PolicyStatus.DRAFT
    ):
        errors["policy"] = _("Name a draft policy version to adopt.")
    if type == ProposalType.GRANT_MANDATE and (mandate is None or mandate.status != "draft"):
        errors["mandate"] = _("Name a draft mandate to grant.")
    if review_date is not None and review_date <= timezone.localdate():
        errors["review_date"] = _("A review date lies in the future.")
    if type == ProposalType.DECIDE_EXCEPTION:
        errors.update(exception_refusals(exception_request, by=by))
    if errors:
        raise ValidationError(errors)
    proposal = Proposal(
        type=type,
        rationale=rationale,
        proposed_by=by,
        client=client if type in CLIENT_PROPOSALS else None,
        ruler=ruler if type == ProposalType.ADOPT_RULER else None,
        policy=policy if type == ProposalType.ADOPT_POLICY else None,
        mandate=mandate if type == ProposalType.GRANT_MANDATE else None,
        nominee=nominee if type in SEAT_PROPOSALS else None,
        committee_role=committee_role if type == ProposalType.SEAT_GIVE else "",
        exception_request=exception_request if type == ProposalType.DECIDE_EXCEPTION else None,
        review_date=review_date,
        supersedes=supersedes,
    )
    # A title SKAM suggested, kept unchanged (in whichever language it was suggested): no
    # typed title, so each reader reads it in their own language. A changed one stays as typed.
    title = (title or "").strip()
    proposal.typed_title = "" if proposal.is_said_by_skam(title) else title
    proposal.save(force_insert=True)
    return proposal


def _evidence(proposal: Proposal) -> dict[str, object]:
    """What the members see when they vote, frozen when the proposal opens."""
    if proposal.client is None:
        return {}
    client = proposal.client
    evidence: dict[str, object] = {
        "client": client.name,
        "is_key": client.is_key,
        "figures": [
            {
                "period": figure.period_label,
                "revenue": str(figure.revenue),
                "gross_margin": str(figure.gross_margin),
                "potential_revenue": str(figure.potential_revenue),
            }
            for figure in client.figures.order_by("-period")[:8]
        ],
        "decisions": [
            {"date": str(d.effective_date), "kind": d.kind, "subject": d.subject}
            for d in client.decisions.order_by("-effective_date")[:10]
        ],
    }
    try:
        card = scorecard_for(evaluation_preview(client=client))
    except NoRulerInForce:
        return evidence
    evidence.update(
        ruler={"number": card.ruler.number, "title": card.ruler.title_data},
        # Data, said in the reader's language when read (``Proposal.verdict_text``).
        verdict=card.verdict(),
        meets_ruler=card.evaluation.meets_ruler,
        coverage_percent=None if card.coverage_percent is None else str(card.coverage_percent),
        threshold_percent=str(card.threshold_percent),
        # What the mismatch costs, where the committee pays it: a share of every deal, and
        # that share of a quarter's sales at the client's last four quarters.
        mismatch_percent=None
        if card.mismatch_share is None
        else str((card.mismatch_share * 100).quantize(Decimal("0.1"))),
        mismatch_cost_per_quarter=None
        if card.mismatch_cost_per_quarter is None
        else str(card.mismatch_cost_per_quarter),
        needs=[
            {"need": n.name, "weight": n.weight, "degree": str(n.degree), "usps": n.usps}
            for n in card.needs
        ],
    )
    return evidence


def proposal_open(*, proposal: Proposal, deadline: datetime.datetime) -> Proposal:
    """Open a draft for votes: freeze its rule, its evidence and the version it adopts."""
    if deadline <= timezone.now():
        raise ValidationError({"deadline": _("The deadline lies in the future.")})
    in_force = Policy.objects.filter(status=PolicyStatus.IN_FORCE).prefetch_related("rules").first()
    rule = in_force.rule_for(proposal.type) if in_force else DEFAULT_RULE
    with transaction.atomic():
        locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
        if locked.state != ProposalState.DRAFT:
            raise ProposalNotOpen(_("Only a draft can be opened."))
        if locked.client_id is not None:
            # Under the client's row lock: of two proposals about one client, one opens.
            client = Client.objects.select_for_update().get(pk=locked.client_id)
            if (
                Proposal.objects.filter(client=client, state=ProposalState.OPEN)
                .exclude(pk=locked.pk)
                .exists()
            ):
                raise ProposalNotOpen(
                    _(
                        "A proposal about %(client)s is already before the committee: "
                        "one question about a client is voted at a time."
                    )
                    % {"client": client}
                )
            refusal = _route_refusal(locked.type, client)
            if refusal:
                raise ValidationError({"type": refusal})
        version = version_of(locked)
        if version is not None:
            # Under the version's row lock: of two proposals of one draft, one opens.
            version = type(version).objects.select_for_update().get(pk=version.pk)
            if version.under_vote or version.status != RulerStatus.DRAFT:
                raise ProposalNotOpen(
                    _(
                        "%(version)s is not a draft free to put to the vote: another proposal "
                        "adopts it, or it was adopted meanwhile."
                    )
                    % {"version": version}
                )
        locked.state = ProposalState.OPEN
        locked.opened_at = timezone.now()
        locked.deadline = deadline
        locked.quorum_percent = rule.quorum_percent
        locked.majority = rule.majority
        locked.abstentions_count = rule.abstentions_count
        locked.evidence = _evidence(locked)
        version_freeze(proposal=locked)
        if locked.exception_request_id is not None:
            exception_freeze(proposal=locked)
        locked.save()
        notify_opened(proposal=locked)
    return locked


def vote_cast(*, proposal: Proposal, member: User, choice: str, comment: str = "") -> Vote:
    """Cast or change ``member``'s vote. The old vote stays in the history."""
    if choice not in VoteChoice.values:
        raise ValidationError({"choice": _("Vote for, against or abstain.")})
    if (
        proposal.type == ProposalType.STRATEGIC_BET
        and choice == VoteChoice.AGAINST
        and not comment.strip()
    ):
        raise ValidationError(
            {"comment": _("A vote against a strategic bet says why: the committee learns from it.")}
        )
    with transaction.atomic():
        locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
        # The moment checked against the deadline is the moment stored: read once, under the
        # lock, so no stored vote is later than its proposal's deadline.
        cast_at = timezone.now()
        if locked.state != ProposalState.OPEN:
            raise ProposalNotOpen(_("Voting on this proposal has closed."))
        # Past the deadline the vote is over, even if the beat has not closed it yet.
        if _past_deadline(locked, at=cast_at):
            raise ProposalNotOpen(_("The deadline has passed: voting on this proposal is over."))
        if member not in entitled_members(proposal=locked):
            if has_stake(proposal=locked, user=member):
                raise NotEntitled(
                    _(
                        "This proposal concerns you (your seat, your account, your mandate or "
                        "your request): you stand aside, and your vote is not taken."
                    )
                )
            raise NotEntitled(_("Only committee members who are not recused vote."))
        Vote.objects.filter(proposal=locked, member=member, is_current=True).update(
            is_current=False
        )
        return Vote.objects.create(
            proposal=locked, member=member, choice=choice, comment=comment, cast_at=cast_at
        )


def recuse(*, proposal: Proposal, member: User, reason: str) -> Recusal:
    """``member`` stands aside: their current vote, if any, no longer counts."""
    with transaction.atomic():
        locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
        if locked.state not in (ProposalState.DRAFT, ProposalState.OPEN) or (
            locked.state == ProposalState.OPEN and _past_deadline(locked)
        ):
            raise ProposalNotOpen(_("Voting on this proposal has closed."))
        Vote.objects.filter(proposal=locked, member=member, is_current=True).update(
            is_current=False
        )
        recusal, _created = Recusal.objects.get_or_create(
            proposal=locked, member=member, defaults={"reason": reason}
        )
    return recusal


def proposal_close(*, proposal: Proposal, early: bool = False, by: User | None = None) -> Proposal:
    """Close the vote, record the outcome and, when adopted, apply the decision — all in one
    transaction. Idempotent: a proposal already closed is returned as it is. ``early`` closes
    before the deadline, which is allowed only once no vote still to come can change the
    outcome.

    The committee counted is the one that sat when the vote ended: on the deadline's day for a
    close the beat caught up late (a member who joined after the deadline is not in the base).
    ``by`` — who closes early — must have no stake in the proposal (``NotAllowed``)."""
    if by is not None and has_stake(proposal=proposal, user=by):
        raise NotAllowed(
            _("Nobody closes a vote on a proposal that concerns them: another member closes it.")
        )
    with transaction.atomic():
        locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
        if locked.state != ProposalState.OPEN:
            return locked
        now = timezone.now()
        ended = min(now, locked.deadline) if locked.deadline else now
        day = timezone.localdate(ended)
        tally = tally_of(locked, day=day)
        if early and not tally.outcome_is_settled():
            raise ProposalNotOpen(_("Votes still to come can change the outcome."))
        entitled = entitled_members(proposal=locked, day=day)
        locked.state = tally.outcome
        locked.closed_at = now
        locked.entitled = [{"id": u.pk, "name": str(u)} for u in entitled]
        locked.final_tally = {**tally.as_dict(), "base": tally.base}
        locked.save(update_fields=["state", "closed_at", "entitled", "final_tally"])
        if locked.state == ProposalState.ADOPTED:
            version_check(proposal=locked)
            decision_apply(proposal=locked)
        else:
            version_thaw(proposal=locked)
        if locked.exception_request_id is not None:
            exception_apply(proposal=locked)
        notify_outcome(proposal=locked)
    return locked


def proposal_withdraw(*, proposal: Proposal) -> Proposal:
    with transaction.atomic():
        locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
        if locked.state not in (ProposalState.DRAFT, ProposalState.OPEN):
            raise ProposalNotOpen(_("Only a draft or open proposal can be withdrawn."))
        locked.state = ProposalState.WITHDRAWN
        locked.closed_at = timezone.now()
        locked.save(update_fields=["state", "closed_at"])
        if locked.version_digest:  # it was open: its version was frozen for it
            version_thaw(proposal=locked)
    return locked


def decision_apply(*, proposal: Proposal) -> Decision:
    """Record the decision and apply its effect. Key status is written here and nowhere else."""
    today = timezone.localdate()
    key_status = None
    if proposal.type in (ProposalType.GRANT_KEY, ProposalType.STRATEGIC_BET):
        key_status = True
    elif proposal.type == ProposalType.REVOKE_KEY:
        key_status = False
    if key_status is not None:
        # One source of truth, right after the decision: the status, the ruler's agenda (the
        # disagreement it flagged is answered) and the quarter's figures built on the status.
        key_status_changed = (
            Client.objects.filter(pk=proposal.client_id)
            .exclude(is_key=key_status)
            .update(is_key=key_status)
        )
        review_items_settle(client_id=proposal.client_id, at=timezone.now())
        # After the commit, in the same request: the decider's next page is already right.
        # Set-based, a few queries whatever the register's size; a failure is logged and
        # left to the nightly job, never undoing the decision.
        transaction.on_commit(snapshot_current_quarter, robust=True)
    if proposal.type == ProposalType.ADOPT_RULER:
        ruler_adopt(ruler=proposal.ruler, by=proposal.proposed_by)
        # Every verdict follows the new ruler at once, not at the next scheduled run.
        proposed_by = proposal.proposed_by_id
        transaction.on_commit(lambda: enqueue(reevaluate_all, proposed_by))
    if proposal.type == ProposalType.ADOPT_POLICY:
        policy_adopt(policy=proposal.policy)
    if proposal.type == ProposalType.GRANT_MANDATE:
        mandate_adopt(mandate=proposal.mandate)
        # The budgets the mandate holds are allocated with it, by the budgets' own service.
        budgets_from_mandate(mandate=proposal.mandate)
    if proposal.type in SEAT_PROPOSALS:
        seat_decision_apply(proposal=proposal, day=today)
    decision = Decision.objects.create(
        proposal=proposal,
        client_id=proposal.client_id,
        kind=proposal.type,
        subject=proposal.subject(),
        key_status=key_status,
        effective_date=today,
        review_date=proposal.review_date,
        digest=decision_digest(proposal=proposal),
    )
    version = version_of(proposal)
    if version is not None:
        type(version).objects.filter(pk=version.pk).update(under_vote=False)
    if proposal.supersedes_id:
        Decision.objects.filter(pk=proposal.supersedes_id).update(superseded_by=decision)
    webhook_decision_adopted(
        decision=decision, key_status_changed=key_status is not None and bool(key_status_changed)
    )
    return decision


def proposals_close_due(*, now: datetime.datetime | None = None) -> int:
    """Close every open proposal past its deadline (the beat task; idempotent). One proposal
    that cannot be closed does not keep the others open: it is logged, the others are closed,
    and its error is raised at the end (a database outage is raised at once, for a retry)."""
    now = now or timezone.now()
    closed = 0
    failures: list[Exception] = []
    for proposal in Proposal.objects.filter(state=ProposalState.OPEN, deadline__lte=now):
        try:
            if proposal_close(proposal=proposal).state != ProposalState.OPEN:
                closed += 1
        except OperationalError:
            raise
        except Exception as exc:
            logger.exception("Proposal %s could not be closed at its deadline", proposal.pk)
            failures.append(exc)
    if failures:
        raise failures[0]
    return closed
