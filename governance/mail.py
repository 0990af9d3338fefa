"""E-mail, the leaf every context sends through: one letter per recipient with an address,
sent over one connection. What a letter says is written by the context that sends it.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils import timezone

logger = logging.getLogger(__name__)


def when_due(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%d.%m.%Y %H:%M")


def letters_to(
    recipients: list[object], subject: str, body: str, path: str, *, title: str = ""
) -> list[tuple[str, str, str, list[str]]]:
    """One e-mail to each recipient who has an address: the text, what it is about, the link.
    The subject is put on one line: a header may not hold a line break, and a title typed with
    one would otherwise stop the whole sending."""
    subject = " ".join(subject.split())
    url = settings.SKAM_BASE_URL.rstrip("/") + path
    text = f"{body}\n\n" + (f"{title}\n" if title else "") + f"{url}\n"
    return [
        (subject, text, settings.DEFAULT_FROM_EMAIL, [user.email])
        for user in recipients
        if getattr(user, "email", "")
    ]


def letters_post(letters: list[tuple[str, str, str, list[str]]]) -> int:
    """Send them over one connection, each on its own: a letter that cannot go (a bad address
    or header, a refusal by the server) is logged, and the others of the run still go."""
    if not letters:
        return 0
    sent = 0
    with get_connection() as connection:
        for subject, text, sender, recipients in letters:
            letter = EmailMessage(subject, text, sender, recipients, connection=connection)
            try:
                sent += letter.send()
            except Exception:  # whatever the backend raises for this one letter
                logger.exception("Could not send %r to %s", subject, recipients)
    return sent


def mail_send(
    recipients: list[object], subject: str, body: str, path: str, *, title: str = ""
) -> int:
    return letters_post(letters_to(recipients, subject, body, path, title=title))
