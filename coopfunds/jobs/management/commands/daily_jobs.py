from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from coopfunds.jobs.daily import daily_jobs, run_daily_jobs


class Command(BaseCommand):
    help = "Run every scheduled job once (idempotent; run daily from cron, or --enqueue for a task worker)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", type=date.fromisoformat, help="Run as of this date (YYYY-MM-DD).")
        parser.add_argument("--enqueue", action="store_true", help="Queue the task for a worker instead.")

    def handle(self, *args: Any, today: date | None = None, enqueue: bool = False, **options: Any) -> None:
        if enqueue:
            self.stdout.write(f"Queued task {daily_jobs.enqueue().id}.")
            return
        for name, result in run_daily_jobs(today).items():
            self.stdout.write(f"{name}: {result}")
