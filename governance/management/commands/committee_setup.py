from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from governance.committee.seats import CommitteeAlreadySetUp, SeatPlan, committee_setup
from governance.models import CommitteeRole


class Command(BaseCommand):
    help = (
        "Seat the first committee, once, and record who did it. Refused when any seat exists: "
        "from then on seats and the chair change only by the committee's own decisions."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--by", required=True, help="Username of the person running the set-up (recorded)."
        )
        parser.add_argument(
            "--seat",
            action="append",
            default=[],
            metavar="USERNAME:ROLE",
            help=f"A seat to give; ROLE is one of {', '.join(CommitteeRole.values)}. Repeat.",
        )
        parser.add_argument("--chair", required=True, help="Username of the seated chair.")

    def handle(
        self, *args: object, by: str, seat: list[str], chair: str, **options: object
    ) -> None:
        runner = _user(by)
        plans = []
        for entry in seat:
            username, _sep, role = entry.partition(":")
            plans.append(
                SeatPlan(user=_user(username), committee_role=role, is_chair=username == chair)
            )
        try:
            seats = committee_setup(seats=plans, by=runner)
        except (ValidationError, CommitteeAlreadySetUp) as exc:
            raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"The committee is set up: {len(seats)} seats, recorded as by {runner}."
            )
        )


def _user(username: str) -> User:
    try:
        return User.objects.get(username=username)
    except User.DoesNotExist:
        raise CommandError(f"No user {username!r}.") from None
