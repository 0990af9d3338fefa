"""E-mail, the leaf every context sends through, as an outbox: a context queues its letters in
the transaction of the event (``mail_queue``), and the worker delivers them after the commit
(``mail_deliver_due``, every 30 s on the beat). What a letter says is written by the context.

* Nothing is lost: a letter is a row; if the event rolls back, so does the letter.
* Nothing is told that did not happen: the worker reads only committed rows.
* A refusing or absent mail server delays letters, never an action: the request that queued
  them has answered already. Each letter is retried with a backoff (30 s doubling to an hour)
  for about a day, then left as "gave up" for the administrator to see (admin, read-only); a
  letter the server refuses for good (5xx, no such mailbox) is given up at once.
* Written in each recipient's language (``User.language``, the site's when blank), not in
  that of whoever acted: a context passes what a letter says as functions, which are called
  once per language among the recipients, with that language active.
* Never sent twice: the letter's key names its event and recipient (queued once however often
  the event is told); a delivery claims its rows first, and a row is marked sent only once the
  server accepted it. A worker killed between the server's acceptance and the mark sends it
  again: its Message-ID, made from the key, is the same, so a mail system may drop the copy.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import logging
import smtplib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, Model, QuerySet
from django.utils import timezone, translation

from governance.models import MailState, OutgoingMail

logger = logging.getLogger(__name__)

FIRST_RETRY = datetime.timedelta(seconds=30)
LONGEST_RETRY = datetime.timedelta(hours=1)
MAX_ATTEMPTS = 30  # 30 s, 1, 2 … 32 min, then hourly: about a day in all
# How long a delivery holds the rows it claimed: longer than a batch takes to send.
CLAIM_FOR = datetime.timedelta(minutes=5)
BATCH_SIZE = 100

_Row = TypeVar("_Row", bound=Model)


@dataclass(frozen=True)
class Attachment:
    """A file sent with every letter of a sending (an invitation's .ics)."""

    filename: str
    content: bytes
    mimetype: str

    def stored(self) -> dict[str, str]:
        """As the outbox row keeps it (JSON): the content in base64."""
        return {
            "filename": self.filename,
            "content": base64.b64encode(self.content).decode("ascii"),
            "mimetype": self.mimetype,
        }

    @classmethod
    def from_stored(cls, stored: dict[str, str]) -> Attachment:
        return cls(stored["filename"], base64.b64decode(stored["content"]), stored["mimetype"])


def when_due(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%d.%m.%Y %H:%M")


# What a letter says: a text, or a function that says it in the active language.
Said = str | Callable[[], str]
Attachments = Sequence[Attachment] | Callable[[], Sequence[Attachment]]


def _say(text: Said) -> str:
    return text() if callable(text) else text


def retry_delay(attempts: int) -> datetime.timedelta:
    """The wait before the next try of a letter that failed ``attempts`` times."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def mail_queue(
    *,
    key: str,
    recipients: list[object],
    subject: Said,
    body: Said,
    path: str,
    title: Said = "",
    attachments: Attachments = (),
) -> int:
    """Queue one letter to each recipient who has an address: the text, what it is about, the
    link. ``key`` names the event (``proposal-opened:12``); with the address it makes the
    letter's idempotency key. Called inside the event's transaction. ``subject``, ``body``,
    ``title`` and ``attachments`` given as functions are called once per language among the
    recipients, with it active, so that each letter is written in its reader's language. The
    subject is put on one line: a header may not hold a line break."""
    languages: dict[str, dict[str, None]] = {}
    seen: set[str] = set()
    for user in recipients:  # in order, once each
        address = getattr(user, "email", "")
        if not address or address in seen:
            continue
        seen.add(address)
        language = getattr(user, "language", "") or settings.LANGUAGE_CODE
        languages.setdefault(language, {})[address] = None
    url = settings.SKAM_BASE_URL.rstrip("/") + path
    letters = []
    for language, addresses in languages.items():
        with translation.override(language):
            said_subject = " ".join(_say(subject).split())
            said_title = _say(title)
            text = f"{_say(body)}\n\n" + (f"{said_title}\n" if said_title else "") + f"{url}\n"
            files = [
                attachment.stored()
                for attachment in (attachments() if callable(attachments) else attachments)
            ]
        letters += [
            OutgoingMail(
                key=f"{key}:{address}",
                to=address,
                subject=said_subject,
                body=text,
                attachments=files,
            )
            for address in addresses
        ]
    OutgoingMail.objects.bulk_create(letters, ignore_conflicts=True)
    return len(seen)


def message_id(key: str) -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "skam"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


def claim_due(queued: QuerySet[_Row], *, now: datetime.datetime, limit: int) -> list[_Row]:
    """Take the due rows of an outbox (``queued``: its rows waiting to be sent, each with a
    ``next_attempt_at``) that nobody else is sending, and hold them for ``CLAIM_FOR``. Shared
    by the e-mail outbox and the webhooks' deliveries."""
    with transaction.atomic():
        rows = list(
            queued.select_for_update(skip_locked=True, of=("self",))
            .filter(next_attempt_at__lte=now)
            .order_by("next_attempt_at", "pk")[:limit]
        )
        queued.model.objects.filter(pk__in=[row.pk for row in rows]).update(
            next_attempt_at=now + CLAIM_FOR
        )
    return rows


def _claim(*, now: datetime.datetime, limit: int) -> list[OutgoingMail]:
    """Take the due letters nobody else is sending."""
    return claim_due(OutgoingMail.objects.filter(state=MailState.QUEUED), now=now, limit=limit)


def _permanent(error: BaseException) -> bool:
    """The server said no for good (a 5xx: no such mailbox): trying again changes nothing."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _message in error.recipients.values())
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


def _failed(letter: OutgoingMail, error: BaseException, *, now: datetime.datetime) -> None:
    attempts = letter.attempts + 1
    gave_up = attempts >= MAX_ATTEMPTS or _permanent(error)
    OutgoingMail.objects.filter(pk=letter.pk, state=MailState.QUEUED).update(
        attempts=attempts,
        state=MailState.GAVE_UP if gave_up else MailState.QUEUED,
        next_attempt_at=now + retry_delay(attempts),
        last_error=repr(error)[:2000],
    )
    logger.warning(
        "E-mail %s to %s failed (attempt %d%s): %r",
        letter.pk,
        letter.to,
        attempts,
        ", given up" if gave_up else "",
        error,
    )


def mail_deliver_due(*, now: datetime.datetime | None = None, limit: int = BATCH_SIZE) -> int:
    """Send the letters that are due, batch after batch; returns how many the server took.
    One letter refused does not stop the others: it waits for its next attempt."""
    sent = 0
    while letters := _claim(now=now or timezone.now(), limit=limit):
        sent += _deliver(letters)
        if len(letters) < limit:
            break
    return sent


def _deliver(letters: list[OutgoingMail]) -> int:
    """Send the claimed letters over one connection."""
    sent = 0
    connection = get_connection(fail_silently=False)
    try:
        for letter in letters:
            message = EmailMessage(
                letter.subject,
                letter.body,
                settings.DEFAULT_FROM_EMAIL,
                [letter.to],
                headers={"Message-ID": message_id(letter.key)},
                connection=connection,
            )
            for stored in letter.attachments:
                file = Attachment.from_stored(stored)
                message.attach(file.filename, file.content, file.mimetype)
            try:
                accepted = message.send()
            except Exception as error:  # refused, unreachable, timed out: try it again later
                _failed(letter, error, now=timezone.now())
                connection.close()  # the next letter opens a fresh session
                continue
            if not accepted:
                _failed(letter, RuntimeError("not accepted"), now=timezone.now())
                continue
            OutgoingMail.objects.filter(pk=letter.pk, state=MailState.QUEUED).update(
                state=MailState.SENT,
                sent_at=timezone.now(),
                attempts=F("attempts") + 1,
                last_error="",
            )
            sent += 1
    finally:
        connection.close()
    return sent
