from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from coopfunds.accounts import permissions
from coopfunds.notifications.selectors import unread_count


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the navigation shows: links by role. The pages themselves check rights again."""
    user = request.user
    if not user.is_authenticated:
        return {}
    vendor = permissions.is_vendor_staff(user)
    if permissions.can_manage_partners(user):
        sign_in_settings = reverse("provider_list")
    elif permissions.can_manage_users_of(user, user.organisation):  # type: ignore[arg-type]
        sign_in_settings = reverse("organisation_sign_in", args=[user.organisation_id])  # type: ignore[union-attr]
    else:
        sign_in_settings = ""
    return {
        "nav_sign_in_settings": sign_in_settings,
        "nav_vendor": vendor,
        "nav_partner": permissions.is_partner_user(user),
        "nav_manage_users": permissions.holds_anywhere(
            user, {permissions.Role.INCENTIVES_ADMIN, permissions.Role.PROGRAM_MANAGER}
        ),
        "nav_manage_partners": permissions.can_manage_partners(user),
        "nav_finance": permissions.holds_anywhere(user, {permissions.Role.FINANCE, permissions.Role.AUDITOR}),
        "nav_audit": permissions.can_read_audit_log(user),
        "nav_webhooks": vendor and permissions.holds_anywhere(user, permissions.Role.PROGRAM_MANAGER),
        "nav_unread": unread_count(user),  # type: ignore[arg-type]
    }
