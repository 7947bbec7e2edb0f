"""Who sees which organisations, locations and people; what each persona may give; pure predicates."""

import pytest
from django.contrib.auth.models import AnonymousUser

from coopfunds.accounts import permissions, selectors
from coopfunds.accounts.models import Role
from coopfunds.core.errors import NotFound

VENDOR = ["program_manager", "reviewer", "finance", "auditor"]
EVERY_LOCATION = ["FAB-001", "FAB-002", "NW-001"]
EVERYONE = [
    "ada.admin@fabrikam.example",
    "aud.auditor@contoso.example",
    "fin.finance@contoso.example",
    "olga.admin@northwind.example",
    "pat.manager@contoso.example",
    "rita.reviewer@contoso.example",
    "uma.user@fabrikam.example",
]


def viewer(world, persona):  # type: ignore[no-untyped-def]
    return world.persona(persona) or AnonymousUser()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        *[(p, EVERY_LOCATION) for p in VENDOR],
        ("partner_admin", ["FAB-001", "FAB-002"]),
        ("partner_user", ["FAB-001"]),
        ("other_admin", ["NW-001"]),
        ("anonymous", []),
    ],
)
def test_locations_visible_to(world, persona, expected):
    qs = selectors.locations_visible_to(viewer(world, persona))
    assert sorted(qs.values_list("partner_id", flat=True)) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        *[(p, ["Fabrikam", "Northwind"]) for p in VENDOR],
        ("partner_admin", ["Fabrikam"]),
        ("partner_user", ["Fabrikam"]),
        ("other_admin", ["Northwind"]),
        ("anonymous", []),
    ],
)
def test_partners_visible_to(world, persona, expected):
    assert list(selectors.partners_visible_to(viewer(world, persona)).values_list("name", flat=True)) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [("north", ["Northwind"]), ("FAB-002", ["Fabrikam"]), ("oslo", ["Northwind"]), ("nothing", [])],
)
def test_partner_search_covers_names_partner_ids_and_locations(world, query, expected):
    qs = selectors.partners_visible_to(world.program_manager, query)
    assert list(qs.values_list("name", flat=True)) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        *[(p, EVERYONE) for p in VENDOR],
        ("partner_admin", ["ada.admin@fabrikam.example", "uma.user@fabrikam.example"]),
        ("partner_user", ["uma.user@fabrikam.example"]),
        ("other_admin", ["olga.admin@northwind.example"]),
        ("anonymous", []),
    ],
)
def test_users_visible_to(world, persona, expected):
    assert list(selectors.users_visible_to(viewer(world, persona)).values_list("email", flat=True)) == expected


@pytest.mark.django_db
def test_a_partner_never_finds_another_partners_rows(world):
    for finder, pk in [
        (selectors.location_for, world.location.pk),
        (selectors.organisation_for, world.partner.pk),
        (selectors.user_for, world.partner_user.pk),
        (selectors.role_assignment_for, world.partner_user.role_assignments.get().pk),
    ]:
        with pytest.raises(NotFound):
            finder(world.other_admin, pk)


@pytest.mark.django_db
def test_a_partner_user_does_not_find_a_sibling_location_they_hold_no_role_at(world):
    with pytest.raises(NotFound) as caught:
        selectors.location_for(world.partner_user, world.second_location.pk)
    assert caught.value.message == "No such location."


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("program_manager", [Role.INCENTIVES_ADMIN, Role.PROGRAM_MANAGER, Role.REVIEWER, Role.FINANCE, Role.AUDITOR]),
        ("partner_admin", [Role.INCENTIVES_ADMIN, Role.INCENTIVES_USER]),
        ("other_admin", [Role.INCENTIVES_ADMIN, Role.INCENTIVES_USER]),
        ("partner_user", []),
        ("reviewer", []),
        ("finance", []),
        ("auditor", []),
        ("anonymous", []),
    ],
)
def test_grantable_roles(world, persona, expected):
    assert permissions.grantable_roles(viewer(world, persona)) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("program_manager", ["FAB-001", "FAB-002"]),
        ("partner_admin", ["FAB-001", "FAB-002"]),
        ("partner_user", []),
        ("other_admin", []),
        ("reviewer", []),
    ],
)
def test_locations_administered_by(world, persona, expected):
    qs = selectors.locations_administered_by(world.persona(persona), world.partner)
    assert sorted(qs.values_list("partner_id", flat=True)) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "partner", "vendor"),
    [
        ("program_manager", True, True),
        ("partner_admin", True, False),
        ("other_admin", False, False),
        ("partner_user", False, False),
        ("reviewer", False, False),
        ("finance", False, False),
        ("auditor", False, False),
        ("anonymous", False, False),
    ],
)
def test_can_invite_to(world, persona, partner, vendor):
    user = viewer(world, persona)
    assert (permissions.can_invite_to(user, world.partner), permissions.can_invite_to(user, world.vendor)) == (
        partner,
        vendor,
    )


@pytest.mark.django_db
def test_a_deactivated_admin_holds_nothing(world):
    world.partner_admin.is_active = False
    assert permissions.grantable_roles(world.partner_admin) == []
    assert permissions.holds(world.partner_admin, Role.INCENTIVES_ADMIN, location=world.location) is False
    assert (
        permissions.can_grant(
            world.partner_admin,
            target=world.partner_user,
            role=Role.INCENTIVES_USER,
            location=world.second_location,
            program=None,
        )
        is False
    )
