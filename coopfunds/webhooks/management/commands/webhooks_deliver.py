from typing import Any

from django.core.management.base import BaseCommand

from coopfunds.webhooks.services import run_webhooks


class Command(BaseCommand):
    help = "Seal settled audit rows, turn new events into webhook deliveries and send those due (run every minute)."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = run_webhooks()
        self.stdout.write(
            f"Sealed {counts['sealed']} audit row(s); {counts['made']} new delivery(ies); delivered "
            f"{counts['delivered']}, retrying {counts['retrying']}, failed {counts['failed']}."
        )
