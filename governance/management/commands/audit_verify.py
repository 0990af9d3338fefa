"""``manage.py audit_verify``: walk the record's hash chain and the governed rows, and
recompute every decision's digest from its ballots; name the first broken link and exit
non-zero, or print the head of the chain (worth writing down: an
entry removed from the end leaves the rest of the chain whole)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from governance.committee.versions import decision_digest_mismatch
from governance.record.verify import record_verify


class Command(BaseCommand):
    help = "Verify the tamper-evident record: its hash chain, and every governed row against it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default="default")
        parser.add_argument(
            "--chain-only",
            action="store_true",
            help="Walk the chain only, not the governed rows against it.",
        )

    def handle(self, *args: Any, database: str, chain_only: bool, **options: Any) -> None:
        if connections[database].vendor != "postgresql":
            raise CommandError("The record is kept in PostgreSQL only; this database is not.")
        verdict = record_verify(using=database, rows=not chain_only)
        if verdict.broken is not None:
            raise CommandError(
                f"The record is broken after {verdict.entries} good entries: "
                f"{verdict.broken.describe()}."
            )
        if not chain_only and (decision := decision_digest_mismatch()) is not None:
            raise CommandError(
                f"Decision {decision.pk} (proposal {decision.proposal_id}) no longer has its "
                f"digest {decision.digest}: its ballots, entitled members or rule changed."
            )
        self.stdout.write(
            f"The record holds: {verdict.entries} entries chained"
            + (
                ""
                if chain_only
                else ", every governed row as last recorded, every decision's digest"
            )
            + f"; head entry {verdict.head_id}, hash {verdict.head_hash}."
        )
