from datetime import date
from typing import Any

from django.core.management.base import BaseCommand

from coopfunds.funds.services import run_fund_jobs
from coopfunds.funds.tasks import fund_jobs


class Command(BaseCommand):
    help = "Close ended earning periods and forfeit expired funds (idempotent; run daily from cron)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--today", type=date.fromisoformat, help="Run as of this date (YYYY-MM-DD).")
        parser.add_argument(
            "--enqueue", action="store_true", help="Queue the task for a worker instead of running it here."
        )

    def handle(self, *args: Any, today: date | None = None, enqueue: bool = False, **options: Any) -> None:
        if enqueue:
            result = fund_jobs.enqueue()
            self.stdout.write(f"Queued task {result.id}.")
            return
        counts = run_fund_jobs(today)
        self.stdout.write(
            f"Closed {counts['closed']} fund(s); re-evaluated {counts['reevaluated']}; "
            f"forfeited {counts['forfeited']} fund(s)."
        )
