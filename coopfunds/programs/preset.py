"""The program DOMAIN.md describes, as data: the default a vendor starts from and then changes per program.

Amounts are in the program's currency (the preset's numbers are the reference program's USD values)."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from coopfunds.accounts.models import Organisation, User
from coopfunds.audit.services import audit_record
from coopfunds.programs import catalogue, permissions
from coopfunds.programs.catalogue import ActivitySpec, CapSpec, DocumentSpec
from coopfunds.programs.models import ActivityCategory, ActivityType, CapKind, DocumentKind, Program
from coopfunds.programs.services import ProgramRules, activity_type_insert, program_insert

THRESHOLD_BIG = Decimal("10000.00")  # co-op below this per earning period becomes rebate (the big programs)
THRESHOLD_OTHER = Decimal("1500.00")  # ... and for every other program

RULES = ProgramRules(
    fiscal_year_start_month=7,  # FY27 = 1 Jul 2026 – 30 Jun 2027
    period_months=6,  # H1 Jul–Dec, H2 Jan–Jun
    claim_opens_month=2,  # claims open on the 16th of the usage period's second month ...
    claim_opens_day=16,
    claim_closes_days_after_usage=45,  # ... and close 45 days after it ends (usage Jan–Jun: 16 Feb – 15 Aug)
    rebate_percent=Decimal("60.00"),  # 60% rebate, 40% co-op
    review_sla_business_days=2,
    dispute_sla_business_days=5,
    payment_sla_business_days=45,
    payment_day=15,
)

DG, MD, PS = ActivityCategory.DEMAND_GENERATION, ActivityCategory.MARKET_DEVELOPMENT, ActivityCategory.PARTNER_SKILLING
D = DocumentKind


def _doc(kind: DocumentKind, note: str, required: bool = True) -> DocumentSpec:
    return DocumentSpec(kind=kind, required=required, note=note)


def _percent(percent: str, floor: str | None = None) -> CapSpec:
    return CapSpec(kind=CapKind.PERIOD_PERCENT, percent=Decimal(percent), amount=Decimal(floor) if floor else None)


CATALOGUE: tuple[ActivitySpec, ...] = (
    ActivitySpec(
        code="digital-advertising",
        name="Digital advertising",
        category=DG,
        core_requirements="Paid online advertising that names the vendor's solution.",
        metrics=("Results summary",),
        eligible_expenses="Search, display, social and video ad placements; agency fees for them.",
        documents=(
            _doc(D.SCREENSHOT, "A screenshot of the ad as it ran."),
            _doc(D.LANDING_PAGE, "The URL of the landing page the ad leads to."),
        ),
    ),
    ActivitySpec(
        code="direct-marketing",
        name="Direct mail, email and SMS",
        category=DG,
        core_requirements="A campaign sent to a defined list of prospects or customers.",
        metrics=("Estimated reach",),
        eligible_expenses="Design, printing, postage, sending platforms, list rental.",
        documents=(
            _doc(D.FINAL_PIECE, "The final mail piece, email or message as sent."),
            _doc(D.PROOF_OF_DISTRIBUTION, "Proof it was sent: postal receipt or the platform's send report."),
        ),
    ),
    ActivitySpec(
        code="seminars-bootcamps",
        name="Seminars and boot camps",
        category=DG,
        core_requirements="An in-person or online event for customers about the vendor's solutions.",
        metrics=("Registered guests",),
        eligible_expenses="Venue, equipment, speakers, printed materials, catering.",
        ineligible_expenses="Alcohol, never; gifts and prizes.",
        documents=(
            _doc(D.INVITATION_AGENDA, "The invitation and the agenda."),
            _doc(D.EVENT_PHOTOS, "Photos of the event showing the audience and the vendor's branding."),
            _doc(D.ATTENDEE_LIST, "The list of guests who registered.", required=False),
        ),
    ),
    ActivitySpec(
        code="syndicated-content",
        name="Syndicated content",
        category=DG,
        core_requirements="Vendor content published through a syndication service on the partner's channels.",
        metrics=("Content views",),
        eligible_expenses="The syndication service's fees.",
        documents=(_doc(D.SCREENSHOT, "A screenshot of the content on the partner's channel."),),
        caps=(CapSpec(kind=CapKind.PERIOD_AMOUNT, amount=Decimal("18750.00")),),
    ),
    ActivitySpec(
        code="customer-offers",
        name="Customer offers",
        category=DG,
        core_requirements="A discount or offer to customers buying the vendor's solutions.",
        metrics=("Customers who took the offer",),
        documents=(_doc(D.OTHER, "The offer's terms and the list of customers who took it."),),
        caps=(_percent("25.00"),),
    ),
    ActivitySpec(
        code="internal-incentives",
        name="Internal incentives (SPIFFs)",
        category=MD,
        core_requirements="Sales incentives for the partner's own staff who sell the vendor's solutions.",
        metrics=("Staff rewarded",),
        ineligible_expenses="Cash paid to vendor employees.",
        documents=(_doc(D.OTHER, "The incentive's rules and the list of staff rewarded."),),
        caps=(_percent("25.00"),),
    ),
    ActivitySpec(
        code="onsite-champ",
        name="On-site champ",
        category=MD,
        core_requirements="A dedicated person at the partner who promotes the vendor's solutions.",
        metrics=("Opportunities created",),
        eligible_expenses="The champ's salary share for the time spent on the role.",
        documents=(_doc(D.OTHER, "The champ's role description and time report."),),
        caps=(_percent("50.00"),),
    ),
    ActivitySpec(
        code="vendor-conferences",
        name="Vendor-hosted conferences",
        category=MD,
        core_requirements="Attending a conference the vendor hosts.",
        metrics=("Attendees",),
        eligible_expenses="Registration, travel and lodging.",
        documents=(
            _doc(D.ATTENDEE_LIST, "Who attended: the registration confirmations."),
            _doc(D.TRAVEL_RECEIPTS, "Receipts for travel and lodging."),
        ),
        caps=(
            CapSpec(kind=CapKind.PER_PERSON, amount=Decimal("5000.00"), expense="travel"),
            CapSpec(kind=CapKind.PER_EVENT_ATTENDEES, count=3),
            CapSpec(kind=CapKind.PERIOD_AMOUNT, amount=Decimal("45000.00")),
        ),
    ),
    ActivitySpec(
        code="demo-units",
        name="Demo units",
        category=MD,
        core_requirements="Devices or licences used to demonstrate the vendor's solutions to customers.",
        metrics=("Demonstrations given",),
        eligible_expenses="Purchase or lease of demonstration units.",
        documents=(_doc(D.OTHER, "Serial numbers or licence keys of the demo units."),),
        caps=(_percent("10.00", floor="3000.00"),),
    ),
    ActivitySpec(
        code="technical-training",
        name="Technical training",
        category=PS,
        core_requirements="Courses that build the partner staff's skills on the vendor's solutions.",
        metrics=("People trained",),
        eligible_expenses="Course fees, trainers, training venues.",
        documents=(_doc(D.ATTENDEE_LIST, "Who took the course."),),
    ),
    ActivitySpec(
        code="certification-exams",
        name="Certification exams",
        category=PS,
        core_requirements="Exams for the vendor's certifications taken by partner staff.",
        metrics=("Certifications earned",),
        eligible_expenses="Exam vouchers and fees.",
        documents=(_doc(D.OTHER, "The certificates or exam results."),),
    ),
    ActivitySpec(
        code="sales-enablement",
        name="Sales enablement workshops",
        category=PS,
        core_requirements="Workshops that teach the partner's sellers to position the vendor's solutions.",
        metrics=("Sellers enabled",),
        eligible_expenses="Facilitators, materials, venue.",
        ineligible_expenses="Alcohol.",
        documents=(
            _doc(D.INVITATION_AGENDA, "The agenda of the workshop."),
            _doc(D.ATTENDEE_LIST, "Who attended."),
        ),
    ),
)


def _vendor(vendor: Organisation | str) -> tuple[Organisation, bool]:
    if isinstance(vendor, Organisation):
        if vendor.kind != Organisation.Kind.VENDOR:
            raise ValidationError({"vendor": f"{vendor} is a partner, not a vendor."})
        return vendor, False
    name = vendor.strip()
    if not name:
        raise ValidationError({"vendor": "Give the vendor's name."})
    found = Organisation.objects.filter(kind=Organisation.Kind.VENDOR, name=name).order_by("pk").first()
    if found:
        return found, False
    return Organisation.objects.create(kind=Organisation.Kind.VENDOR, name=name), True


@transaction.atomic(durable=True)
def preset_load(
    *,
    vendor: Organisation | str,
    code: str,
    name: str,
    currency: str,
    fiscal_year: int,
    big: bool,
    actor: User | None = None,
    holiday_country: str = "",
) -> Program:
    """Create the preset program (unless a program with `code` exists) and the preset catalogue for
    `fiscal_year` (every entry whose code that year lacks). Idempotent: running it again changes nothing, and
    an existing program's rules are never overwritten. `vendor`: the organisation, or a vendor's name (found,
    or created). `actor` None is the system (a management command); a person must be a program manager."""
    errors: dict[str, str] = {}
    catalogue.check_fiscal_year(fiscal_year, errors)
    if errors:
        raise ValidationError(errors)
    if actor is not None and not permissions.can_create_program(actor):
        raise PermissionDenied("Only a program manager for every program can load the preset.")
    org, org_created = _vendor(vendor)
    if actor is not None and org.pk != actor.organisation_id:
        raise PermissionDenied("You can load the preset only for your own organisation.")
    program = Program.objects.select_for_update().filter(code=code.strip()).first()
    changes: dict[str, tuple[object, object]] = {}
    if program is None:
        rules = ProgramRules(**RULES, coop_threshold=THRESHOLD_BIG if big else THRESHOLD_OTHER)
        rules["holiday_country"] = holiday_country
        program = program_insert(vendor=org, code=code, name=name, currency=currency, settings=rules, actor=actor)
        changes["program"] = (None, str(program))
        if org_created:
            changes["vendor"] = (None, org.name)
    elif program.vendor_id != org.pk:
        raise ValidationError({"code": f"The code “{program.code}” belongs to another vendor's program."})
    taken = set(ActivityType.objects.filter(program=program, fiscal_year=fiscal_year).values_list("code", flat=True))
    added = [
        activity_type_insert(program=program, fiscal_year=fiscal_year, spec=spec).code
        for spec in CATALOGUE
        if spec.code not in taken
    ]
    if added:
        changes["activity_types"] = (None, added)
    if changes:
        audit_record(
            actor=actor,
            verb="program.preset_load",
            target=program,
            changes=changes,
            reason=f"Preset catalogue for FY{fiscal_year % 100:02d}.",
        )
    return program
