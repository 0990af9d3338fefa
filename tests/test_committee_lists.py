"""The committee's lists: the proposals and the decision register, on their pages and over the
API — what each filter does, what a value it cannot read gets, and where each page opens."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Client, User
from governance.models import Decision, Proposal, ProposalState

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
NEXT_PAGE = re.compile(r'<a href="(\?[^"]*)" rel="next"')


def decided(client: Client | None, by: User, count: int = 1, *, type: str = "grant_key") -> None:
    """``count`` decisions on ``client``, as adopted proposals leave them."""
    for number in range(count):
        proposal = Proposal.objects.create(
            type=type,
            title=f"{type} {number}",
            rationale="Why",
            client=client,
            state=ProposalState.ADOPTED,
            proposed_by=by,
        )
        Decision.objects.create(
            proposal=proposal, client=client, summary=f"{type} {number}", effective_date=TODAY
        )


def rows(page: str, testid: str) -> str:
    return page.split(f'data-testid="{testid}"')[1].split("</table>")[0]


def test_the_registers_next_page_keeps_the_client_it_is_filtered_by(
    client_as, chair: User, account_of_kam: Client, account_of_kam2: Client
) -> None:
    decided(account_of_kam2, chair)  # the oldest: last of the unfiltered register
    decided(account_of_kam, chair, count=51)
    http = client_as(chair)
    url = reverse("governance:decision-list")

    first = http.get(url, {"client": account_of_kam.pk}).text
    following = http.get(url + html.unescape(NEXT_PAGE.search(first)[1])).text

    assert account_of_kam.name in rows(following, "decisions")
    assert account_of_kam2.name not in rows(following, "decisions")
