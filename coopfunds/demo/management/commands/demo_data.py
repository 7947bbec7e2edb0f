"""Demo data: a vendor running the preset program, partners at every enrollment stage, earnings and funds.

Everything goes through the services a person would use, as the person who would do it. Idempotent: when the
demo vendor's program manager exists, nothing is created and the logins are printed again."""

import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from coopfunds.accounts.models import Location, Organisation, Role, RoleAssignment, User
from coopfunds.accounts.services import location_create, organisation_create
from coopfunds.enrollments import services as enrollment
from coopfunds.enrollments.models import Enrollment
from coopfunds.funds.earnings import earnings_import
from coopfunds.funds.services import run_fund_jobs
from coopfunds.programs import periods
from coopfunds.programs.preset import preset_load

PASSWORD = "coopfunds-demo"  # noqa: S105 (the demo's documented password)
VENDOR_STAFF = [
    ("pm@contoso.example", "Pat Manager", Role.PROGRAM_MANAGER),
    ("reviewer@contoso.example", "Rita Reviewer", Role.REVIEWER),
    ("finance@contoso.example", "Fin Finance", Role.FINANCE),
    ("auditor@contoso.example", "Aud Auditor", Role.AUDITOR),
]
PARTNER_LOGINS = [
    ("admin@fabrikam.example", "Incentives admin, Fabrikam (Berlin enrolled, Paris needs action)"),
    ("user@fabrikam.example", "Incentives user, Fabrikam Berlin (bank details masked)"),
    ("admin@northwind.example", "Incentives admin, Northwind (enrolled, below the co-op threshold)"),
    ("admin@tailspin.example", "Incentives admin, Tailspin (invitation to accept)"),
]


def person(email: str, name: str, org: Organisation) -> User:
    return User.objects.create_user(email, PASSWORD, full_name=name, organisation=org)


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the demo logins."

    def handle(self, *args: Any, **options: Any) -> None:
        if not User.objects.filter(email=VENDOR_STAFF[0][0]).exists():
            self.load()
        self.stdout.write(self.style.SUCCESS("\nCoopfunds demo is ready at http://127.0.0.1:8000/"))
        self.stdout.write(f"Every demo login has the password: {PASSWORD}\n")
        for email, _, role in VENDOR_STAFF:
            self.stdout.write(f"  {email:28} {role.label} (vendor)")
        for email, what in PARTNER_LOGINS:
            self.stdout.write(f"  {email:28} {what}")

    def load(self) -> None:
        today = timezone.localdate()
        with transaction.atomic():
            vendor = Organisation.objects.create(kind=Organisation.Kind.VENDOR, name="Contoso")
            staff = {}
            for email, name, role in VENDOR_STAFF:
                staff[role] = person(email, name, vendor)
                RoleAssignment.objects.create(user=staff[role], role=role)
        pm, reviewer, finance = staff[Role.PROGRAM_MANAGER], staff[Role.REVIEWER], staff[Role.FINANCE]
        program = preset_load(
            vendor=vendor, code="coop", name="Cloud Co-op", currency="USD", fiscal_year=today.year, big=True, actor=pm
        )
        fy = periods.fiscal_year_of(program, today)
        for year in (fy - 1, fy, fy + 1):
            preset_load(
                vendor=vendor, code="coop", name="Cloud Co-op", currency="USD", fiscal_year=year, big=True, actor=pm
            )

        def partner(name: str, sites: list[tuple[str, str, str]], admin: str) -> tuple[list[Location], User]:
            org = organisation_create(name=name, actor=pm)
            locations = [
                location_create(organisation=org, partner_id=pid, name=n, country=c, actor=pm) for pid, n, c in sites
            ]
            with transaction.atomic():
                user = person(admin, f"{name} Admin", org)
                for loc in locations:
                    RoleAssignment.objects.create(user=user, role=Role.INCENTIVES_ADMIN, location=loc, granted_by=pm)
            return locations, user

        (berlin, paris), fab_admin = partner(
            "Fabrikam",
            [("FAB-DE-001", "Fabrikam Berlin", "DE"), ("FAB-FR-001", "Fabrikam Paris", "FR")],
            "admin@fabrikam.example",
        )
        with transaction.atomic():
            fab_user = person("user@fabrikam.example", "Uma User", berlin.organisation)
            RoleAssignment.objects.create(
                user=fab_user, role=Role.INCENTIVES_USER, location=berlin, granted_by=fab_admin
            )
        (seattle,), nw_admin = partner(
            "Northwind Traders", [("NW-US-001", "Northwind Seattle", "US")], "admin@northwind.example"
        )
        (mumbai,), _ = partner("Tailspin Toys", [("TS-IN-001", "Tailspin Mumbai", "IN")], "admin@tailspin.example")

        def enroll(location: Location, admin: User, bank: dict[str, str], tax: tuple[str, str, str]) -> Enrollment:
            e = enrollment.enrollment_invite(location=location, program=program, actor=pm)
            enrollment.payout_profile_submit(location=location, actor=admin, **bank)
            country, tax_id, legal_name = tax
            enrollment.tax_profile_submit(
                location=location,
                country=country,
                tax_id=tax_id,
                legal_name=legal_name,
                expires_on=today + timedelta(days=700),
                actor=admin,
            )
            e = enrollment.enrollment_accept(enrollment=e, actor=admin)
            for profile in (location.payout_profiles.get(is_current=True), location.tax_profiles.get(is_current=True)):
                enrollment.profile_approve(profile=profile, actor=reviewer)
            return enrollment.enrollment_approve(enrollment=Enrollment.objects.get(pk=e.pk), actor=reviewer)

        sepa = {
            "method": "sepa",
            "currency": "EUR",
            "beneficiary_name": "Fabrikam GmbH",
            "bank_country": "DE",
            "bank_name": "Commerzbank",
            "iban": "DE89370400440532013000",
            "bic": "COBADEFFXXX",
        }
        enroll(berlin, fab_admin, sepa, ("DE", "DE123456789", "Fabrikam GmbH"))
        wire = {
            "method": "wire",
            "currency": "USD",
            "beneficiary_name": "Northwind Traders Inc",
            "bank_country": "US",
            "bank_name": "Example Bank",
            "account_number": "000123456789",
            "routing_code": "026009593",
            "bic": "CHASUS33XXX",
        }
        enroll(seattle, nw_admin, wire, ("US", "12-3456789", "Northwind Traders Inc"))
        paris_enrollment = enrollment.enrollment_invite(location=paris, program=program, actor=pm)
        enrollment.enrollment_accept(enrollment=paris_enrollment, actor=fab_admin)  # no profiles yet: action required
        enrollment.enrollment_invite(location=mumbai, program=program, actor=pm)

        # The demo's history: both enrolled locations have earned since the start of the previous period.
        current = periods.period_containing(program, today)
        previous = periods.previous_period(program, current)
        Enrollment.objects.filter(location__in=[berlin, seattle], program=program).update(earnings_start=previous.start)
        rows = [
            "earned date,partner ID,program code,amount,currency,earning type,product,customer reference,external line ID"
        ]
        n = 0
        for start, end, scale in ((previous.start, previous.end, 1), (current.start, today, 1)):
            day = start
            while day <= end:
                for pid, base in (("FAB-DE-001", Decimal("9000.00")), ("NW-US-001", Decimal("450.00"))):
                    n += 1
                    rows.append(
                        f"{day},{pid},coop,{base * scale + n},USD,revenue,Cloud subscriptions,CUST-{n % 7},DEMO-{n:05d}"
                    )
                day += timedelta(days=14)
        batch = earnings_import(
            stream=io.BytesIO("\n".join(rows).encode()), file_name="demo-earnings.csv", actor=finance
        )
        assert batch.status == "applied", batch.errors[:3]
        run_fund_jobs(today)
