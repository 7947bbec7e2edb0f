"""What the earnings import asks: is a location's association with a customer in force on a day?"""

from datetime import date

import pytest

from coopfunds.associations import services
from coopfunds.associations.customers import customer_reference_key
from coopfunds.associations.selectors import association_in_force, customer_windows, customers_in_force
from coopfunds.associations.tests.helpers import DOMAIN, TENANT, approved

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("72F988BF-86F1-41AF-91AB-2D7CD011DB47", TENANT),
        ("{72f988bf86f141af91ab2d7cd011db47}", TENANT),
        (" Contoso.COM. ", DOMAIN),
        ("bücher.example", "xn--bcher-kva.example"),
        ("not a customer", "not a customer"),
    ],
)
def test_customer_reference_key(text, key):
    assert customer_reference_key(text) == key


def in_force(world, reference, on, location=None, program=None):  # type: ignore[no-untyped-def]
    return association_in_force(
        location_id=(location or world.location).pk,
        program_id=(program or world.program).pk,
        customer_reference=reference,
        on=on,
    )


def test_in_force_from_the_approval_day_once_the_window_passed(world_a, at):
    approved(world_a)
    assert in_force(world_a, DOMAIN, date(2026, 11, 25)) is False  # consent window still open
    at(date(2026, 11, 28))
    services.consent_windows_close()
    assert [in_force(world_a, ref, date(2026, 11, 20)) for ref in (DOMAIN, "CONTOSO.com", TENANT.upper())] == [True] * 3
    assert in_force(world_a, DOMAIN, date(2026, 11, 19)) is False
    assert in_force(world_a, DOMAIN, date(2026, 11, 20), location=world_a.second_location) is False
    assert in_force(world_a, "fabrikam.com", date(2026, 11, 20)) is False


def test_an_ended_association_counted_until_it_ended(world_a, at):
    association = approved(world_a)
    at(date(2026, 11, 28))
    services.consent_windows_close()
    at(date(2026, 12, 3))
    services.association_withdraw(association=association, actor=world_a.partner_admin)
    assert [in_force(world_a, DOMAIN, day) for day in (date(2026, 12, 2), date(2026, 12, 3))] == [True, False]


def test_bulk_lookups_for_the_import(world_a, at):
    approved(world_a)
    at(date(2026, 11, 28))
    services.consent_windows_close()
    loc = world_a.location.pk
    assert customers_in_force(world_a.program.pk) == {(loc, TENANT), (loc, DOMAIN)}
    assert customers_in_force(world_a.program.pk, on=date(2026, 11, 19)) == set()
    assert customer_windows(world_a.program.pk) == {
        (loc, TENANT): [(date(2026, 11, 20), None)],
        (loc, DOMAIN): [(date(2026, 11, 20), None)],
    }
