"""The KAM sees the escalation ladder: who decides past the mandate by name (and who stands in
for someone away), when the answer is due, where an unanswered request goes; My mandate names
the seven questions of the management shell; the home page counts what My mandate holds and
flags the key clients the KAM works outside it."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.roles import Role
from governance.models import (
    Absence,
    Approver,
    CommitteeMember,
    CommitteeRole,
    EscalationTier,
    Mandate,
    MandateAccount,
)
from governance.shell.exception_requests import escalation_ladder, exception_file
from governance.shell.mandates import mandate_adopt
from tests.factories import ClientFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine("2026-11-18T12:00+03:00")]
TODAY = datetime.date(2026, 11, 18)


def seat(user, role: str, *, chair: bool = False) -> None:
    CommitteeMember.objects.create(
        user=user, committee_role=role, is_chair=chair, active_from=datetime.date(2025, 1, 1)
    )


@pytest.fixture
def ladder(chair):
    """Head of KAM up to 5 M (away today, a deputy named), the sales director up to 50 M,
    the committee beyond."""
    EscalationTier.objects.create(
        order=1, up_to_deal_value=5_000_000, approver=Approver.HEAD_OF_KAM
    )
    EscalationTier.objects.create(
        order=2, up_to_deal_value=50_000_000, approver=Approver.SALES_DIRECTOR
    )
    EscalationTier.objects.create(order=3, up_to_deal_value=None, approver=Approver.COMMITTEE)
    head = UserFactory(
        username="head", first_name="Olga", last_name="Headley", role=Role.COMMITTEE_MEMBER
    )
    sales = UserFactory(
        username="sales", first_name="Ivan", last_name="Salov", role=Role.COMMITTEE_MEMBER
    )
    # A deputy is someone the tier's rule could name: a member seated on the committee.
    deputy = UserFactory(
        username="deputy", first_name="Petr", last_name="Deputin", role=Role.COMMITTEE_MEMBER
    )
    seat(deputy, CommitteeRole.COMMERCIAL_DIRECTOR)
    seat(head, CommitteeRole.HEAD_OF_KAM)
    seat(sales, CommitteeRole.SALES_DIRECTOR)
    seat(chair, CommitteeRole.EXECUTIVE_DIRECTOR, chair=True)
    Absence.objects.create(
        user=head, starts_on=TODAY, ends_on=TODAY + datetime.timedelta(days=5), deputy=deputy
    )
    return {"head": head, "sales": sales, "deputy": deputy}


@pytest.fixture
def mandate(kam, account_of_kam, ladder):
    mandate = Mandate.objects.create(
        kam=kam,
        title="Key accounts",
        valid_from=datetime.date(2026, 1, 1),
        max_discount_percent=Decimal(7),
        max_deal_value=Decimal(1_000_000),
    )
    MandateAccount.objects.create(mandate=mandate, client=account_of_kam)
    return mandate_adopt(mandate=mandate)


def test_the_ladder_names_each_step_and_who_stands_in_today(ladder) -> None:
    steps = escalation_ladder(day=TODAY)

    assert [step.approver for step in steps] == ["head_of_kam", "sales_director", "committee"]
    head_step = {person.user.username: person for person in steps[0].people}
    assert head_step["head"].away_until == TODAY + datetime.timedelta(days=5)
    assert head_step["deputy"].deputy_for == ladder["head"]
    assert [person.user.username for person in steps[1].people] == ["sales"]


def test_a_check_past_the_mandate_names_who_decides_by_when_and_what_comes_next(
    client_as, kam, account_of_kam, mandate
) -> None:
    page = client_as(kam).post(
        reverse("governance:my-mandate"),
        {"client": account_of_kam.pk, "discount_percent": "9", "deal_value": "20000000"},
    )
    result = page.text.split('data-testid="check-result"')[1]

    assert "Sales director" in result
    assert "Ivan Salov" in result.split('data-testid="escalate-people"')[1].split("</span>")[0]
    assert "Asked now, the answer is due by 11/20/2026" in result
    assert "Left unanswered, the request goes to: The committee, by a proposal." in result


def test_my_mandate_shows_the_ladder_the_answer_due_and_the_seven_questions(
    client_as, kam, account_of_kam, mandate
) -> None:
    exception_file(
        kam=kam,
        client_id=account_of_kam.pk,
        asked={"discount_percent": Decimal(9)},
        justification="Three-year contract",
    )

    page = client_as(kam).get(reverse("governance:my-mandate")).text

    ladder = page.split('data-testid="ladder"')[1].split("</section>")[0]
    assert "Olga Headley (away until 11/23/2026)" in ladder
    assert "Petr Deputin (deputy for Olga Headley today)" in ladder
    assert "Answers within 2 days, or the request goes one step up." in ladder
    # Each step is one sentence: the names end with its full stop, no space before it.
    assert "Ivan Salov. Answers within 2 days" in ladder
    assert " ." not in ladder
    requests = page.split('data-testid="exception-requests"')[1].split("</table>")[0]
    assert "Answer due" in requests
    assert "11/20/2026" in requests.split('data-testid="answer-due"')[1]
    for number in range(1, 8):
        assert f'data-testid="question-{number}"' in page
    assert "Question 6 of 7" in page
    # Question 7 opens on the quarter in progress, named as people say it.
    assert "KPIs for 2026 Q4, so far" in page
    assert "what happens in exceptional situations?" in page


def test_the_home_page_counts_the_mandate_and_flags_key_clients_outside_it(
    client_as, kam, account_of_kam, mandate
) -> None:
    ClientFactory.create_batch(3, owner_kam=kam)  # worked, not in the mandate, not key
    outside = ClientFactory(name="Orphan Key LLC", owner_kam=kam, is_key=True)
    type(account_of_kam).objects.filter(pk=account_of_kam.pk).update(is_key=True)
    http = client_as(kam)

    home = http.get(reverse("home"))
    mine = http.get(reverse("governance:my-mandate")).text

    summary = home.context["mandate"]
    assert (summary.accounts, summary.key_accounts, summary.key_outside) == (1, 1, 1)
    assert "account in your mandate" in home.text
    assert "key client you work outside your mandate" in home.text
    flagged = mine.split('data-testid="key-outside-mandate"')[1].split("</section>")[0]
    assert outside.name in flagged and account_of_kam.name not in flagged


def test_the_seven_questions_speak_russian(client_as, kam, mandate) -> None:
    http = client_as(kam)
    http.post(reverse("set_language"), {"language": "ru", "next": "/"})

    page = http.get(reverse("governance:my-mandate")).text

    assert "Вопрос 6 из 7" in page
    assert "Семь вопросов управленческой оболочки" in page
