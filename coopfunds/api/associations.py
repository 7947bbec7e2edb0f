"""Customer associations over HTTP: filing (create, change, proof, submit, withdraw, dispute, comments), the
review (queue with the service-level clock, take, approve, request action, reject or revoke, competitors),
the history, and the program's association settings (solution areas, partner roles, workloads, deadlines).

A partner sees the associations of the locations their roles cover (another partner's is 404) and learns of
competing claims only that they exist; vendor staff see all, and who competes. The customer's consent has
no API: the customer has no account and answers on the page their emailed link opens."""

from datetime import date, datetime
from typing import Any, cast

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate
from pydantic import ConfigDict

from coopfunds.accounts.models import User
from coopfunds.accounts.permissions import is_vendor_staff
from coopfunds.accounts.selectors import location_for
from coopfunds.api.common import ERRORS, PATTERN_MESSAGES, Domain, Email, Guid, Id, Keyset, Text
from coopfunds.associations import configuration, permissions, selectors, services
from coopfunds.associations.models import (
    Association,
    AssociationEvent,
    AssociationOption,
    AssociationStatus,
    ItemKind,
    OptionKind,
    RejectionReason,
)
from coopfunds.core.errors import NotFound, PermissionDenied, ValidationError
from coopfunds.programs.models import Program
from coopfunds.programs.selectors import program_for

router = Router(tags=["associations"])


def _actor(request: HttpRequest) -> User:
    return cast(User, request.auth)  # type: ignore[attr-defined]  # every endpoint is authenticated


class AssociationStrict(Schema):
    """Input schemas refuse fields they do not know (a PATCH of `status` is an error, not silently ignored)."""

    model_config = ConfigDict(extra="forbid")


# --- schemas -------------------------------------------------------------------------------------------


class AssociationProofOut(Schema):
    id: int = Field(..., description="The document's id.")
    name: str = Field(..., alias="original_name")
    note: str
    file_type: str
    size: int
    sha256: str
    locked: bool = Field(..., alias="is_locked")
    download_url: str

    @staticmethod
    def resolve_download_url(obj: Any) -> str:
        return f"/api/v1/documents/{obj.pk}/download"


class AssociationOut(Schema):
    id: int
    program_id: Id
    location_id: Id
    partner_id: str = Field(..., alias="location.partner_id")
    customer_name: str
    customer_tenant_id: str
    customer_domain: str
    solution_area: str
    partner_role: str
    workloads: list[str] = Field(..., description="Workload codes of the program's list.")
    subscription_ids: list[str]
    customer_contact_name: str
    customer_contact_email: str
    partner_contact_name: str
    partner_contact_email: str
    comments: str
    proof: AssociationProofOut | None
    status: str
    status_label: str
    rejection_reason: str
    decision_note: str
    reviewer_id: Id | None
    submissions: int
    created_at: datetime
    submitted_at: datetime | None
    due_on: date | None = Field(..., description="When the review (or the dispute's review) is due.")
    action_due_on: date | None = Field(..., description="The partner must answer a request for action by then.")
    approved_on: date | None
    consent_closes_on: date | None = Field(..., description="The customer may decline until this day.")
    consent_answer: str = Field(..., description="confirmed, declined, lapsed, or empty.")
    in_force_from: date | None
    in_force_until: date | None
    dispute_deadline: date | None = Field(..., description="A rejection can be disputed until this day.")

    @staticmethod
    def resolve_workloads(obj: Association) -> list[str]:
        return [i.value for i in obj.items.all() if i.kind == ItemKind.WORKLOAD]

    @staticmethod
    def resolve_subscription_ids(obj: Association) -> list[str]:
        return [i.value for i in obj.items.all() if i.kind == ItemKind.SUBSCRIPTION]

    @staticmethod
    def resolve_status_label(obj: Association) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_dispute_deadline(obj: Association) -> date | None:
        return services.dispute_deadline(obj)


class AssociationDetailOut(AssociationOut):
    flags: list[str] = Field(
        ..., description="Competing claims on the same workloads or subscriptions, in the caller's words."
    )

    @staticmethod
    def resolve_flags(obj: Association, context: Any) -> list[str]:
        return selectors.flags_for(_actor(context["request"]), obj)


class AssociationQueueItemOut(AssociationOut):
    age_business_days: int = Field(..., description="Business days since submission (or dispute).")
    days_left: int | None = Field(..., description="Business days until due; negative when overdue.")
    breached: bool = Field(..., description="The review is past its due date.")
    competing: int = Field(..., description="How many other associations claim one of the same things.")

    @staticmethod
    def resolve_age_business_days(obj: Association) -> int:
        return selectors.clock(obj).age

    @staticmethod
    def resolve_days_left(obj: Association) -> int | None:
        return selectors.clock(obj).days_left

    @staticmethod
    def resolve_breached(obj: Association) -> bool:
        return selectors.clock(obj).breached

    @staticmethod
    def resolve_competing(obj: Association) -> int:
        return selectors.competition_counts([obj])[obj.pk]


class AssociationCompetitorOut(Schema):
    item_kind: str
    item: str = Field(..., description="What both claim: a workload code or a subscription ID.")
    association_id: Id
    location_id: Id
    partner_id: str
    partner_name: str
    status: str
    holding: bool = Field(..., description="The other association is approved or in force.")
    since: date | None = Field(..., description="Approved on (holding) or submitted on (open).")


class AssociationEventOut(Schema):
    id: int
    kind: str
    who: str
    message: str = Field(..., description="In the caller's language where the product wrote it.")
    internal: bool
    old_status: str
    new_status: str
    reason: str
    created_at: datetime

    @staticmethod
    def resolve_message(obj: AssociationEvent) -> str:
        return obj.text


class AssociationQuery(Schema):
    status: AssociationStatus | None = None
    program_id: Id | None = None
    location_id: Id | None = None


class AssociationQueueQuery(Schema):
    program_id: Id | None = None
    mine: bool = Field(False, description="Only those the caller took.")
    overdue: bool = False


class AssociationFields(AssociationStrict):
    customer_name: Text | None = Field(None, max_length=200)
    customer_tenant_id: Guid | None = None
    customer_domain: Domain | None = None
    solution_area: str | None = Field(None, description="A code of the program's solution areas.")
    partner_role: str | None = Field(None, description="A code of the program's partner roles.")
    workloads: list[str] | None = Field(None, description="Codes of the program's workloads; replaces the list.")
    subscription_ids: list[Guid] | None = Field(None, description="Subscription IDs (GUIDs); replaces the list.")
    customer_contact_name: str | None = Field(None, max_length=200)
    customer_contact_email: Email | None = None
    partner_contact_name: str | None = Field(None, max_length=200)
    partner_contact_email: Email | None = None
    comments: str | None = Field(None, max_length=5000)


class AssociationCreateIn(AssociationFields):
    location_id: Id
    program_id: Id
    customer_name: Text = Field(..., max_length=200)  # type: ignore[assignment]
    customer_tenant_id: Guid  # type: ignore[assignment]
    customer_domain: Domain  # type: ignore[assignment]


class AssociationProofIn(Schema):
    note: Text = Field(..., description="What the proof shows, e.g. “Statement of work signed on 3 March”.")


class AssociationNoteIn(AssociationStrict):
    note: str = ""


class AssociationDisputeIn(AssociationStrict):
    reason: Text = Field(..., description="Why the rejection is wrong.")


class AssociationRequestActionIn(AssociationStrict):
    message: Text = Field(..., description="What the partner must correct or add.")


class AssociationRejectIn(AssociationStrict):
    reason: RejectionReason = Field(..., description="insufficient_proof, already_associated or customer_mismatch.")
    note: str = ""


class AssociationCommentIn(AssociationStrict):
    message: Text
    internal: bool = Field(False, description="An internal note, seen by vendor staff only.")


class AssociationOptionOut(Schema):
    id: int
    kind: str
    code: str
    label: str
    is_active: bool


class AssociationSettingsOut(Schema):
    program_id: Id
    partner_action_business_days: int
    consent_days: int
    dispute_days: int
    earnings_require_association: bool
    solution_areas: list[AssociationOptionOut]
    partner_roles: list[AssociationOptionOut]
    workloads: list[AssociationOptionOut]


class AssociationSettingsIn(AssociationStrict):
    partner_action_business_days: int | None = Field(None, ge=1, le=60)
    consent_days: int | None = Field(None, ge=1, le=60)
    dispute_days: int | None = Field(None, ge=1, le=365)
    earnings_require_association: bool | None = None


OPTION_CODE = r"^[a-z0-9][a-z0-9-]{0,63}$"
PATTERN_MESSAGES[OPTION_CODE] = gettext_lazy(
    "Use lowercase letters, digits and hyphens (at most 64), e.g. exchange-online."
)


class AssociationOptionIn(AssociationStrict):
    kind: OptionKind
    code: str = Field(..., pattern=OPTION_CODE, description="Lowercase letters, digits, hyphens.")
    label: Text = Field(..., max_length=200)


class AssociationOptionPatchIn(AssociationStrict):
    label: Text | None = Field(None, max_length=200)
    is_active: bool | None = None


# --- helpers -------------------------------------------------------------------------------------------


def _association(request: HttpRequest, association_id: Id) -> Association:
    return selectors.association_for(_actor(request), association_id)


def _fresh(request: HttpRequest, association: Association) -> Association:
    return selectors.association_for(_actor(request), association.pk)


def _fields(data: AssociationFields) -> dict[str, Any]:
    """The fields the client sent (PATCH semantics); None empties a text field or a list."""
    values = data.model_dump(exclude_unset=True, exclude={"location_id", "program_id"})
    for name, value in list(values.items()):
        if value is None:
            values[name] = [] if name in ("workloads", "subscription_ids") else ""
    return values


def _settings(program: Program) -> dict[str, Any]:
    policy = selectors.policy_for(program)
    options = list(selectors.options_of(program))
    return {
        "program_id": program.pk,
        "partner_action_business_days": policy.partner_action_business_days,
        "consent_days": policy.consent_days,
        "dispute_days": policy.dispute_days,
        "earnings_require_association": program.earnings_require_association,
        "solution_areas": [o for o in options if o.kind == OptionKind.SOLUTION_AREA],
        "partner_roles": [o for o in options if o.kind == OptionKind.PARTNER_ROLE],
        "workloads": [o for o in options if o.kind == OptionKind.WORKLOAD],
    }


# --- filing --------------------------------------------------------------------------------------------


@router.get("/associations", response={200: list[AssociationOut], **ERRORS})
@paginate(Keyset, ordering=("-id",))
def association_list(request: HttpRequest, filters: Query[AssociationQuery]) -> QuerySet[Association]:
    """The associations the caller may see, newest first."""
    qs = selectors.associations_visible_to(_actor(request)).prefetch_related("items")
    for name in ("status", "program_id", "location_id"):
        value = getattr(filters, name)
        if value is not None:
            qs = qs.filter(**{name: value})
    return qs


@router.post("/associations", response={201: AssociationDetailOut, **ERRORS})
def association_create(request: HttpRequest, data: AssociationCreateIn) -> Status[Association]:
    """Start an association (Editing) of a location with a customer. Attach the proof with
    `POST /associations/{id}/proof`, then submit it."""
    user = _actor(request)
    try:
        location = location_for(user, data.location_id)
    except NotFound:
        raise ValidationError({"location_id": _("No location with this id.")}) from None
    try:
        program = program_for(user, data.program_id)
    except NotFound:
        raise ValidationError({"program_id": _("No program with this id.")}) from None
    fields = _fields(data)
    created = services.association_create(
        location=location,
        program=program,
        actor=user,
        customer_name=fields.pop("customer_name"),
        customer_tenant_id=fields.pop("customer_tenant_id"),
        customer_domain=fields.pop("customer_domain"),
        **fields,
    )
    return Status(201, _fresh(request, created))


@router.get("/associations/{association_id}", response={200: AssociationDetailOut, **ERRORS})
def association_get(request: HttpRequest, association_id: Id) -> Association:
    return _association(request, association_id)


@router.patch("/associations/{association_id}", response={200: AssociationDetailOut, **ERRORS})
def association_patch(request: HttpRequest, association_id: Id, data: AssociationFields) -> Association:
    """Change the fields sent (only while Editing or Partner action required); status changes have their own
    verbs."""
    association = _association(request, association_id)
    services.association_update(association=association, actor=_actor(request), **_fields(data))
    return _fresh(request, association)


@router.post("/associations/{association_id}/proof", response={200: AssociationDetailOut, **ERRORS})
def association_proof(
    request: HttpRequest, association_id: Id, data: Form[AssociationProofIn], file: File[UploadedFile]
) -> Association:
    """Attach the proof (multipart: `file`, `note`); it replaces an earlier, unsubmitted one. The file goes
    through the documents' checks (type from the content, the program's types and size limit)."""
    association = _association(request, association_id)
    services.association_attach_proof(association=association, upload=file, note=data.note, actor=_actor(request))
    return _fresh(request, association)


@router.post("/associations/{association_id}/submit", response={200: AssociationDetailOut, **ERRORS})
def association_submit(request: HttpRequest, association_id: Id) -> Association:
    """Submit for review, or send the answer to a request for action (422 names what is missing)."""
    association = _association(request, association_id)
    services.association_submit(association=association, actor=_actor(request))
    return _fresh(request, association)


@router.post("/associations/{association_id}/withdraw", response={200: AssociationDetailOut, **ERRORS})
def association_withdraw(request: HttpRequest, association_id: Id, data: AssociationNoteIn) -> Association:
    """End the association at the partner's request (rejected; reason partner_request; not disputable)."""
    association = _association(request, association_id)
    services.association_withdraw(association=association, actor=_actor(request), note=data.note)
    return _fresh(request, association)


@router.post("/associations/{association_id}/dispute", response={200: AssociationDetailOut, **ERRORS})
def association_dispute(request: HttpRequest, association_id: Id, data: AssociationDisputeIn) -> Association:
    """Dispute a rejection within the program's dispute window (incentives admins)."""
    association = _association(request, association_id)
    services.association_dispute(association=association, actor=_actor(request), reason=data.reason)
    return _fresh(request, association)


@router.post("/associations/{association_id}/comments", response={201: AssociationEventOut, **ERRORS})
def association_comment(
    request: HttpRequest, association_id: Id, data: AssociationCommentIn
) -> Status[AssociationEvent]:
    association = _association(request, association_id)
    event = services.association_comment(
        association=association, actor=_actor(request), message=data.message, internal=data.internal
    )
    return Status(201, event)


@router.get("/associations/{association_id}/history", response={200: list[AssociationEventOut], **ERRORS})
@paginate(Keyset, ordering=("-id",))
def association_history(request: HttpRequest, association_id: Id) -> QuerySet[AssociationEvent]:
    """Everything done to the association, newest first (internal notes for vendor staff only)."""
    user = _actor(request)
    return selectors.timeline(user, _association(request, association_id))


# --- review --------------------------------------------------------------------------------------------


@router.get("/association-queue", response={200: list[AssociationQueueItemOut], **ERRORS})
@paginate(Keyset, ordering=("due_on", "id"))
def association_queue(request: HttpRequest, filters: Query[AssociationQueueQuery]) -> QuerySet[Association]:
    """Associations waiting for a decision, the earliest due first, with the clock in business days."""
    user = _actor(request)
    if not is_vendor_staff(user):
        raise NotFound(_("Not found."))
    return selectors.review_queue(
        user, mine=filters.mine, program_id=filters.program_id, overdue=filters.overdue
    ).prefetch_related("items")


@router.get("/associations/{association_id}/competitors", response={200: list[AssociationCompetitorOut], **ERRORS})
def association_competitors(request: HttpRequest, association_id: Id) -> list[dict[str, Any]]:
    """The other associations claiming the same workloads or subscriptions (vendor staff)."""
    user = _actor(request)
    association = _association(request, association_id)
    if not permissions.can_see_internal(user):
        raise PermissionDenied(_("Only vendor staff see who else claims the customer."))
    out = []
    for c in selectors.competitors(association):
        other = c.other
        submitted = other.submitted_at.date() if other.submitted_at else None
        out.append(
            {
                "item_kind": c.item.kind,
                "item": c.item.value,
                "association_id": other.pk,
                "location_id": other.location_id,
                "partner_id": other.location.partner_id,
                "partner_name": other.location.organisation.name,
                "status": other.status,
                "holding": c.holding,
                "since": other.approved_on if c.holding else submitted,
            }
        )
    return out


@router.post("/associations/{association_id}/take", response={200: AssociationDetailOut, **ERRORS})
def association_take(request: HttpRequest, association_id: Id) -> Association:
    """The caller (a reviewer) takes the association; a submitted one goes under review."""
    association = _association(request, association_id)
    services.association_take(association=association, actor=_actor(request))
    return _fresh(request, association)


@router.post("/associations/{association_id}/approve", response={200: AssociationDetailOut, **ERRORS})
def association_approve(request: HttpRequest, association_id: Id, data: AssociationNoteIn) -> Association:
    """Approve: the workloads and subscriptions are held exclusively, and the customer contact is emailed a
    link to confirm or decline (409 already_associated if another partner holds one of them)."""
    association = _association(request, association_id)
    services.association_approve(association=association, actor=_actor(request), note=data.note)
    return _fresh(request, association)


@router.post("/associations/{association_id}/request-action", response={200: AssociationDetailOut, **ERRORS})
def association_request_action(
    request: HttpRequest, association_id: Id, data: AssociationRequestActionIn
) -> Association:
    """Ask the partner to correct or add something within the program's business days."""
    association = _association(request, association_id)
    services.association_request_action(association=association, actor=_actor(request), message=data.message)
    return _fresh(request, association)


@router.post("/associations/{association_id}/reject", response={200: AssociationDetailOut, **ERRORS})
def association_reject(request: HttpRequest, association_id: Id, data: AssociationRejectIn) -> Association:
    """Reject an association waiting for review, or revoke an approved or in-force one (a note is then
    required), with a reason from the catalogue."""
    association = _association(request, association_id)
    services.association_reject(association=association, actor=_actor(request), reason=data.reason, note=data.note)
    return _fresh(request, association)


# --- program settings ----------------------------------------------------------------------------------


@router.get("/programs/{program_id}/association-settings", response={200: AssociationSettingsOut, **ERRORS})
def association_settings(request: HttpRequest, program_id: Id) -> dict[str, Any]:
    """The program's solution areas, partner roles, workloads and association deadlines."""
    return _settings(program_for(_actor(request), program_id))


@router.patch("/programs/{program_id}/association-settings", response={200: AssociationSettingsOut, **ERRORS})
def association_settings_update(request: HttpRequest, program_id: Id, data: AssociationSettingsIn) -> dict[str, Any]:
    """Change the deadlines and whether earnings need an association in force (program managers)."""
    user = _actor(request)
    program = program_for(user, program_id)
    configuration.association_policy_update(
        program=program, actor=user, **data.model_dump(exclude_unset=True, exclude_none=True)
    )
    return _settings(program_for(user, program_id))


@router.post("/programs/{program_id}/association-options", response={201: AssociationOptionOut, **ERRORS})
def association_option_add(
    request: HttpRequest, program_id: Id, data: AssociationOptionIn
) -> Status[AssociationOption]:
    """Add a solution area, partner role or workload to the program's lists (program managers)."""
    user = _actor(request)
    program = program_for(user, program_id)
    option = configuration.association_option_add(
        program=program, kind=data.kind, code=data.code, label=data.label, actor=user
    )
    return Status(201, option)


@router.patch("/association-options/{option_id}", response={200: AssociationOptionOut, **ERRORS})
def association_option_update(request: HttpRequest, option_id: Id, data: AssociationOptionPatchIn) -> AssociationOption:
    """Rename an option or switch it off and on (associations keep the options they chose)."""
    user = _actor(request)
    option = selectors.option_for(user, option_id)
    return configuration.association_option_update(
        option=option, actor=user, label=data.label, is_active=data.is_active
    )
