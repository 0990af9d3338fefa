from django.core.management.base import BaseCommand, CommandError, CommandParser

from skam.demo import DEMO_PASSWORD, DEMO_USERS, DemoRefused, demo_load


class Command(BaseCommand):
    help = "Load the demo company (idempotent; refuses a database holding other data)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Skip quietly, instead of failing, when the database holds other data.",
        )

    def handle(self, *args: object, if_empty: bool = False, **options: object) -> None:
        try:
            loaded = demo_load()
        except DemoRefused as exc:
            if if_empty:
                self.stdout.write(f"Demo data not loaded: {exc}")
                return
            raise CommandError(str(exc)) from exc
        if loaded:
            self.stdout.write(self.style.SUCCESS("Demo company loaded."))
        else:
            self.stdout.write("Demo company already loaded; nothing changed.")
        self.stdout.write(f"\nDemo users (password '{DEMO_PASSWORD}'):")
        for user in DEMO_USERS:
            self.stdout.write(f"  {user.username:<11} {user.title}")
        self.stdout.write("")
