"""The customer's consent link: signed, expiring, single use, naming nothing; confirm puts the association in
force, decline rejects it."""

from datetime import date, timedelta

import pytest
from django.core import signing

from coopfunds.associations import consent, services
from coopfunds.associations.models import AssociationEvent
from coopfunds.associations.tests.helpers import state
from coopfunds.audit.models import AuditEvent
from coopfunds.core.errors import NotFound
from coopfunds.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_the_token_is_a_signed_nonce_whose_hash_alone_is_stored(link):
    association, token = link
    nonce = signing.TimestampSigner(salt=consent.SALT).unsign(token)
    assert len(nonce) == 43
    assert association.consent_nonce_hash == consent.nonce_hash(nonce)
    assert nonce not in str(AuditEvent.objects.values_list("changes", "reason"))


def test_confirming_puts_it_in_force_at_once_and_works_once(world_a, link):
    association, token = link
    done = services.association_consent_answer(token=token, confirm=True)
    assert (done.status, done.in_force_from, done.consent_answer, done.consent_nonce_hash) == (
        "in_force",
        date(2026, 11, 20),
        "confirmed",
        "",
    )
    event = AssociationEvent.objects.filter(association=association, kind="consent").get()
    assert (event.who, event.message) == ("Customer contact", "Confirmed by the customer contact (carla@contoso.com).")
    assert AuditEvent.objects.filter(verb="association.in_force", actor_label="system").count() == 1
    before = state()
    with pytest.raises(NotFound):
        services.association_consent_answer(token=token, confirm=False)
    assert state() == before


def test_declining_rejects_with_reason_customer_decline(world_a, link):
    _, token = link
    done = services.association_consent_answer(token=token, confirm=False)
    assert (done.status, done.rejection_reason, done.consent_answer) == ("rejected", "customer_decline", "declined")
    assert [i.holds for i in done.items.all()] == [False, False]
    body = Notification.objects.get(user=world_a.partner_admin, subject__contains="rejected").body
    assert body == (
        "Reason: Customer decline. The customer contact declined. You can dispute the rejection until 20 Dec 2026."
    )


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature altered
        lambda t: "x" + t,  # nonce altered
        lambda t: signing.TimestampSigner(salt="another").sign(t.split(":")[0]),  # signed for something else
        lambda t: "",
        lambda t: "../../etc/passwd",
    ],
)
def test_altered_tokens_are_refused(link, mangle):
    _, token = link
    before = state()
    with pytest.raises(NotFound):
        services.association_consent_answer(token=mangle(token), confirm=False)
    assert state() == before


@pytest.mark.parametrize(("day", "valid"), [(date(2026, 11, 27), True), (date(2026, 11, 28), False)])
def test_the_link_works_until_the_window_closes(link, at, day, valid):
    association, token = link
    at(day)
    if valid:
        assert services.association_for_consent(token).pk == association.pk
    else:
        with pytest.raises(NotFound):
            services.association_for_consent(token)


def test_the_signature_expires(link, at):
    _, token = link
    assert consent.token_hash(token, max_age=timedelta(days=1)) is not None
    at(date(2026, 11, 22))
    assert consent.token_hash(token, max_age=timedelta(days=1)) is None


def test_a_withdrawn_association_s_link_is_dead(world_a, link):
    association, token = link
    services.association_withdraw(association=association, actor=world_a.partner_admin)
    with pytest.raises(NotFound):
        services.association_for_consent(token)
