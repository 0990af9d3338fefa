"""What the committee votes is what takes effect.

A proposal to adopt a version — a ruler, a policy, a mandate — freezes it when the vote opens:
the version is marked ``under_vote``, which every path that edits it refuses (the ruler's
services, the mandate's targets, the admin), its content is copied onto the proposal with its
SHA-256, and the adoption recomputes the digest and refuses a version that differs. The mark
is lifted when the vote ends without adopting it (rejected, lapsed, withdrawn).

A decision stores the digest of its ballots, its entitled members, its rule and what it adopted,
so that the minutes can cite it and anyone can recompute it from the record.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.refusals import ChangedMeanwhile
from criteria.models import RulerVersion
from criteria.services import reevaluation_schedule_set
from governance.models import (
    Decision,
    Mandate,
    NamedVotesReaders,
    Policy,
    PolicyStatus,
    Proposal,
    ProposalType,
    Vote,
)

VERSION_FIELDS = {
    ProposalType.ADOPT_RULER: "ruler",
    ProposalType.ADOPT_POLICY: "policy",
    ProposalType.GRANT_MANDATE: "mandate",
}


class VersionChanged(ChangedMeanwhile):
    """The version differs from what the committee voted on."""


def digest_of(content: Any) -> str:
    """SHA-256 of ``content`` in a canonical JSON form (sorted keys, no spaces)."""
    canonical = json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def ruler_content(ruler: RulerVersion) -> dict[str, Any]:
    return {
        "ruler": ruler.number,
        # As data: the same digest whatever the language of whoever opens or adopts the vote.
        "title": ruler.title_data,
        "coverage_threshold": str(ruler.coverage_threshold),
        "horizon_months": ruler.horizon_months,
        "concession_rate": str(ruler.concession_rate),
        "criteria": [
            {
                "kind": c.kind,
                "direction": c.direction,
                "threshold": str(c.threshold),
                "is_gate": c.is_gate,
                "weight": c.weight,
            }
            for c in ruler.criteria.order_by("kind")
        ],
    }


def policy_content(policy: Policy) -> dict[str, Any]:
    return {
        "policy": policy.number,
        "title": policy.title,
        "horizon_months": policy.horizon_months,
        "key_clients_min": policy.key_clients_min,
        "key_clients_max": policy.key_clients_max,
        "key_sales_share_target": str(policy.key_sales_share_target),
        "bend_level": policy.bend_level,
        "reevaluation_cadence": policy.reevaluation_cadence,
        "exceptions_flag_after": policy.exceptions_flag_after,
        # Only when it departs from the default, so that digests frozen before the line
        # existed still match.
        **(
            {"named_votes_read_by": policy.named_votes_read_by}
            if policy.named_votes_read_by != NamedVotesReaders.COMMITTEE_AND_DIRECTORS
            else {}
        ),
        "rules": [
            {
                "proposal_type": r.proposal_type,
                "quorum_percent": r.quorum_percent,
                "majority": r.majority,
                "abstentions_count": r.abstentions_count,
            }
            for r in policy.rules.order_by("proposal_type")
        ],
    }


LIMITS = (
    "max_discount_percent",
    "max_deal_value",
    "credit_limit",
    "max_payment_term_days",
    "budget_spend_without_approval",
)


def _limits(row: Model) -> dict[str, str | None]:
    return {
        name: None if getattr(row, name) is None else str(getattr(row, name)) for name in LIMITS
    }


def mandate_content(mandate: Mandate) -> dict[str, Any]:
    return {
        "kam": {"id": mandate.kam_id, "name": str(mandate.kam)},
        "title": mandate.title,
        "valid_from": str(mandate.valid_from),
        "valid_to": None if mandate.valid_to is None else str(mandate.valid_to),
        "limits": _limits(mandate),
        "methods": sorted(mandate.methods.values_list("name", flat=True)),
        "accounts": [
            {"client": {"id": a.client_id, "name": a.client.name}, "limits": _limits(a)}
            for a in mandate.accounts.select_related("client").order_by("client_id")
        ],
        "team": [
            {"id": t.user_id, "name": str(t.user), "role": t.role}
            for t in mandate.team.select_related("user").order_by("user_id")
        ],
        "kpi_targets": [
            {
                "kpi": t.kpi.name,
                "client": t.client_id,
                "period": str(t.period),
                "target": str(t.target),
            }
            for t in mandate.kpi_targets.select_related("kpi").order_by(
                "period", "kpi_id", "client_id"
            )
        ],
    }


def version_of(proposal: Proposal) -> RulerVersion | Policy | Mandate | None:
    """The version a proposal adopts, or None for a proposal of another kind."""
    field = VERSION_FIELDS.get(proposal.type)
    return getattr(proposal, field) if field else None


def content_of(version: RulerVersion | Policy | Mandate) -> dict[str, Any]:
    """The version's content as stored (read again, so that values are as the database keeps
    them, whatever the instance in hand holds)."""
    version = type(version).objects.get(pk=version.pk)
    if isinstance(version, RulerVersion):
        return ruler_content(version)
    if isinstance(version, Policy):
        return policy_content(version)
    return mandate_content(version)


def version_freeze(*, proposal: Proposal) -> None:
    """Called in the transaction that opens the vote: mark the version under vote and copy its
    content and digest onto the proposal (the caller saves the proposal)."""
    version = version_of(proposal)
    if version is None:
        return
    type(version).objects.filter(pk=version.pk).update(under_vote=True)
    proposal.version_content = content_of(version)
    proposal.version_digest = digest_of(proposal.version_content)


def version_thaw(*, proposal: Proposal) -> None:
    """The vote ended without adopting the version: it may be changed again."""
    version = version_of(proposal)
    if version is not None:
        type(version).objects.filter(pk=version.pk).update(under_vote=False)


def version_check(*, proposal: Proposal) -> None:
    """Refuse to adopt a version whose content differs from what the committee voted on."""
    version = version_of(proposal)
    if version is None or not proposal.version_digest:
        return
    if digest_of(content_of(version)) != proposal.version_digest:
        raise VersionChanged(
            _(
                "%(version)s differs from what the committee voted on (digest %(digest)s): it "
                "is not put in force. Withdraw the proposal and propose the version again."
            )
            % {"version": version, "digest": proposal.version_digest[:12]}
        )


def decision_digest(*, proposal: Proposal) -> str:
    """SHA-256 of what decided the proposal: every ballot (changed ones included), the members
    entitled to vote, the rule, the final tally and what was adopted."""
    ballots = [
        {
            "member": vote.member_id,
            "choice": vote.choice,
            "comment": vote.comment,
            "cast_at": vote.cast_at.isoformat(),
            "current": vote.is_current,
        }
        for vote in Vote.objects.filter(proposal=proposal).order_by("cast_at", "pk")
    ]
    rule = proposal.rule
    return digest_of(
        {
            "proposal": proposal.pk,
            "type": proposal.type,
            "ballots": ballots,
            "entitled": sorted(member["id"] for member in proposal.entitled),
            "rule": {
                "quorum_percent": rule.quorum_percent,
                "majority": rule.majority,
                "abstentions_count": rule.abstentions_count,
            },
            "tally": proposal.final_tally,
            "version_digest": proposal.version_digest,
            # Who a seat proposal is about (absent from other proposals' digests).
            **(
                {"nominee": proposal.nominee_id, "committee_role": proposal.committee_role}
                if proposal.nominee_id
                else {}
            ),
            # Which exception request the vote decided (absent from other proposals' digests).
            **(
                {"exception_request": proposal.exception_request_id}
                if proposal.exception_request_id
                else {}
            ),
        }
    )


def decision_digest_mismatch() -> Decision | None:
    """The first decision whose stored digest its ballots, entitled members and rule no longer
    give (``manage.py audit_verify`` asks): a ballot changed since, by any path."""
    decisions = Decision.objects.exclude(digest="").select_related("proposal").order_by("pk")
    for decision in decisions.iterator(chunk_size=500):
        if decision_digest(proposal=decision.proposal) != decision.digest:
            return decision
    return None


def policy_adopt(*, policy: Policy) -> Policy:
    """Put a draft policy in force (the one in force is superseded) and set the re-evaluation
    schedule to its cadence. Called by an adopted proposal, in its transaction."""
    with transaction.atomic():
        list(Policy.objects.select_for_update().order_by("pk"))  # one adoption at a time
        draft = Policy.objects.get(pk=policy.pk)
        if draft.status != PolicyStatus.DRAFT:
            raise ChangedMeanwhile(_("Only a draft policy can be adopted."))
        Policy.objects.filter(status=PolicyStatus.IN_FORCE).update(status=PolicyStatus.SUPERSEDED)
        draft.status = PolicyStatus.IN_FORCE
        draft.adopted_at = timezone.now()
        draft.save(update_fields=["status", "adopted_at"])
        reevaluation_schedule_set(cadence=draft.reevaluation_cadence)
    return draft
