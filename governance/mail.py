"""E-mail, the leaf every context sends through: one letter per recipient with an address,
sent over one connection. What a letter says is written by the context that sends it.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection, send_mass_mail
from django.utils import timezone


@dataclass(frozen=True)
class Attachment:
    """A file sent with every letter of a sending (an invitation's .ics)."""

    filename: str
    content: bytes
    mimetype: str


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
    """Send them over one connection."""
    return send_mass_mail(letters, fail_silently=False) if letters else 0


def mail_send(
    recipients: list[object],
    subject: str,
    body: str,
    path: str,
    *,
    title: str = "",
    attachments: Sequence[Attachment] = (),
) -> int:
    letters = letters_to(recipients, subject, body, path, title=title)
    if not attachments or not letters:
        return letters_post(letters)
    files = [(file.filename, file.content, file.mimetype) for file in attachments]
    with get_connection() as connection:
        return connection.send_messages(
            [
                EmailMessage(subject, text, sender, to, attachments=files)
                for subject, text, sender, to in letters
            ]
        )
