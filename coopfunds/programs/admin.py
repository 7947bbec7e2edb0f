from django.contrib import admin

from coopfunds.programs.models import ActivityType, Cap, DocumentRequirement, Holiday, Program


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "vendor", "currency", "is_active"]
    search_fields = ["name", "code"]
    inlines = [HolidayInline]

    # Changes go through the services (validated and audited): the admin site only reads.
    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class DocumentRequirementInline(admin.TabularInline):
    model = DocumentRequirement
    extra = 0


class CapInline(admin.TabularInline):
    model = Cap
    extra = 0


@admin.register(ActivityType)
class ActivityTypeAdmin(ProgramAdmin):
    list_display = ["name", "code", "program", "fiscal_year", "category", "is_active"]
    list_filter = ["program", "fiscal_year", "category"]
    inlines = [DocumentRequirementInline, CapInline]  # type: ignore[list-item]
