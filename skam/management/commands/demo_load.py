from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from skam.demo import (
    DEMO_PASSWORD,
    DEMO_USERS,
    DemoRefused,
    demo_load,
    demo_webhook_point,
    demo_webhook_url,
)
from skam.demo_texts import TEXTS, demo_texts


class Command(BaseCommand):
    help = "Load the demo company (idempotent; refuses a database holding other data)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Skip quietly, instead of failing, when the database holds other data.",
        )
        parser.add_argument(
            "--language",
            choices=sorted(TEXTS),
            default=settings.DEMO_LANGUAGE,
            help="The demo company's language (default: SKAM_DEMO_LANGUAGE, else LANGUAGE_CODE).",
        )

    def handle(
        self, *args: object, if_empty: bool = False, language: str = "en", **options: object
    ) -> None:
        texts = demo_texts(language)
        try:
            loaded = demo_load(language=language)
        except DemoRefused as exc:
            if if_empty:
                self.stdout.write(f"Demo data not loaded: {exc}")
                return
            raise CommandError(str(exc)) from exc
        if loaded:
            self.stdout.write(self.style.SUCCESS(f"Demo company loaded. Its language: {language}."))
        elif demo_webhook_point():
            # Loaded by a run on another port: its receiver is this run's now.
            self.stdout.write(
                f"Demo company already loaded; its webhooks now go to {demo_webhook_url()}."
            )
        else:
            self.stdout.write("Demo company already loaded; nothing changed.")
        self.stdout.write(f"\nDemo users (password '{DEMO_PASSWORD}'):")
        for user in DEMO_USERS:
            self.stdout.write(f"  {user.username:<11} {texts.people[user.username][2]}")
        self.stdout.write("")
