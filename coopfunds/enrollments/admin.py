"""Read-only admin pages. Status changes go through the services (and their audit rows), never the admin,
and the admin never shows bank details: payout profiles show only the masked account."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from coopfunds.enrollments.models import Enrollment, PayoutProfile, TaxProfile


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Enrollment)
class EnrollmentAdmin(ReadOnlyAdmin):
    list_display = ["id", "location", "program", "status", "earnings_start", "updated_at"]
    list_filter = ["status", "program"]
    search_fields = ["location__name", "location__partner_id", "program__code"]
    list_select_related = ["location", "program"]


@admin.register(PayoutProfile)
class PayoutProfileAdmin(ReadOnlyAdmin):
    # The encrypted fields are left out of every list, form and search: only the masked hint is shown.
    fields = readonly_fields = (
        "location",
        "is_current",
        "status",
        "status_reason",
        "method",
        "currency",
        "beneficiary_name",
        "bank_name",
        "bank_country",
        "masked_account",
        "submitted_by",
        "validated_by",
        "validated_at",
        "created_at",
    )
    list_display = ["id", "location", "method", "currency", "masked_account", "status", "is_current", "created_at"]
    list_filter = ["status", "method", "is_current"]
    search_fields = ["location__name", "location__partner_id", "beneficiary_name"]
    list_select_related = ["location"]


@admin.register(TaxProfile)
class TaxProfileAdmin(ReadOnlyAdmin):
    fields = readonly_fields = (
        "location",
        "is_current",
        "status",
        "status_reason",
        "country",
        "tax_id",
        "legal_name",
        "expires_on",
        "submitted_by",
        "validated_by",
        "validated_at",
        "created_at",
    )
    list_display = ["id", "location", "country", "tax_id", "expires_on", "status", "is_current"]
    list_filter = ["status", "is_current"]
    search_fields = ["location__name", "location__partner_id", "tax_id", "legal_name"]
    list_select_related = ["location"]
