"""The committee: its members, proposals, votes and decisions (the policy it sets is in
``policy``)."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from criteria.models import ruler_title_text
from criteria.verdicts import verdict_text


class CommitteeRole(models.TextChoices):
    HEAD_OF_KAM = "head_of_kam", _("Head of the KAM department")
    SALES_DIRECTOR = "sales_director", _("Sales director")
    COMMERCIAL_DIRECTOR = "commercial_director", _("Commercial director")
    EXECUTIVE_DIRECTOR = "executive_director", _("Executive director / CEO")


class CommitteeMemberQuerySet(models.QuerySet):
    def active_on(self, day: datetime.date) -> CommitteeMemberQuerySet:
        return self.filter(active_from__lte=day).filter(
            models.Q(active_to__isnull=True) | models.Q(active_to__gte=day)
        )


class CommitteeMember(models.Model):
    """A seat on the strategic committee: who, in which capacity, from when to when."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="committee_seats",
    )
    committee_role = models.CharField(
        _("role on the committee"), max_length=30, choices=CommitteeRole.choices
    )
    is_chair = models.BooleanField(_("chair"), default=False)
    active_from = models.DateField(_("active from"))
    active_to = models.DateField(_("active to"), null=True, blank=True)
    # How the seat came to be: the committee's decision (the proposal that gave it), or the
    # first set-up (``manage.py committee_setup``), which records who ran it.
    given_by = models.ForeignKey(
        "Proposal",
        verbose_name=_("given by the decision on"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    set_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set up by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = CommitteeMemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("committee member")
        verbose_name_plural = _("committee members")
        ordering = ["-is_chair", "committee_role"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(active_to__isnull=True)
                | models.Q(active_to__gte=models.F("active_from")),
                name="committee_seat_ends_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_committee_role_display()}"


class Majority(models.TextChoices):
    SIMPLE = "simple", _("Simple majority")
    TWO_THIRDS = "two_thirds", _("Two-thirds majority")
    UNANIMOUS = "unanimous", _("Unanimity")


class ProposalType(models.TextChoices):
    GRANT_KEY = "grant_key", _("Grant key status")
    REVOKE_KEY = "revoke_key", _("Revoke key status")
    STRATEGIC_BET = "strategic_bet", _("Strategic bet")
    ADOPT_RULER = "adopt_ruler", _("Adopt a ruler version")
    ADOPT_POLICY = "adopt_policy", _("Adopt a policy version")
    GRANT_MANDATE = "grant_mandate", _("Grant or change a mandate")
    SEAT_GIVE = "seat_give", _("Give a seat on the committee")
    SEAT_END = "seat_end", _("End a seat on the committee")
    CHAIR = "chair", _("Hand the chair to a member")
    DECIDE_EXCEPTION = "decide_exception", _("Decide an exception")


CLIENT_PROPOSALS = frozenset(
    {ProposalType.GRANT_KEY, ProposalType.REVOKE_KEY, ProposalType.STRATEGIC_BET}
)
# Proposals about the committee itself: they name the member (or the person to seat).
SEAT_PROPOSALS = frozenset({ProposalType.SEAT_GIVE, ProposalType.SEAT_END, ProposalType.CHAIR})


@dataclass(frozen=True)
class DecisionRule:
    """How a proposal is decided: copied onto the proposal when it opens, so that later policy
    changes never rewrite old votes."""

    quorum_percent: int
    majority: str
    abstentions_count: bool


DEFAULT_RULE = DecisionRule(quorum_percent=50, majority=Majority.SIMPLE, abstentions_count=False)


class ProposalState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open for votes")
    ADOPTED = "adopted", _("Adopted")
    REJECTED = "rejected", _("Rejected")
    LAPSED = "lapsed", _("Lapsed: no quorum")
    WITHDRAWN = "withdrawn", _("Withdrawn")


CLOSED_STATES = frozenset({ProposalState.ADOPTED, ProposalState.REJECTED, ProposalState.LAPSED})


class VoteChoice(models.TextChoices):
    FOR = "for", _("For")
    AGAINST = "against", _("Against")
    ABSTAIN = "abstain", _("Abstain")


@dataclass(frozen=True)
class Tally:
    """The count of current votes and what it means under the proposal's rule."""

    votes_for: int
    against: int
    abstain: int
    base: int  # members entitled to vote (not recused)
    rule: DecisionRule

    @property
    def cast(self) -> int:
        return self.votes_for + self.against + self.abstain

    @property
    def quorum(self) -> int:
        """Votes (abstentions included) needed for the decision to count."""
        return math.ceil(self.base * self.rule.quorum_percent / 100)

    @property
    def quorum_met(self) -> bool:
        return self.base > 0 and self.cast >= self.quorum

    def _carried(self, votes_for: int, against: int, abstain: int) -> bool:
        counted = votes_for + against + (abstain if self.rule.abstentions_count else 0)
        if self.rule.majority == Majority.UNANIMOUS:
            return votes_for > 0 and votes_for == counted
        if self.rule.majority == Majority.TWO_THIRDS:
            return counted > 0 and 3 * votes_for >= 2 * counted
        return 2 * votes_for > counted  # a tie is not a majority

    @property
    def outcome(self) -> str:
        """The outcome if the vote closed now."""
        if not self.quorum_met:
            return ProposalState.LAPSED
        if self._carried(self.votes_for, self.against, self.abstain):
            return ProposalState.ADOPTED
        return ProposalState.REJECTED

    @property
    def remaining(self) -> int:
        return max(self.base - self.cast, 0)

    def outcome_is_settled(self) -> bool:
        """True when no way the members yet to vote could vote changes the outcome."""
        outcomes = set()
        for extra_for in range(self.remaining + 1):
            for extra_against in range(self.remaining - extra_for + 1):
                for extra_abstain in range(self.remaining - extra_for - extra_against + 1):
                    outcomes.add(
                        Tally(
                            self.votes_for + extra_for,
                            self.against + extra_against,
                            self.abstain + extra_abstain,
                            self.base,
                            self.rule,
                        ).outcome
                    )
                    if len(outcomes) > 1:
                        return False
        return True

    def votes_for_needed(self) -> int | None:
        """How many more votes for would adopt it, if the others vote nothing; None if that
        cannot happen."""
        for extra in range(self.remaining + 1):
            tally = Tally(self.votes_for + extra, self.against, self.abstain, self.base, self.rule)
            if tally.outcome == ProposalState.ADOPTED:
                return extra
        return None

    def as_dict(self) -> dict[str, int]:
        return {"for": self.votes_for, "against": self.against, "abstain": self.abstain}


# What a proposal's subject is read from: joined in a list, a title said from it costs no query.
SUBJECTS = (
    "client",
    "ruler",
    "policy",
    "mandate__kam",
    "nominee",
    "exception_request__client",
    "exception_request__requested_by",
    "supersedes",
)


def subject_text(subject: dict[str, object]) -> str:
    """What a decision (or a proposal) is about, from its data, in the active language: a
    client's or a person's name, a ruler or policy version, a KAM's mandate."""
    if "client" in subject:
        return str(subject["client"])
    if "person" in subject:
        return str(subject["person"])
    for kind in ("ruler", "policy"):
        version = subject.get(kind)
        if isinstance(version, dict):
            # A ruler SKAM titled keeps its title as data (``RulerVersion.title_data``).
            title = version.get("title") or ""
            return gettext("v%(number)s %(title)s") % {
                "number": version.get("number", ""),
                "title": ruler_title_text(title if isinstance(title, dict) else str(title)),
            }
    mandate = subject.get("mandate")
    if isinstance(mandate, dict):
        return f"{mandate.get('kam', '')}: {mandate.get('title', '')}"
    exception = subject.get("exception")
    if isinstance(exception, dict):
        return gettext("%(client)s, asked by %(kam)s") % {
            "client": exception.get("client", ""),
            "kam": exception.get("kam", ""),
        }
    return ""


def decision_text(kind: str, subject: dict[str, object]) -> str:
    """A decision said in the active language from its kind (a ``ProposalType``) and its
    subject's data: "Grant key status: ACME". A sentence stored by an older SKAM that could
    not be read back as data (``{"text": …}``) is said as it was written."""
    if "text" in subject:
        return str(subject["text"])
    label = ProposalType(kind).label if kind in ProposalType.values else kind
    name = subject_text(subject)
    if not name:
        return str(label)
    return gettext("%(decision)s: %(subject)s") % {"decision": label, "subject": name}


class Proposal(models.Model):
    """Something put to the committee's vote. Its text, evidence and decision rule are frozen
    when it opens; a change means withdrawing it and proposing again."""

    type = models.CharField(_("type"), max_length=20, choices=ProposalType.choices)
    # The title the proposer typed, kept as typed; blank when they typed none: then the
    # proposal is titled from its type and subject in the reader's language (``title``).
    typed_title = models.CharField(_("title"), max_length=200, blank=True, db_column="title")
    rationale = models.TextField(_("rationale"))
    client = models.ForeignKey(
        "accounts.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals",
    )
    ruler = models.ForeignKey(
        "criteria.RulerVersion",
        verbose_name=_("ruler version"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals",
    )
    policy = models.ForeignKey(
        "Policy",
        verbose_name=_("policy version"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals",
    )
    mandate = models.ForeignKey(
        "Mandate",
        verbose_name=_("mandate"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals",
    )
    nominee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Who is given a seat, whose seat ends, or who takes the chair."),
    )
    # The exception request a proposal to decide an exception decides: adopted, the request is
    # approved; rejected, it is rejected (``exception_decide_by_committee``).
    exception_request = models.ForeignKey(
        "ExceptionRequest",
        verbose_name=_("exception request"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals",
    )
    committee_role = models.CharField(
        _("role on the committee"), max_length=30, choices=CommitteeRole.choices, blank=True
    )
    review_date = models.DateField(
        _("review date"),
        null=True,
        blank=True,
        help_text=_("When the committee looks at this decision again; required for a bet."),
    )
    supersedes = models.ForeignKey(
        "Decision",
        verbose_name=_("revisits the decision"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="revisited_by",
    )
    state = models.CharField(
        _("state"), max_length=10, choices=ProposalState.choices, default=ProposalState.DRAFT
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Frozen when the proposal opens.
    quorum_percent = models.PositiveSmallIntegerField(_("quorum, %"), null=True, blank=True)
    majority = models.CharField(_("majority"), max_length=12, choices=Majority.choices, blank=True)
    abstentions_count = models.BooleanField(_("abstentions count"), null=True, blank=True)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    # What a proposal to adopt a version (ruler, policy, mandate) adopts, as it stood when the
    # vote opened, and its SHA-256: the adoption refuses a version that differs from it.
    version_content = models.JSONField(_("what is adopted"), default=dict, blank=True)
    version_digest = models.CharField(_("digest of what is adopted"), max_length=64, blank=True)
    # Frozen when it closes: who was entitled to vote, and the final count.
    entitled = models.JSONField(_("members entitled to vote"), default=list, blank=True)
    final_tally = models.JSONField(_("final tally"), default=dict, blank=True)
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        ordering = ["-opened_at", "-created_at", "-pk"]
        permissions = [("close_proposal", _("Can close a vote early once its outcome is settled"))]
        indexes = [models.Index(fields=["state", "deadline"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(type="strategic_bet") | models.Q(review_date__isnull=False),
                name="strategic_bet_has_review_date",
            ),
            models.UniqueConstraint(
                fields=["client"],
                condition=models.Q(state="open"),
                name="one_open_proposal_per_client",
            ),
            models.UniqueConstraint(
                fields=["exception_request"],
                condition=models.Q(state="open"),
                name="one_open_proposal_per_exception_request",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("governance:proposal-detail", args=[self.pk])

    @property
    def title(self) -> str:
        """The title as typed, or, when none was typed, said from the type and the subject in
        the active language ("Grant key status: ACME"), or from the decision it revisits
        ("Revisit: Grant key status: ACME")."""
        return self.typed_title or self.auto_title()

    @title.setter
    def title(self, value: str) -> None:
        self.typed_title = value

    @property
    def title_is_auto(self) -> bool:
        return not self.typed_title

    def subject(self) -> dict[str, object]:
        """What the proposal is about, as data (a decision keeps it as it stood)."""
        if self.client_id is not None:
            return {"client": self.client.name}
        if self.ruler_id is not None:
            return {"ruler": {"number": self.ruler.number, "title": self.ruler.title_data}}
        if self.policy_id is not None:
            return {"policy": {"number": self.policy.number, "title": self.policy.title}}
        if self.mandate_id is not None:
            return {"mandate": {"kam": str(self.mandate.kam), "title": self.mandate.title}}
        if self.nominee_id is not None:
            return {"person": str(self.nominee)}
        if self.exception_request_id is not None:
            request = self.exception_request
            return {
                "exception": {
                    "id": request.pk,
                    "client": request.client.name,
                    "kam": str(request.requested_by),
                }
            }
        return {}

    def auto_title(self) -> str:
        """The title SKAM says for the proposal in the active language: from the decision it
        revisits, if any, else from its type and subject. The new-proposal flow suggests it."""
        if self.supersedes_id is not None:
            return gettext("Revisit: %(decision)s") % {"decision": self.supersedes.summary}
        return decision_text(self.type, self.subject())

    def is_said_by_skam(self, title: str) -> bool:
        """Whether ``title`` is the title SKAM says for this proposal in one of the site's
        languages: a suggestion kept as it was, stored as no typed title so that each reader
        reads it in their own language."""
        title = title.strip()
        if not title:
            return False
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                if title == self.auto_title():
                    return True
        return False

    @property
    def verdict_text(self) -> str:
        """The ruler's verdict frozen in the evidence, said in the active language."""
        return verdict_text(self.evidence.get("verdict"))

    @property
    def evidence_decisions(self) -> list[dict[str, str]]:
        """The client's earlier decisions frozen in the evidence, each said in the active
        language: ``{"date", "summary"}``."""
        return [
            {
                "date": str(line.get("date", "")),
                "summary": decision_text(str(line.get("kind", "")), line.get("subject") or {})
                if "kind" in line
                else str(line.get("summary", "")),
            }
            for line in self.evidence.get("decisions") or []
        ]

    @property
    def rule(self) -> DecisionRule:
        if self.quorum_percent is None:
            return DEFAULT_RULE
        return DecisionRule(self.quorum_percent, self.majority, bool(self.abstentions_count))

    @property
    def is_open(self) -> bool:
        return self.state == ProposalState.OPEN


class Vote(models.Model):
    """A member's vote. Changing a vote keeps the old one (``is_current`` False); exactly one
    current vote per member and proposal, enforced by the database."""

    proposal = models.ForeignKey(
        Proposal, verbose_name=_("proposal"), on_delete=models.CASCADE, related_name="votes"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="committee_votes"
    )
    choice = models.CharField(_("vote"), max_length=8, choices=VoteChoice.choices)
    comment = models.TextField(_("comment"), blank=True)
    # Stamped by vote_cast under the proposal's lock, with the moment it checked the deadline.
    cast_at = models.DateTimeField(_("cast"), default=timezone.now, editable=False)
    is_current = models.BooleanField(_("current vote"), default=True)

    class Meta:
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        ordering = ["proposal", "member", "-cast_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "member"],
                condition=models.Q(is_current=True),
                name="one_current_vote_per_member",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member}: {self.get_choice_display()}"


class Recusal(models.Model):
    """A member who stands aside on a proposal: cannot vote, and leaves the quorum base."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="recusals")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=300)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("recusal")
        verbose_name_plural = _("recusals")
        constraints = [models.UniqueConstraint(fields=["proposal", "member"], name="recused_once")]

    def __str__(self) -> str:
        return f"{self.member} ({self.reason})"


class DecisionQuerySet(models.QuerySet):
    def in_force(self) -> DecisionQuerySet:
        """Decisions not superseded by a later one."""
        return self.filter(superseded_by__isnull=True)

    def review_overdue(self, today: datetime.date) -> DecisionQuerySet:
        """In force and past their review date: the one rule of a review overdue."""
        return self.in_force().filter(review_date__lt=today)


class Decision(models.Model):
    """What an adopted proposal decided, applied in the same transaction as the adoption."""

    proposal = models.OneToOneField(
        Proposal, verbose_name=_("proposal"), on_delete=models.PROTECT, related_name="decision"
    )
    client = models.ForeignKey(
        "accounts.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decisions",
    )
    # What was decided, as data: the kind of proposal adopted and what it was about, as it
    # stood on the day (said in the reader's language by ``summary``).
    kind = models.CharField(_("decision"), max_length=20, choices=ProposalType.choices)
    subject = models.JSONField(_("decided on"), default=dict, blank=True)
    key_status = models.BooleanField(_("key status decided"), null=True, blank=True)
    effective_date = models.DateField(_("effective from"))
    review_date = models.DateField(_("review by"), null=True, blank=True)
    superseded_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # SHA-256 of the ballots, the members entitled to vote, the rule and what was adopted: the
    # minutes cite it, and anyone can recompute it from the record.
    digest = models.CharField(_("digest"), max_length=64, blank=True)

    objects = DecisionQuerySet.as_manager()

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["-effective_date", "-pk"]

    def __str__(self) -> str:
        return self.summary

    @property
    def summary(self) -> str:
        """The decision said in the active language: "Grant key status: ACME"."""
        return decision_text(self.kind, self.subject)
