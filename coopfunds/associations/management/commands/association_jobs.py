from datetime import date
from typing import Any

from django.core.management.base import BaseCommand

from coopfunds.associations.tasks import run_association_jobs


class Command(BaseCommand):
    help = (
        "Reject customer associations whose partner did not answer in time (no partner response) and put in "
        "force those whose customer consent window ended (idempotent; run daily)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--today", type=date.fromisoformat, help="Run as of this date (YYYY-MM-DD).")

    def handle(self, *args: Any, today: date | None = None, **options: Any) -> None:
        counts = run_association_jobs(today)
        self.stdout.write(
            f"Rejected {counts['rejected']} association(s) without partner response; "
            f"{counts['in_force']} association(s) now in force."
        )
