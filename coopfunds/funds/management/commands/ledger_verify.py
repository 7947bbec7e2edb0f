from typing import Any

from django.core.management.base import BaseCommand, CommandError

from coopfunds.funds.selectors import ledger_drift, unbalanced_transfers


class Command(BaseCommand):
    help = "Recompute every balance from the ledger entries and report any drift from the cached balances."

    def handle(self, *args: Any, **options: Any) -> None:
        drift = ledger_drift()
        unbalanced = unbalanced_transfers()
        for d in drift:
            self.stdout.write(f"DRIFT {d.label}: cached {d.cached}, entries say {d.recomputed}")
        for transfer_id in unbalanced:
            self.stdout.write(f"UNBALANCED transfer {transfer_id}")
        if drift or unbalanced:
            raise CommandError(f"{len(drift)} drifting balance(s), {len(unbalanced)} unbalanced transfer(s).")
        self.stdout.write("Ledger consistent: every cached balance equals its entries; every transfer sums to zero.")
