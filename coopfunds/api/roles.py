"""Who may call each operation of the API: one table. It is stated in the OpenAPI document (`x-roles` and a
line of the description) and enforced before the operation reads its input: a caller who holds none of the
roles gets 403 `forbidden`. The services still decide on the object itself (which location, which program,
whose claim); this table is the part of that rule a client can know from the schema."""

import re
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.translation import gettext, gettext_lazy

from coopfunds.accounts.models import Role, User

IA, IU = Role.INCENTIVES_ADMIN, Role.INCENTIVES_USER
PM, RV, FI, AU = Role.PROGRAM_MANAGER, Role.REVIEWER, Role.FINANCE, Role.AUDITOR
PARTNER = frozenset({IA, IU})
VENDOR = frozenset({PM, RV, FI, AU})
ANYONE = PARTNER | VENDOR


def _(*roles: Role) -> frozenset[Role]:
    return frozenset(roles)


# "METHOD /path" (below /api/v1) -> the roles that may call it.
ROLES: dict[str, frozenset[Role]] = {
    # accounts
    "GET /me": ANYONE,
    "PATCH /me": ANYONE,
    "GET /organisations": ANYONE,
    "POST /organisations": _(PM),
    "GET /organisations/{organisation_id}": ANYONE,
    "GET /locations": ANYONE,
    "POST /locations": _(PM),
    "GET /locations/{location_id}": ANYONE,
    "GET /users": ANYONE,
    "POST /users": _(IA, PM),
    "GET /users/{user_id}": ANYONE,
    "POST /users/{user_id}/roles": _(IA, PM),
    "DELETE /role-assignments/{assignment_id}": _(IA, PM),
    "POST /users/{user_id}/deactivate": _(IA, PM),
    "POST /users/{user_id}/reactivate": _(IA, PM),
    "GET /tokens": ANYONE,
    "POST /tokens": ANYONE,
    "POST /tokens/{token_id}/revoke": ANYONE,
    # sign-in
    "GET /organisations/{organisation_id}/sign-in-rules": _(IA, PM),
    "PUT /organisations/{organisation_id}/sign-in-rules": _(IA, PM),
    "GET /identity-providers": _(PM),
    "POST /identity-providers": _(PM),
    "GET /identity-providers/{provider_id}": _(PM),
    "PATCH /identity-providers/{provider_id}": _(PM),
    "DELETE /identity-providers/{provider_id}": _(PM),
    "GET /me/authenticators": ANYONE,
    "GET /users/{user_id}/authenticators": ANYONE,
    "POST /users/{user_id}/mfa-reset": _(IA, PM),
    # programs
    "GET /programs": ANYONE,
    "POST /programs": _(PM),
    "GET /programs/{program_id}": ANYONE,
    "PATCH /programs/{program_id}": _(PM),
    "GET /programs/{program_id}/periods": ANYONE,
    "GET /programs/{program_id}/rule-versions": VENDOR,
    "POST /programs/{program_id}/holidays": _(PM),
    "DELETE /holidays/{holiday_id}": _(PM),
    "GET /programs/{program_id}/activity-types": ANYONE,
    "POST /programs/{program_id}/activity-types": _(PM),
    "POST /programs/{program_id}/activity-types/copy": _(PM),
    "GET /activity-types/{activity_type_id}": ANYONE,
    "PATCH /activity-types/{activity_type_id}": _(PM),
    "POST /caps/{cap_id}/exempt": _(PM),
    "POST /caps/{cap_id}/apply": _(PM),
    # enrollments and profiles
    "GET /enrollments": ANYONE,
    "POST /enrollments": _(PM),
    "GET /enrollments/{enrollment_id}": ANYONE,
    "POST /enrollments/{enrollment_id}/accept": _(IA),
    "POST /enrollments/{enrollment_id}/approve": _(PM, RV),
    "POST /enrollments/{enrollment_id}/set-status": _(PM),
    "POST /enrollments/{enrollment_id}/reactivate": _(PM),
    "GET /locations/{location_id}/payout-profiles": ANYONE,
    "POST /locations/{location_id}/payout-profiles": _(IA),
    "GET /payout-profiles/{profile_id}": ANYONE,
    "POST /payout-profiles/{profile_id}/approve": _(PM, RV),
    "POST /payout-profiles/{profile_id}/request-action": _(PM, RV),
    "GET /locations/{location_id}/tax-profiles": ANYONE,
    "POST /locations/{location_id}/tax-profiles": _(IA),
    "GET /tax-profiles/{profile_id}": ANYONE,
    "GET /tax-profiles/{profile_id}/document": ANYONE,
    "POST /tax-profiles/{profile_id}/approve": _(PM, RV),
    "POST /tax-profiles/{profile_id}/request-action": _(PM, RV),
    # funds
    "GET /funds": ANYONE,
    "GET /funds/{fund_id}": ANYONE,
    "GET /funds/{fund_id}/transactions": ANYONE,
    "GET /transactions": ANYONE,
    "POST /funds/{fund_id}/adjustments": _(PM),
    # budgets (market development funds)
    "GET /budgets": VENDOR,
    "POST /budgets": _(PM),
    "GET /budgets/{budget_id}": VENDOR,
    "PUT /budgets/{budget_id}/total": _(PM),
    "GET /budgets/{budget_id}/allocations": VENDOR,
    "GET /budgets/{budget_id}/transactions": VENDOR,
    "PUT /budgets/{budget_id}/allocations/{location_id}": _(PM),
    "GET /allocations": ANYONE,
    "GET /allocations/{allocation_id}": ANYONE,
    "POST /allocations/{allocation_id}/move": _(PM),
    # fund requests (market development funds)
    "GET /fund-requests": ANYONE,
    "POST /fund-requests": PARTNER,
    "GET /fund-requests/{request_id}": ANYONE,
    "PUT /fund-requests/{request_id}": PARTNER,
    "GET /fund-requests/{request_id}/history": ANYONE,
    "POST /fund-requests/{request_id}/submit": PARTNER,
    "POST /fund-requests/{request_id}/withdraw": PARTNER,
    "POST /fund-requests/{request_id}/assign": _(RV),
    "POST /fund-requests/{request_id}/approve": _(RV),
    "POST /fund-requests/{request_id}/request-changes": _(RV),
    "POST /fund-requests/{request_id}/reject": _(RV),
    "POST /fund-requests/{request_id}/give-back": PARTNER | _(PM),
    "PUT /fund-requests/{request_id}/results": PARTNER,
    "GET /review/fund-requests": VENDOR,
    "POST /period-jobs": _(PM),
    "GET /earnings-imports": _(PM, FI, AU),
    "POST /earnings-imports": _(PM, FI),
    "GET /earnings-imports/{import_id}": _(PM, FI, AU),
    # documents
    "GET /locations/{location_id}/documents": ANYONE,
    "POST /locations/{location_id}/documents": PARTNER,
    "GET /documents/{document_id}": ANYONE,
    "DELETE /documents/{document_id}": PARTNER,
    "GET /documents/{document_id}/download": ANYONE,
    "POST /documents/{document_id}/versions": PARTNER,
    # associations
    "GET /associations": ANYONE,
    "POST /associations": PARTNER,
    "GET /associations/{association_id}": ANYONE,
    "PATCH /associations/{association_id}": PARTNER,
    "POST /associations/{association_id}/proof": PARTNER,
    "POST /associations/{association_id}/submit": PARTNER,
    "POST /associations/{association_id}/withdraw": PARTNER,
    "POST /associations/{association_id}/dispute": _(IA),
    "POST /associations/{association_id}/comments": PARTNER | _(RV),
    "GET /associations/{association_id}/history": ANYONE,
    "GET /association-queue": VENDOR,
    "GET /associations/{association_id}/competitors": VENDOR,
    "POST /associations/{association_id}/take": _(RV),
    "POST /associations/{association_id}/approve": _(RV),
    "POST /associations/{association_id}/request-action": _(RV),
    "POST /associations/{association_id}/reject": _(RV),
    "GET /programs/{program_id}/association-settings": ANYONE,
    "PATCH /programs/{program_id}/association-settings": _(PM),
    "POST /programs/{program_id}/association-options": _(PM),
    "PATCH /association-options/{option_id}": _(PM),
    # plans
    "GET /plans": ANYONE,
    "POST /plans": _(IA),
    "GET /plans/{plan_id}": ANYONE,
    "PATCH /plans/{plan_id}": _(IA),
    "GET /plans/{plan_id}/versions": ANYONE,
    "GET /plans/{plan_id}/changes": ANYONE,
    "GET /plans/{plan_id}/history": ANYONE,
    "POST /plans/{plan_id}/campaigns": _(IA),
    "PATCH /campaigns/{campaign_id}": _(IA),
    "DELETE /campaigns/{campaign_id}": _(IA),
    "POST /campaigns/{campaign_id}/activities": _(IA),
    "PATCH /plan-activities/{activity_id}": _(IA),
    "DELETE /plan-activities/{activity_id}": _(IA),
    "POST /plans/{plan_id}/submit": _(IA),
    "POST /plans/{plan_id}/reopen": _(IA),
    "POST /plans/{plan_id}/amend": _(IA),
    "POST /plans/{plan_id}/assign": _(RV),
    "POST /plans/{plan_id}/approve": _(RV),
    "POST /plans/{plan_id}/request-changes": _(RV),
    "POST /plans/{plan_id}/reject": _(RV),
    "POST /plans/{plan_id}/comments": PARTNER | _(RV),
    "GET /review/plans": VENDOR,
    "GET /programs/{program_id}/plan-rules": ANYONE,
    "PATCH /programs/{program_id}/plan-rules": _(PM),
    # proofs of execution
    "GET /proofs": ANYONE,
    "POST /plan-activities/{activity_id}/proofs": PARTNER,
    "GET /proofs/{proof_id}": ANYONE,
    "GET /proofs/{proof_id}/checks": ANYONE,
    "PATCH /proofs/{proof_id}": PARTNER,
    "POST /proofs/{proof_id}/documents": PARTNER,
    "DELETE /proofs/{proof_id}/documents/{document_id}": PARTNER,
    "POST /proofs/{proof_id}/certification": PARTNER,
    "POST /proofs/{proof_id}/submit": PARTNER,
    "POST /proofs/{proof_id}/withdraw": PARTNER,
    "POST /proofs/{proof_id}/dispute": _(IA),
    "POST /proofs/{proof_id}/assign": _(RV),
    "POST /proofs/{proof_id}/approve": _(RV),
    "POST /proofs/{proof_id}/request-action": _(RV),
    "POST /proofs/{proof_id}/reject": _(RV),
    "GET /proofs/{proof_id}/history": ANYONE,
    "GET /review/proofs": VENDOR,
    # payments
    "GET /payments": ANYONE,
    "GET /payments/statement": ANYONE,
    "GET /payments/{payment_id}": ANYONE,
    "GET /payments/{payment_id}/remittance": ANYONE,
    "POST /payments/{payment_id}/sent": _(FI),
    "POST /payments/{payment_id}/failed": _(FI),
    "POST /payments/{payment_id}/reprocess": _(FI),
    "POST /payments/{payment_id}/reversed": _(FI),
    "POST /payments/{payment_id}/rejected": _(FI),
    "POST /payments/{payment_id}/incorrect": _(FI),
    "POST /payments/{payment_id}/recouped": _(FI),
    "POST /payments/{payment_id}/tax-invoice": _(IA),
    "POST /payments/{payment_id}/tax-invoice/approve": _(FI),
    "POST /payments/{payment_id}/tax-invoice/reject": _(FI),
    "POST /payments/{payment_id}/disputes": _(IA),
    "GET /payment-disputes": ANYONE,
    "POST /payment-disputes/{dispute_id}/resolve": _(FI),
    "GET /payment-runs": VENDOR,
    "POST /payment-runs": _(FI),
    "GET /payment-runs/{run_id}": VENDOR,
    "POST /payment-runs/{run_id}/approve": _(FI),
    "POST /payment-runs/{run_id}/export": _(FI),
    "POST /payment-runs/{run_id}/cancel": _(FI),
    "GET /payment-runs/{run_id}/files": _(FI),
    "GET /payment-runs/{run_id}/files/{file_id}": _(FI),
    "GET /exchange-rates": VENDOR,
    "POST /exchange-rates": _(FI),
    "POST /exchange-rates/import": _(FI),
    "GET /paying-entities": VENDOR,
    "POST /paying-entities": _(FI),
    "POST /paying-entities/{entity_id}/programs": _(FI),
    # claims
    "GET /claims": ANYONE,
    "POST /claims": PARTNER,
    "GET /claims/{claim_id}": ANYONE,
    "PATCH /claims/{claim_id}": PARTNER,
    "GET /claims/{claim_id}/checks": ANYONE,
    "POST /claims/{claim_id}/documents": PARTNER,
    "DELETE /claims/{claim_id}/documents/{document_id}": PARTNER,
    "POST /claims/{claim_id}/submit": PARTNER,
    "POST /claims/{claim_id}/withdraw": PARTNER,
    "POST /claims/{claim_id}/dispute": _(IA),
    "POST /claims/{claim_id}/comments": ANYONE,
    "POST /claims/{claim_id}/document-requests": PARTNER,
    "GET /claims/{claim_id}/timeline": ANYONE,
    "POST /claims/{claim_id}/assign": _(RV),
    "POST /claims/{claim_id}/approve": _(RV),
    "POST /claims/{claim_id}/request-action": _(RV),
    "POST /claims/{claim_id}/reject": _(RV),
    "GET /review-queue": VENDOR,
    "GET /reason-codes": ANYONE,
    # review desk
    "GET /review/queue": VENDOR,
    "POST /review/approve": VENDOR,
    # notifications
    "GET /notifications": ANYONE,
    "POST /notifications/read": ANYONE,
    "GET /me/email-settings": ANYONE,
    # audit
    "GET /audit-events": _(PM, AU),
    "GET /audit-events/export": _(PM, AU),
    # webhooks
    "GET /webhooks": _(PM),
    "POST /webhooks": _(PM),
    "PATCH /webhooks/{endpoint_id}": _(PM),
    "POST /webhooks/{endpoint_id}/rotate-secret": _(PM),
    "GET /webhooks/{endpoint_id}/deliveries": _(PM),
    "POST /webhook-deliveries/{delivery_id}/redeliver": _(PM),
    "PUT /me/email-settings": ANYONE,
}

ORDER = [IA, IU, PM, RV, FI, AU]
PREFIX = "/api/v1"
_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


# Who, in the caller's language (the OpenAPI document states it untranslated: `describe`).
WORDS = {
    IA: gettext_lazy("incentives admins"),
    IU: gettext_lazy("incentives users"),
    PM: gettext_lazy("program managers"),
    RV: gettext_lazy("reviewers"),
    FI: gettext_lazy("finance staff"),
    AU: gettext_lazy("auditors"),
}


def roles_for(method: str, url: str) -> frozenset[Role] | None:
    """The roles of the operation a request to `url` reaches (None: not an API operation)."""
    try:
        route = resolve(urlsplit(url).path).route
    except Resolver404:
        return None
    path = "/" + _PARAM.sub(r"{\1}", route)
    return ROLES.get(f"{method.upper()} {path.removeprefix(PREFIX)}")


def gate(request: HttpRequest, user: User) -> None:
    """Refuse (403) a caller who holds none of the operation's roles, anywhere."""
    match = request.resolver_match
    path = "/" + _PARAM.sub(r"{\1}", match.route) if match is not None and match.route else ""
    roles = ROLES.get(f"{request.method} {path.removeprefix(PREFIX)}")
    if roles is None or roles == ANYONE:
        return
    if not any(grant.role in roles for grant in user.grants):
        raise PermissionDenied(gettext("Only %(who)s may do this.") % {"who": _words(roles)})


def _words(roles: frozenset[Role]) -> str:
    """ "program managers and reviewers", in the active language."""
    names = [str(WORDS[role]) for role in ORDER if role in roles]
    if roles == PARTNER:
        names = [gettext("partners' incentives admins and users")]
    elif roles == VENDOR:
        names = [gettext("vendor staff")]
    if len(names) == 1:
        return names[0]
    return gettext("%(names)s and %(last)s") % {"names": ", ".join(names[:-1]), "last": names[-1]}


def describe(schema: dict[str, Any]) -> dict[str, Any]:
    """State each operation's roles in the OpenAPI document: `x-roles` and the description's last line (in
    English, like the rest of the document, whatever the language of the request for it)."""
    with translation.override(None):
        return _describe(schema)


def _describe(schema: dict[str, Any]) -> dict[str, Any]:
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            roles = ROLES[f"{method.upper()} {path.removeprefix(PREFIX)}"]
            operation["x-roles"] = [str(role) for role in ORDER if role in roles]
            who = (
                "Anyone signed in."
                if roles == ANYONE
                else f"{_words(roles)[0].upper()}{_words(roles)[1:]} only; others get 403 `forbidden`."
            )
            operation["description"] = (
                operation.get("description", "").rstrip() + f"\n\n**Who may call:** {who}"
            ).lstrip()
    return schema
