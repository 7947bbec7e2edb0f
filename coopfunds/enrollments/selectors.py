from typing import Any

from coopfunds.accounts.models import User


def partner_home(user: User) -> dict[str, Any]:
    return {}


def vendor_home(user: User) -> dict[str, Any]:
    return {}
