from django.contrib import admin

from coopfunds.associations.models import Association, AssociationEvent, AssociationItem, AssociationOption


class ReadOnly(admin.ModelAdmin):
    """Changes go through the services (validated and audited): the admin site only reads."""

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class ItemInline(admin.TabularInline):
    model = AssociationItem
    extra = 0
    can_delete = False


class EventInline(admin.TabularInline):
    model = AssociationEvent
    extra = 0
    can_delete = False


@admin.register(Association)
class AssociationAdmin(ReadOnly):
    list_display = ["id", "customer_name", "customer_domain", "location", "program", "status"]
    list_filter = ["status", "program"]
    search_fields = ["customer_name", "customer_domain", "customer_tenant_id", "location__partner_id"]
    exclude = ["consent_nonce_hash"]
    inlines = [ItemInline, EventInline]


@admin.register(AssociationOption)
class AssociationOptionAdmin(ReadOnly):
    list_display = ["label", "kind", "code", "program", "is_active"]
    list_filter = ["kind", "program"]
