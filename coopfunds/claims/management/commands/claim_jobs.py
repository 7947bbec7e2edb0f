from datetime import date
from typing import Any

from django.core.management.base import BaseCommand

from coopfunds.claims.tasks import run_claim_jobs


class Command(BaseCommand):
    help = "Warn about and expire old draft claims; escalate overdue reviews (idempotent; run daily)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--today", type=date.fromisoformat, help="Run as of this date (YYYY-MM-DD).")

    def handle(self, *args: Any, today: date | None = None, **options: Any) -> None:
        counts = run_claim_jobs(today)
        self.stdout.write(
            f"Warned {counts['warned']}, expired {counts['expired']} draft(s); escalated {counts['escalated']} review(s)."
        )
