from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from coopfunds.documents.services import storage_orphans_delete


class Command(BaseCommand):
    help = "Delete stored files that no document names (left by rolled-back uploads). Run it daily."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--hours", type=int, default=24, help="Only files older than this (default 24).")

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = storage_orphans_delete(older_than=timedelta(hours=options["hours"]))
        self.stdout.write(f"Deleted {len(deleted)} orphaned file(s).")
