from typing import Any

from django.core.management.base import BaseCommand

from coopfunds.audit.models import AuditSeal
from coopfunds.audit.sealing import audit_seal


class Command(BaseCommand):
    help = "Seal the audit rows written since the last run into the hash chain; prints the chain's head."

    def handle(self, *args: Any, **options: Any) -> None:
        count = audit_seal()
        head = AuditSeal.objects.filter(pk=1).first()
        last = f"#{head.last_seq} {head.last_hash}" if head else "#0 (empty)"
        self.stdout.write(f"Sealed {count} audit row(s); the chain's head is {last}.")
