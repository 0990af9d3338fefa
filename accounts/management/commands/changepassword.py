"""Replaces Django's ``changepassword``, which sets anyone's password from the shell: in SKAM a
password is set only by its owner. ``accounts`` comes before ``django.contrib.auth`` in
INSTALLED_APPS so that this command is the one ``manage.py`` finds."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Refuses to set a password: its owner sets it through 'Forgot your password?' on the "
        "sign-in page, or with 'Change my password' when signed in."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", nargs="?")
        parser.add_argument("--database")

    def handle(self, *args: object, **options: object) -> None:
        raise CommandError(
            "SKAM does not set anyone's password from the command line. Its owner sets it "
            "through 'Forgot your password?' on the sign-in page (a link to the e-mail address "
            "on record), or with 'Change my password' when signed in."
        )
