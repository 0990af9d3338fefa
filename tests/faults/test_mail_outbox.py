"""Mail that is never lost: letters are rows written with their event, sent by the worker with
retries and backoff against a real SMTP server (aiosmtpd on 127.0.0.1) that refuses the first
tries, marked sent only once the server accepted them, and delivered once each."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
from django.urls import reverse
from django.utils import timezone

from governance.committee.notifications import notify_opened
from governance.committee.proposals import proposal_create, proposal_open
from governance.mail import mail_deliver_due, message_id
from governance.models import CommitteeMember, MailState, OutgoingMail, Proposal
from tests.factories import UserFactory
from tests.faults.servers import RefusingMailServer, closed_port, mail_server

pytestmark = [pytest.mark.faults, pytest.mark.django_db]


@pytest.fixture
def seats(chair, member):
    users = [chair, member, *UserFactory.create_batch(3)]
    for user in users:
        CommitteeMember.objects.create(
            user=user, committee_role="sales_director", active_from=datetime.date(2025, 1, 1)
        )
    return users


def smtp_on(settings, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_TIMEOUT = 5


def later(minutes: float) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(minutes=minutes)


@pytest.fixture
def nothing_listening() -> Iterator[int]:
    """A port where no mail server listens, nor can start from a test running beside this one."""
    with closed_port() as port:
        yield port


def test_the_new_proposal_form_answers_while_the_mail_server_is_down(
    settings, client_as, chair, seats, account_of_kam, nothing_listening
) -> None:
    smtp_on(settings, nothing_listening)
    answer = client_as(chair).post(
        reverse("governance:proposal-new"),
        {
            "type": "grant_key",
            "client": account_of_kam.pk,
            "title": "Key for Volga",
            "rationale": "Why",
            "deadline": (timezone.localtime() + datetime.timedelta(days=2)).strftime(
                "%Y-%m-%d %H:%M"
            ),
        },
    )
    proposal = Proposal.objects.get()
    assert answer.status_code == 302
    assert answer.url == proposal.get_absolute_url()
    queued = OutgoingMail.objects.filter(key__startswith=f"proposal-opened:{proposal.pk}:")
    assert queued.count() == len(seats)

    assert mail_deliver_due() == 0  # the worker meets the closed port: the letters wait
    assert set(queued.values_list("state", "attempts")) == {(MailState.QUEUED, 1)}
    assert "Connection refused" in queued.first().last_error


def test_a_refusing_server_gets_every_letter_once_after_retries(
    settings, chair, member, seats, account_of_kam
) -> None:
    handler = RefusingMailServer(refuse_first=3, never=(seats[4].email,))
    with mail_server(handler) as port:
        smtp_on(settings, port)
        proposal = proposal_open(
            proposal=proposal_create(
                type="grant_key", title="Key", rationale="Why", by=chair, client=account_of_kam
            ),
            deadline=timezone.now() + datetime.timedelta(days=2),
        )
        # The same event told twice (a retried task, a second beat) is queued once.
        notify_opened(proposal=proposal)
        letters = OutgoingMail.objects.filter(key__startswith=f"proposal-opened:{proposal.pk}:")
        assert letters.count() == 5

        passes, minutes = [], 0.0
        while letters.filter(state=MailState.QUEUED).exclude(to=seats[4].email).exists():
            passes.append(mail_deliver_due(now=later(minutes)))
            minutes += 1  # the first retries wait 30 s, then 1 min
            assert len(passes) < 10

    print(
        f"\nSMTP refusing the first 3 letters: {len(passes)} passes {passes}, "
        f"{handler.refused} refused, {len(handler.received)} received"
    )
    sent = letters.filter(state=MailState.SENT)
    assert sent.count() == 4
    ids = sorted(message["Message-ID"] for message in handler.received)
    assert ids == sorted(message_id(letter.key) for letter in sent)  # each once, nothing more
    assert sorted(message["To"] for message in handler.received) == sorted(
        user.email for user in seats[:4]
    )
    given_up = letters.get(to=seats[4].email)
    assert (given_up.state, given_up.attempts) == (MailState.GAVE_UP, 1)  # a 550 is final
    assert "No such mailbox" in given_up.last_error
    assert max(sent.values_list("attempts", flat=True)) > 1  # some were tried again
    assert mail_deliver_due(now=later(minutes + 60)) == 0  # nothing is sent twice


def test_the_administrator_reads_the_outbox_and_changes_nothing(
    client_as, administrator, chair, seats, account_of_kam
) -> None:
    proposal_open(
        proposal=proposal_create(
            type="grant_key", title="Key", rationale="Why", by=chair, client=account_of_kam
        ),
        deadline=timezone.now() + datetime.timedelta(days=2),
    )
    letter = OutgoingMail.objects.first()
    admin = client_as(administrator)

    listing = admin.get(reverse("admin:governance_outgoingmail_changelist"))
    assert listing.status_code == 200
    assert letter.to in listing.content.decode()
    assert "Queued" in listing.content.decode()
    assert admin.get(reverse("admin:governance_outgoingmail_add")).status_code == 403
    detail = admin.post(
        reverse("admin:governance_outgoingmail_change", args=[letter.pk]), {"to": "x@example.com"}
    )
    assert detail.status_code == 403
    assert OutgoingMail.objects.get(pk=letter.pk).to == letter.to
    assert client_as(chair).get(
        reverse("admin:governance_outgoingmail_changelist")
    ).status_code in (302, 403)
