"""Read-only admin pages: plans and proofs change only through the services (checked, audited, posted)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from coopfunds.plans.models import Plan, Proof


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Plan)
class PlanAdmin(ReadOnly):
    list_display = ["id", "name", "location", "program", "fiscal_year", "status", "approved_amount"]
    list_filter = ["status", "fiscal_year"]
    search_fields = ["name", "location__partner_id", "location__name"]
    list_select_related = ["location", "program"]


@admin.register(Proof)
class ProofAdmin(ReadOnly):
    list_display = ["id", "name", "plan", "status", "amount", "approved_amount", "payable", "carried"]
    list_filter = ["status"]
    search_fields = ["name", "invoice_number", "location__partner_id"]
    list_select_related = ["plan"]
