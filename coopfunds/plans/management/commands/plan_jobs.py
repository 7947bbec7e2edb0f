from datetime import date
from typing import Any

from django.core.management.base import BaseCommand

from coopfunds.plans.tasks import run_plan_jobs


class Command(BaseCommand):
    help = (
        "Warn about proof of execution falling due; settle approved proof carried above plan limits "
        "(idempotent; run daily, and at least monthly before the payment run)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--today", type=date.fromisoformat, help="Run as of this date (YYYY-MM-DD).")

    def handle(self, *args: Any, today: date | None = None, **options: Any) -> None:
        counts = run_plan_jobs(today)
        self.stdout.write(
            f"Warned {counts['warned']} campaign(s); settled {counts['settled']} and released {counts['released']} "
            "carried proof(s)."
        )
