"""``manage.py audit_verify``: walk the record's hash chain and the governed rows; name the
first broken link and exit non-zero, or print the head of the chain (worth writing down: an
entry removed from the end leaves the rest of the chain whole)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

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
        self.stdout.write(
            f"The record holds: {verdict.entries} entries chained"
            + ("" if chain_only else ", every governed row as last recorded")
            + f"; head entry {verdict.head_id}, hash {verdict.head_hash}."
        )
