"""Enrollments, payout profiles and tax profiles over HTTP. Workflow verbs are their own POST endpoints.

Bank details (`iban`, `bic`, `account_number`, `routing_code`) are null in every response except for the
location's own incentives admins; everyone else gets `masked_account` only.
"""

from datetime import date, datetime
from typing import Any, Literal, cast

from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from coopfunds.accounts.models import Location, User
from coopfunds.accounts.selectors import location_for
from coopfunds.api.common import ERRORS, Country, Currency, Id, Keyset, Text
from coopfunds.core.errors import NotFound, ValidationError
from coopfunds.enrollments import permissions, selectors, services
from coopfunds.enrollments.models import Enrollment, EnrollmentStatus, PayoutMethod, PayoutProfile, TaxProfile
from coopfunds.programs.models import Program

router = Router(tags=["enrollments"])


# --- schemas -------------------------------------------------------------------------------------------


class EnrollmentOut(Schema):
    id: int
    location_id: Id
    location_name: str = Field(..., alias="location.name")
    partner_id: str = Field(..., alias="location.partner_id")
    program_id: Id
    program_code: str = Field(..., alias="program.code")
    status: str
    status_label: str = Field(..., alias="get_status_display")
    status_reason: str = Field(..., alias="reason_text", description="In the caller's language.")
    invited_at: datetime | None
    accepted_at: datetime | None
    review_started_at: datetime | None
    enrolled_at: datetime | None
    ended_at: datetime | None
    earnings_start: date | None = Field(..., description="Earnings count from this day (set when enrolled).")


class EnrollmentInviteIn(Schema):
    location_id: Id
    program_id: Id


class SetStatusIn(Schema):
    status: Literal["inactive", "ineligible", "no_longer_supported"]
    reason: Text = Field(..., description="Why, in words the partner understands; shown to them.")


class ReasonIn(Schema):
    reason: Text = Field(..., description="What the partner must fix; shown to them word for word.")


class PayoutProfileIn(Schema):
    method: PayoutMethod
    currency: Currency = Field(..., description="ISO 4217 code; EUR for SEPA")
    beneficiary_name: Text
    bank_country: Country = Field(..., description="ISO 3166 alpha-2 code of the bank's country")
    bank_name: str = ""
    iban: str = Field("", description="Required for SEPA; for wires, the IBAN or the account number")
    bic: str = Field("", description="Required for wires")
    account_number: str = Field("", description="Required for local transfers")
    routing_code: str = ""


def _secret(obj: PayoutProfile, field: str, context: Any) -> str | None:
    user = context["request"].auth
    return str(getattr(obj, field)) if permissions.can_see_bank_details(user, obj.location) else None


class PayoutProfileOut(Schema):
    id: int
    location_id: Id
    is_current: bool
    status: str
    status_reason: str
    method: str
    currency: str
    beneficiary_name: str
    bank_name: str
    bank_country: str
    masked_account: str
    iban: str | None = Field(None, description="Only for the location's incentives admins, else null.")
    bic: str | None = Field(None, description="Only for the location's incentives admins, else null.")
    account_number: str | None = Field(None, description="Only for the location's incentives admins, else null.")
    routing_code: str | None = Field(None, description="Only for the location's incentives admins, else null.")
    created_at: datetime
    validated_at: datetime | None

    @staticmethod
    def resolve_bank_country(obj: PayoutProfile) -> str:
        return str(obj.bank_country)

    @staticmethod
    def resolve_iban(obj: PayoutProfile, context: Any) -> str | None:
        return _secret(obj, "iban", context)

    @staticmethod
    def resolve_bic(obj: PayoutProfile, context: Any) -> str | None:
        return _secret(obj, "bic", context)

    @staticmethod
    def resolve_account_number(obj: PayoutProfile, context: Any) -> str | None:
        return _secret(obj, "account_number", context)

    @staticmethod
    def resolve_routing_code(obj: PayoutProfile, context: Any) -> str | None:
        return _secret(obj, "routing_code", context)


class TaxProfileIn(Schema):
    country: Country
    tax_id: Text
    legal_name: Text
    expires_on: date = Field(..., description="Must be in the future")


class TaxProfileOut(Schema):
    id: int
    location_id: Id
    is_current: bool
    status: str
    status_reason: str
    country: str
    tax_id: str
    legal_name: str
    expires_on: date
    has_document: bool
    created_at: datetime
    validated_at: datetime | None

    @staticmethod
    def resolve_country(obj: TaxProfile) -> str:
        return str(obj.country)

    @staticmethod
    def resolve_has_document(obj: TaxProfile) -> bool:
        return bool(obj.document)


# --- lookups -------------------------------------------------------------------------------------------


def _actor(request: HttpRequest) -> User:
    """The authenticated caller (token owner or session user): every endpoint requires one."""
    return cast(User, request.auth)  # type: ignore[attr-defined]


def _location(request: HttpRequest, pk: int, *, field: str | None = None) -> Location:
    """A location the caller may see; as a body field, an unknown one is a field error."""
    try:
        return location_for(_actor(request), pk)
    except NotFound:
        if field is None:
            raise
        raise ValidationError({field: gettext("No location with this id.")}) from None


def _program(pk: int) -> Program:
    try:
        return selectors.program_by_id(pk)
    except NotFound:
        raise ValidationError({"program_id": gettext("No program with this id.")}) from None


# --- enrollments ---------------------------------------------------------------------------------------


@router.get("/enrollments", response={200: list[EnrollmentOut], **ERRORS})
@paginate(Keyset)
def enrollment_list(
    request: HttpRequest,
    status: EnrollmentStatus | None = None,
    program_id: Id | None = None,
    location_id: Id | None = None,
) -> Any:
    """Enrollments the caller may see, optionally filtered."""
    items = selectors.enrollments_visible_to(_actor(request))
    if status:
        items = items.filter(status=status)
    if program_id is not None:
        items = items.filter(program_id=program_id)
    if location_id is not None:
        items = items.filter(location_id=location_id)
    return items


@router.get("/enrollments/{enrollment_id}", response={200: EnrollmentOut, **ERRORS})
def enrollment_get(request: HttpRequest, enrollment_id: Id) -> Enrollment:
    return selectors.enrollment_for(_actor(request), enrollment_id)


@router.post("/enrollments", response={201: EnrollmentOut, **ERRORS})
def enrollment_invite(request: HttpRequest, data: EnrollmentInviteIn) -> Status[Enrollment]:
    """Invite a location to a program (program managers). Its incentives admins get an email."""
    location = _location(request, data.location_id, field="location_id")
    program = _program(data.program_id)
    return Status(201, services.enrollment_invite(location=location, program=program, actor=_actor(request)))


def _enrollment(request: HttpRequest, enrollment_id: Id) -> Enrollment:
    return selectors.enrollment_for(_actor(request), enrollment_id)


@router.post("/enrollments/{enrollment_id}/accept", response={200: EnrollmentOut, **ERRORS})
def enrollment_accept(request: HttpRequest, enrollment_id: Id) -> Enrollment:
    """Accept an invitation (the location's incentives admins): Reviewing enrollment, or Action required
    with what is missing."""
    return services.enrollment_accept(enrollment=_enrollment(request, enrollment_id), actor=_actor(request))


@router.post("/enrollments/{enrollment_id}/approve", response={200: EnrollmentOut, **ERRORS})
def enrollment_approve(request: HttpRequest, enrollment_id: Id) -> Enrollment:
    """Approve an enrollment under review (reviewers, program managers): both current profiles must be
    approved and the tax profile not expired. Earnings count from the first day of this month."""
    return services.enrollment_approve(enrollment=_enrollment(request, enrollment_id), actor=_actor(request))


@router.post("/enrollments/{enrollment_id}/set-status", response={200: EnrollmentOut, **ERRORS})
def enrollment_set_status(request: HttpRequest, enrollment_id: Id, data: SetStatusIn) -> Enrollment:
    """End an enrollment: Inactive, Ineligible or No longer supported, with a reason (program managers)."""
    return services.enrollment_set_status(
        enrollment=_enrollment(request, enrollment_id),
        status=data.status,
        reason=data.reason,
        actor=_actor(request),
    )


@router.post("/enrollments/{enrollment_id}/reactivate", response={200: EnrollmentOut, **ERRORS})
def enrollment_reactivate(request: HttpRequest, enrollment_id: Id) -> Enrollment:
    """Bring an ended enrollment back through review (program managers)."""
    return services.enrollment_reactivate(enrollment=_enrollment(request, enrollment_id), actor=_actor(request))


# --- payout profiles -----------------------------------------------------------------------------------


@router.get("/locations/{location_id}/payout-profiles", response={200: list[PayoutProfileOut], **ERRORS})
@paginate(Keyset, ordering=("-id",))
def payout_profile_list(request: HttpRequest, location_id: Id) -> Any:
    """Every payout profile the location had, newest first; `is_current` marks the one in use."""
    return selectors.payout_profiles_of(_location(request, location_id))


@router.post("/locations/{location_id}/payout-profiles", response={201: PayoutProfileOut, **ERRORS})
def payout_profile_submit(request: HttpRequest, location_id: Id, data: PayoutProfileIn) -> Status[PayoutProfile]:
    """Submit a new payout profile (the location's incentives admins). It replaces the current one and waits
    for validation."""
    location = _location(request, location_id)
    return Status(201, services.payout_profile_submit(location=location, actor=_actor(request), **data.dict()))


@router.get("/payout-profiles/{profile_id}", response={200: PayoutProfileOut, **ERRORS})
def payout_profile_get(request: HttpRequest, profile_id: Id) -> PayoutProfile:
    return selectors.payout_profile_for(_actor(request), profile_id)


@router.post("/payout-profiles/{profile_id}/approve", response={200: PayoutProfileOut, **ERRORS})
def payout_profile_approve(request: HttpRequest, profile_id: Id) -> Any:
    """Validate a payout profile (reviewers, program managers)."""
    profile = selectors.payout_profile_for(_actor(request), profile_id)
    return services.profile_approve(profile=profile, actor=_actor(request))


@router.post("/payout-profiles/{profile_id}/request-action", response={200: PayoutProfileOut, **ERRORS})
def payout_profile_request_action(request: HttpRequest, profile_id: Id, data: ReasonIn) -> Any:
    """Send a payout profile back to the partner with what to fix (reviewers, program managers)."""
    profile = selectors.payout_profile_for(_actor(request), profile_id)
    return services.profile_request_action(profile=profile, reason=data.reason, actor=_actor(request))


# --- tax profiles --------------------------------------------------------------------------------------


@router.get("/locations/{location_id}/tax-profiles", response={200: list[TaxProfileOut], **ERRORS})
@paginate(Keyset, ordering=("-id",))
def tax_profile_list(request: HttpRequest, location_id: Id) -> Any:
    """Every tax profile the location had, newest first; `is_current` marks the one in use."""
    return selectors.tax_profiles_of(_location(request, location_id))


@router.post("/locations/{location_id}/tax-profiles", response={201: TaxProfileOut, **ERRORS})
def tax_profile_submit(
    request: HttpRequest,
    location_id: Id,
    data: Form[TaxProfileIn],
    document: File[UploadedFile | None] = None,
) -> Status[TaxProfile]:
    """Submit a new tax profile as multipart form data, with the registration certificate as `document`
    (optional; PDF, PNG or JPEG up to 10 MB). It replaces the current one and waits for validation."""
    location = _location(request, location_id)
    profile = services.tax_profile_submit(
        location=location,
        country=data.country,
        tax_id=data.tax_id,
        legal_name=data.legal_name,
        expires_on=data.expires_on,
        document=document,
        actor=_actor(request),
    )
    return Status(201, profile)


@router.get("/tax-profiles/{profile_id}", response={200: TaxProfileOut, **ERRORS})
def tax_profile_get(request: HttpRequest, profile_id: Id) -> TaxProfile:
    return selectors.tax_profile_for(_actor(request), profile_id)


@router.get("/tax-profiles/{profile_id}/document", response={200: None, **ERRORS})
def tax_profile_document(request: HttpRequest, profile_id: Id) -> FileResponse:
    """The registration certificate file."""
    profile = selectors.tax_profile_for(_actor(request), profile_id)
    if not profile.document:
        raise NotFound(gettext("This tax profile has no document."))
    name = (profile.document.name or "certificate").rsplit("/", 1)[-1]
    return FileResponse(profile.document.open("rb"), as_attachment=True, filename=name)


@router.post("/tax-profiles/{profile_id}/approve", response={200: TaxProfileOut, **ERRORS})
def tax_profile_approve(request: HttpRequest, profile_id: Id) -> Any:
    """Validate a tax profile (reviewers, program managers); an expired one cannot be approved."""
    profile = selectors.tax_profile_for(_actor(request), profile_id)
    return services.profile_approve(profile=profile, actor=_actor(request))


@router.post("/tax-profiles/{profile_id}/request-action", response={200: TaxProfileOut, **ERRORS})
def tax_profile_request_action(request: HttpRequest, profile_id: Id, data: ReasonIn) -> Any:
    """Send a tax profile back to the partner with what to fix (reviewers, program managers)."""
    profile = selectors.tax_profile_for(_actor(request), profile_id)
    return services.profile_request_action(profile=profile, reason=data.reason, actor=_actor(request))
