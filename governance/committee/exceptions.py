"""Proposals that decide an exception request at the committee's tier: who may put one, what
its vote freezes when it opens, and the outcome it applies when it closes.

One person never decides a request at the committee's tier (``exception_decide`` refuses);
the committee does, by its vote on a proposal that names the request: adopted, the request
is approved; rejected, it is rejected; with no quorum, it waits for another proposal. The
outcome is applied by the shell's own service, in the transaction that closes the vote.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from accounts.models import User
from accounts.refusals import ChangedMeanwhile
from governance.committee.versions import digest_of
from governance.models import ExceptionRequest, Proposal, ProposalState
from governance.shell.exception_requests import exception_decide_by_committee, exception_terms


class ExceptionNotOpen(ChangedMeanwhile):
    """The request is no longer waiting for the committee, or is already before it."""


def exception_refusals(request: ExceptionRequest | None, *, by: User) -> dict[str, str]:
    """Why this exception request cannot be put to the committee by ``by``, per field."""
    if request is None:
        return {"exception_request": _("Name the exception request the committee decides.")}
    if request.requested_by_id == by.pk:
        return {
            "exception_request": _(
                "This is your own request: another member of the committee proposes it, and "
                "you stand aside on the vote."
            )
        }
    if not request.is_for_the_committee:
        return {
            "exception_request": _(
                "Only a request waiting at the committee's tier is put to the committee; "
                "this one is decided by its approver, or was decided already."
            )
        }
    return {}


def exception_freeze(*, proposal: Proposal) -> None:
    """Called in the transaction that opens the vote, under the request's row lock: refuse a
    request no longer waiting for the committee or already before it (``ExceptionNotOpen``),
    and copy what it asks (limits, amounts, deal) onto the proposal with its SHA-256 — what
    the vote decides (the caller saves the proposal)."""
    request = (
        ExceptionRequest.objects.select_for_update()
        .select_related("client", "requested_by")
        .get(pk=proposal.exception_request_id)
    )
    if not request.is_for_the_committee:
        raise ExceptionNotOpen(
            _("This request is no longer waiting for the committee: it was decided or withdrawn.")
        )
    if (
        Proposal.objects.filter(exception_request=request, state=ProposalState.OPEN)
        .exclude(pk=proposal.pk)
        .exists()
    ):
        raise ExceptionNotOpen(
            _("This request is already before the committee: one proposal decides it.")
        )
    proposal.version_content = exception_terms(request)
    proposal.version_digest = digest_of(proposal.version_content)


def exception_apply(*, proposal: Proposal) -> None:
    """Called by the close of the vote, in its transaction: an adopted proposal approves the
    request, a rejected one rejects it; a vote with no quorum decides nothing."""
    if proposal.state in (ProposalState.ADOPTED, ProposalState.REJECTED):
        exception_decide_by_committee(
            request=proposal.exception_request,
            proposal=proposal,
            approve=proposal.state == ProposalState.ADOPTED,
        )
