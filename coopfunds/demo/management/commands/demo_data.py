"""Demo data: a vendor running the preset program, partners at every enrollment stage, earnings and funds.

Everything goes through the services a person would use, as the person who would do it. Idempotent: when the
demo vendor's program manager exists, nothing is created and the logins are printed again."""

import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone
from PIL import Image

from coopfunds.accounts.models import Location, Organisation, Role, RoleAssignment, User
from coopfunds.accounts.services import location_create, organisation_create
from coopfunds.associations import services as association_services
from coopfunds.associations.configuration import association_defaults_load
from coopfunds.claims import services as claim_services
from coopfunds.enrollments import services as enrollment
from coopfunds.enrollments.models import Enrollment
from coopfunds.funds import budgets
from coopfunds.funds.earnings import earnings_import
from coopfunds.funds.models import Fund
from coopfunds.funds.services import run_fund_jobs
from coopfunds.mdf import services as mdf_services
from coopfunds.programs import periods
from coopfunds.programs.models import ActivityType, Program
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


def demo_png(name: str, n: int) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), (30 * n % 256, 90, 160)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def demo_pdf(name: str, n: int) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (420, 594), (255, 255 - n, 255)).save(buffer, "PDF")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/pdf")


def person(email: str, name: str, org: Organisation) -> User:
    return User.objects.create_user(email, PASSWORD, full_name=name, organisation=org)


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the demo logins."

    def handle(self, *args: Any, **options: Any) -> None:
        if not User.objects.filter(email=VENDOR_STAFF[0][0]).exists():
            # The demo's invitations and notifications go nowhere: its people are invented.
            with override_settings(MAILERS={"default": {"BACKEND": "django.core.mail.backends.dummy.EmailBackend"}}):
                self.load()
        self.stdout.write(self.style.SUCCESS(f"\nCoopfunds demo is ready at {settings.SITE_URL.rstrip('/')}/"))
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
        association_defaults_load(program=program)
        self.claims(program, berlin, fab_admin, fab_user, reviewer, today)
        self.association(program, berlin, fab_admin)
        self.budget(program, pm, berlin, seattle, current)
        self.fund_requests(program, pm, reviewer, (fab_admin, fab_user, nw_admin), berlin, seattle, current, today)

    def budget(self, program: Program, pm: User, berlin: Location, seattle: Location, current: Any) -> None:
        """Market development funds for the current period: 50,000.00, of which Berlin has 12,000.00 and Seattle
        8,000.00 (after 1,500.00 moved from Berlin), and 30,000.00 is the pool."""
        budget = budgets.budget_create(
            program=program,
            name=f"MDF {current.label}",
            starts_on=current.start,
            ends_on=current.end,
            total=Decimal("50000.00"),
            actor=pm,
        )
        berlin_share = budgets.allocation_set(budget=budget, location=berlin, amount=Decimal("13500.00"), actor=pm)
        seattle_share = budgets.allocation_set(budget=budget, location=seattle, amount=Decimal("6500.00"), actor=pm)
        budgets.allocation_move(
            source=berlin_share,
            target=seattle_share,
            amount=Decimal("1500.00"),
            reason="Seattle's launch event moved into this period.",
            actor=pm,
        )

    def fund_requests(
        self,
        program: Program,
        pm: User,
        reviewer: User,
        partners: tuple[User, User, User],
        berlin: Location,
        seattle: Location,
        current: Any,
        today: date,
    ) -> None:
        """The next period's budget (40,000.00; Berlin has 15,000.00) and a fund request in every state: Berlin's
        draft, submitted, under review, sent back for changes, approved, rejected, withdrawn and one whose money
        was given back; Seattle's approved from the pool (it has no allocation of this budget)."""
        fab_admin, fab_user, nw_admin = partners
        upcoming = periods.next_period(program, current)
        budget = budgets.budget_create(
            program=program,
            name=f"MDF {upcoming.label}",
            starts_on=upcoming.start,
            ends_on=upcoming.end,
            total=Decimal("40000.00"),
            actor=pm,
        )
        budgets.allocation_set(budget=budget, location=berlin, amount=Decimal("15000.00"), actor=pm)
        fiscal_year = periods.fiscal_year_of(program, upcoming.start)
        seminar = ActivityType.objects.get(program=program, fiscal_year=fiscal_year, code="seminars-bootcamps")
        first = max(upcoming.start, today + timedelta(days=program.request_lead_days + 7))
        Line = mdf_services.Line

        def filed(name: str, weeks: int, lines: list[Any], actor: User = fab_admin, at: Location = berlin) -> Any:
            starts = first + timedelta(weeks=weeks)
            request = mdf_services.request_create(
                budget=budget,
                location=at,
                activity_type=seminar,
                name=name,
                description="Half a day of talks and demos for customers, then a reception.",
                starts_on=starts,
                ends_on=starts + timedelta(days=1),
                expected_leads=30 + 5 * weeks,
                expected_pipeline=Decimal(120000 + 10000 * weeks),
                lines=lines,
                actor=actor,
            )
            return request

        def venue(amount: str) -> list[Any]:
            return [
                Line("event", "Venue and equipment", Decimal(amount)),
                Line("catering", "Lunch and reception", Decimal("800.00")),
                Line("advertising", "Invitations (LinkedIn)", Decimal("600.00")),
            ]

        def sent(request: Any, actor: User = fab_admin) -> Any:
            return mdf_services.request_submit(request=request, actor=actor)

        filed("Partner summit booth", 8, venue("5200.00"))  # a draft
        sent(filed("Security webinar series", 1, [Line("content", "Recording and editing", Decimal("2400.00"))]))
        taken = sent(filed("Data platform bootcamp", 2, venue("3000.00"), actor=fab_user), actor=fab_user)
        mdf_services.request_assign(request=taken, reviewer=reviewer, actor=reviewer)
        back = sent(filed("Customer roadshow", 3, venue("6100.00")))
        mdf_services.request_changes(
            request=back, actor=reviewer, message="Split the venue cost per city, and add the expected attendees."
        )
        mdf_services.request_approve(request=sent(filed("AI readiness seminar", 4, venue("4200.00"))), actor=reviewer)
        mdf_services.request_reject(
            request=sent(filed("Golf day", 5, [Line("event", "Green fees", Decimal("3800.00"))])),
            actor=reviewer,
            message="Leisure events are not market development.",
        )
        mdf_services.request_withdraw(request=filed("Spring newsletter", 6, venue("900.00")), actor=fab_admin)
        cancelled = mdf_services.request_approve(
            request=sent(filed("Cloud migration workshop", 7, venue("2500.00"))), actor=reviewer
        )
        mdf_services.request_give_back(request=cancelled, actor=fab_admin, reason="The speaker cancelled.")
        mdf_services.request_approve(
            request=sent(filed("Seattle launch event", 2, venue("7000.00"), actor=nw_admin, at=seattle), nw_admin),
            actor=reviewer,
        )

    def claims(self, program: Program, berlin: Location, admin: User, user: User, reviewer: User, today: date) -> None:
        """Berlin's claims against its available fund: one approved, one waiting for review, one draft."""
        fund = (
            Fund.objects.filter(location=berlin, program=program, closed_at__isnull=False)
            .order_by("-usage_start")
            .first()
        )
        if fund is None or not (fund.claim_opens <= today <= fund.claim_closes):
            return
        fiscal_year = periods.fiscal_year_of(program, fund.usage_start)
        activity = ActivityType.objects.get(program=program, fiscal_year=fiscal_year, code="syndicated-content")
        start = fund.usage_start
        for n, (name, amount, decide) in enumerate(
            [
                ("Partner newsletter, September", "2400.00", "approve"),
                ("Industry portal articles", "3150.00", "submit"),
                ("Year-end web series", "1800.00", "draft"),
            ],
            start=1,
        ):
            claim = claim_services.claim_create(
                fund=fund,
                activity_type=activity,
                name=name,
                actor=user if decide == "draft" else admin,
                execution_start=start + timedelta(days=30 * n),
                execution_end=start + timedelta(days=30 * n + 14),
                amount=Decimal(amount),
                invoice_vendor="Contoso Media",
                invoice_number=f"CM-2026-{n:03d}",
                invoice_date=start + timedelta(days=30 * n + 20),
                invoice_amount=Decimal(amount),
                invoice_currency="USD",
                metrics={m: f"{1200 * n} views" for m in activity.metrics},
            )
            if decide == "draft":
                continue
            claim_services.claim_add_documents(
                claim=claim, uploads=[demo_pdf(f"invoice-CM-2026-{n:03d}.pdf", n)], kind="invoice", note="", actor=admin
            )
            claim_services.claim_add_documents(
                claim=claim, uploads=[demo_png(f"article-{n}.png", n)], kind="screenshot", note="", actor=admin
            )
            claim = claim_services.claim_submit(claim=claim, actor=admin)
            if decide == "approve":
                claim_services.claim_approve(claim=claim, actor=reviewer)

    def association(self, program: Program, berlin: Location, admin: User) -> None:
        """A customer association of Berlin's waiting for review."""
        from coopfunds.associations.models import AssociationOption

        options = {
            kind: code for kind, code in AssociationOption.objects.filter(program=program).values_list("kind", "code")
        }
        association = association_services.association_create(
            location=berlin,
            program=program,
            actor=admin,
            customer_name="Woodgrove Bank",
            customer_tenant_id="3f2504e0-4f89-11d3-9a0c-0305e82c3301",
            customer_domain="woodgrove.example",
            solution_area=options.get("solution_area", ""),
            partner_role=options.get("partner_role", ""),
            workloads=[options["workload"]] if "workload" in options else [],
            subscription_ids=[],
            customer_contact_name="Wendy Woodgrove",
            customer_contact_email="wendy@woodgrove.example",
            partner_contact_name="Fabrikam Admin",
            partner_contact_email="admin@fabrikam.example",
            proof=demo_pdf("statement-of-work.pdf", 9),
            proof_note="Statement of work signed by the customer.",
        )
        association_services.association_submit(association=association, actor=admin)
