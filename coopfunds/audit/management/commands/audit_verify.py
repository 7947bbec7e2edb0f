from typing import Any

from django.core.management.base import BaseCommand, CommandError

from coopfunds.audit.sealing import audit_verify


class Command(BaseCommand):
    help = "Recompute the audit hash chain: find rows edited or deleted behind the application's back."

    def handle(self, *args: Any, **options: Any) -> None:
        problems, head = audit_verify()
        for problem in problems:
            self.stderr.write(str(problem))
        if problems:
            raise CommandError(f"The audit trail was tampered with: {len(problems)} problem(s).")
        self.stdout.write(f"The audit trail is intact: {head.last_seq} sealed row(s), head {head.last_hash}.")
