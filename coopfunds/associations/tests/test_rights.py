"""Who may take each action, called on the services themselves (every interface goes through them): the
allowed personas change something; everybody else is refused and nothing changes at all."""

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from coopfunds.associations import services
from coopfunds.associations.tests.helpers import (
    BERLIN,
    VENDOR,
    approved,
    draft,
    fields,
    pdf,
    rejected,
    state,
    submitted,
)
from coopfunds.core.errors import NotFound

pytestmark = pytest.mark.django_db
PERSONAS = ["partner_admin", "partner_user", "other_admin", "program_manager", "reviewer", "finance", "auditor"]

# (name, make the association, act as `actor`, who may)
Action = tuple[str, Callable[[Any], Any], Callable[[Any, Any, Any], Any], set[str]]
ACTIONS: list[Action] = [
    (
        "update",
        draft,
        lambda w, a, u: services.association_update(association=a, actor=u, comments="Renewed."),
        BERLIN,
    ),
    (
        "attach_proof",
        draft,
        lambda w, a, u: services.association_attach_proof(
            association=a, upload=pdf("new.pdf", colour="red"), note="Signed.", actor=u
        ),
        BERLIN,
    ),
    ("submit", draft, lambda w, a, u: services.association_submit(association=a, actor=u), BERLIN),
    ("withdraw", submitted, lambda w, a, u: services.association_withdraw(association=a, actor=u), BERLIN),
    (
        "dispute",
        rejected,
        lambda w, a, u: services.association_dispute(association=a, actor=u, reason="Signed."),
        {"partner_admin"},
    ),
    ("take", submitted, lambda w, a, u: services.association_take(association=a, actor=u), {"reviewer"}),
    ("approve", submitted, lambda w, a, u: services.association_approve(association=a, actor=u), {"reviewer"}),
    (
        "request_action",
        submitted,
        lambda w, a, u: services.association_request_action(association=a, actor=u, message="Sign it."),
        {"reviewer"},
    ),
    (
        "reject",
        submitted,
        lambda w, a, u: services.association_reject(association=a, actor=u, reason="insufficient_proof"),
        {"reviewer"},
    ),
    (
        "revoke",
        approved,
        lambda w, a, u: services.association_reject(
            association=a, actor=u, reason="customer_mismatch", note="Wrong tenant."
        ),
        {"reviewer"},
    ),
    (
        "comment",
        submitted,
        lambda w, a, u: services.association_comment(association=a, actor=u, message="Hello."),
        BERLIN | {"reviewer"},
    ),
    (
        "internal_note",
        submitted,
        lambda w, a, u: services.association_comment(association=a, actor=u, message="Hm.", internal=True),
        VENDOR,
    ),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("name", "make", "act", "allowed"), ACTIONS, ids=[a[0] for a in ACTIONS])
def test_who_may_act(world_a, persona, name, make, act, allowed):
    association = make(world_a)
    before = state()
    actor = world_a.persona(persona)
    if persona in allowed:
        act(world_a, association, actor)
        assert state() != before
        return
    with pytest.raises(PermissionDenied):
        act(world_a, association, actor)
    assert state() == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_start_an_association_for_berlin(world_a, persona):
    before = state()
    actor = world_a.persona(persona)
    call = lambda: services.association_create(  # noqa: E731
        location=world_a.location, program=world_a.program, actor=actor, **fields()
    )
    if persona in BERLIN:
        assert call().status == "editing"
        return
    with pytest.raises(NotFound if persona == "other_admin" else PermissionDenied):
        call()
    assert state() == before


def test_a_program_limited_grant_covers_only_that_program(world_a):
    from coopfunds.accounts.models import Role
    from coopfunds.testing.factories import ProgramFactory, RoleFactory, UserFactory

    other_program = ProgramFactory.create(vendor=world_a.vendor, code="other")
    limited = UserFactory.create(email="lim@fabrikam.example", organisation=world_a.partner)
    RoleFactory.create(user=limited, role=Role.INCENTIVES_USER, location=world_a.location, program=other_program)
    association = draft(world_a)
    with pytest.raises(PermissionDenied):
        services.association_update(association=association, actor=limited, comments="x")


def test_a_reviewer_never_decides_an_association_they_filed(world_a):
    """A vendor reviewer cannot file for a partner; and a partner's own staff never review (organisation check)."""
    from coopfunds.accounts.models import Role
    from coopfunds.testing.factories import RoleFactory

    RoleFactory.create(user=world_a.partner_admin, role=Role.REVIEWER, location=None)
    association = submitted(world_a)
    with pytest.raises(PermissionDenied):
        services.association_approve(association=association, actor=world_a.partner_admin)
